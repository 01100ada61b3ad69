// What COPY and MOVE decide before they act (copy_move_plan.h), over a real PosixFileSystem.
#include "webdav/copy_move_plan.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "storage/posix_file_system.h"

namespace keepdav::webdav {
namespace {

namespace fsys = std::filesystem;

class CopyMovePlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fsys::temp_directory_path() / "keepdav-plan-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fsys::create_directories(root_ + "/src/sub");
    std::ofstream(root_ + "/src/sub/f") << "data";
    std::ofstream(root_ + "/file") << "x";
    fsys::create_directories(root_ + "/old");
    auto fs = storage::PosixFileSystem::Open(root_, storage::PosixFileSystem::Options());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
  }
  void TearDown() override {
    fs_.reset();
    std::error_code ec;
    fsys::remove_all(root_, ec);
  }

  // Plans `method` of `from` to `to` with the given Depth and Overwrite (empty: absent).
  DavError Plan(bool move, const std::string& from, const std::string& to, CopyMovePlan* plan,
                const std::string& depth = "", const std::string& overwrite = "") {
    DavRequest req;
    req.method = move ? "MOVE" : "COPY";
    if (!depth.empty()) req.headers["Depth"] = depth;
    if (!overwrite.empty()) req.headers["Overwrite"] = overwrite;
    req.path = storage::ResourcePath::Parse(from).value();
    req.destination = storage::ResourcePath::Parse(to).value();
    req.depth = DepthHeader::Parse(req.Header("Depth"));
    return PlanCopyOrMove(req, move, *fs_, plan);
  }

  std::string root_;
  std::unique_ptr<storage::PosixFileSystem> fs_;
};

TEST_F(CopyMovePlanTest, CopyOfATreeToANewName) {
  CopyMovePlan plan;
  ASSERT_TRUE(Plan(false, "/src", "/dst", &plan).ok());
  EXPECT_FALSE(plan.move);
  EXPECT_EQ(plan.from.str(), "/src");
  EXPECT_EQ(plan.to.str(), "/dst");
  EXPECT_TRUE(plan.source.IsDirectory());
  EXPECT_EQ(plan.depth, Depth::kInfinity);
  EXPECT_TRUE(plan.overwrite);
  EXPECT_FALSE(plan.destination_existed());
  EXPECT_TRUE(plan.IsLongCopy());
  auto changes = plan.LockedChanges();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].path.str(), "/dst");
  EXPECT_FALSE(changes[0].with_members);
  EXPECT_TRUE(changes[0].adds_or_removes);
}

TEST_F(CopyMovePlanTest, MoveOverAnExistingDestination) {
  CopyMovePlan plan;
  ASSERT_TRUE(Plan(true, "/file", "/old", &plan, "", "T").ok());
  EXPECT_TRUE(plan.move);
  EXPECT_TRUE(plan.destination_existed());
  EXPECT_TRUE(plan.destination->IsDirectory());
  EXPECT_FALSE(plan.IsLongCopy());  // a small file
  auto changes = plan.LockedChanges();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].path.str(), "/file");  // the source first, with its members
  EXPECT_TRUE(changes[0].with_members);
  EXPECT_EQ(changes[1].path.str(), "/old");
  EXPECT_TRUE(changes[1].with_members);  // whatever it replaces
}

TEST_F(CopyMovePlanTest, DepthRules) {
  CopyMovePlan plan;
  EXPECT_TRUE(Plan(false, "/src", "/dst", &plan, "0").ok());
  EXPECT_EQ(plan.depth, Depth::kZero);
  CopyMovePlan file_plan;
  EXPECT_TRUE(Plan(false, "/file", "/dst", &file_plan, "0").ok());
  EXPECT_EQ(file_plan.depth, Depth::kInfinity);  // a file is copied whole
  CopyMovePlan other;
  EXPECT_EQ(Plan(false, "/src", "/dst", &other, "1").status, 400);
  EXPECT_EQ(Plan(false, "/src", "/dst", &other, "2").status, 400);
  EXPECT_EQ(Plan(true, "/src", "/dst", &other, "0").status, 400);
  EXPECT_TRUE(Plan(true, "/src", "/dst", &other, "infinity").ok());
}

TEST_F(CopyMovePlanTest, OverwriteValues) {
  CopyMovePlan plan;
  EXPECT_TRUE(Plan(false, "/file", "/old", &plan, "", "f").ok());
  EXPECT_FALSE(plan.overwrite);
  CopyMovePlan other;
  EXPECT_EQ(Plan(false, "/file", "/old", &other, "", "yes").status, 400);
}

TEST_F(CopyMovePlanTest, Refusals) {
  CopyMovePlan plan;
  EXPECT_EQ(Plan(false, "/missing", "/dst", &plan).status, 404);
  EXPECT_EQ(Plan(false, "/src", "/src", &plan).status, 403);
  EXPECT_EQ(Plan(true, "/", "/dst", &plan).status, 403);
  EXPECT_EQ(Plan(false, "/src", "/src/sub/x", &plan).status, 403);  // inside the source
  EXPECT_EQ(Plan(false, "/src/sub", "/src", &plan).status, 403);    // contains the source
  EXPECT_EQ(Plan(false, "/file", "/nowhere/x", &plan).status, 409);
  EXPECT_EQ(Plan(false, "/src", "/file/x", &plan).status, 409);  // the parent is a file
}

}  // namespace
}  // namespace keepdav::webdav
