// PROPPATCH racing a MOVE of the same tree (issue 12). A PROPPATCH that had found /a/f could
// write its property row after a MOVE of /a to /b had moved /a's rows and renamed the tree: the
// row then named a missing resource (and a new /a/f would inherit it). The window is forced
// open here: every Rename sleeps, the PROPPATCH is sent once the MOVE has reached its rename
// (FaultInjectingFileSystem counts the call before sleeping), so its first Stat still finds
// /a/f. It must then answer 404 and store nothing, and the moved tree keeps its own properties.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "storage/fault_injecting_file_system.h"
#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

using Op = storage::FaultInjectingFileSystem::Operation;

std::string SetBody(const std::string& local, const std::string& value) {
  return "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><R:" + local +
         " xmlns:R=\"urn:race\">" + value + "</R:" + local +
         "></D:prop></D:set></D:propertyupdate>";
}

class MoveRaceTest : public ::testing::TestWithParam<bool> {
 protected:
  MoveRaceTest()
      : server_(webdav::DavSettings(), [this](server::ServerConfig& c) {
          c.wrap_file_system = [this](std::unique_ptr<storage::FileSystem> fs) {
            auto faults = std::make_unique<storage::FaultInjectingFileSystem>(std::move(fs));
            faults_ = faults.get();
            return faults;
          };
        }) {}

  std::string AllProps(const std::string& target) {
    HttpResult r = server_.Request("PROPFIND", target, "", {{"Depth", "0"}});
    EXPECT_EQ(r.status, 207) << target << "\n" << r.body;
    return r.body;
  }

  storage::FaultInjectingFileSystem* faults_ = nullptr;  // owned by the server
  TestServer server_;
};

// The parameter: whether the tree has dead properties already (the MOVE then goes through the
// journal, which moves the rows before the rename) or not (only the rename).
TEST_P(MoveRaceTest, ProppatchResolvedBeforeMoveCommittedIs404AndLeavesNoOrphan) {
  const bool tree_has_props = GetParam();
  std::filesystem::create_directories(server_.Disk("a"));
  WriteFile(server_.Disk("a/f"), "f");
  WriteFile(server_.Disk("a/g"), "g");
  if (tree_has_props) {
    ASSERT_EQ(server_.Request("PROPPATCH", "/a/g", SetBody("kept", "moves along")).status, 207);
  }
  ASSERT_NE(faults_, nullptr);
  // Long enough that the PROPPATCH's request and first Stat land inside it even on a loaded
  // machine or under a sanitizer.
  faults_->SetDelay(Op::kRename, std::chrono::milliseconds(1500));
  const int before = faults_->mutating_calls();
  HttpResult move;
  std::thread mover([&] { move = server_.Request("MOVE", "/a/", "", {{"Destination", "/b/"}}); });
  // The MOVE's first mutating call is its rename, now sleeping before it happens.
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (faults_->mutating_calls() == before && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GT(faults_->mutating_calls(), before) << "the MOVE never reached its rename";
  ASSERT_TRUE(Exists(server_.Disk("a/f")));  // the PROPPATCH below resolves /a/f
  HttpResult patch = server_.Request("PROPPATCH", "/a/f", SetBody("late", "orphan?"));
  mover.join();
  faults_->ClearFaults();
  EXPECT_EQ(move.status, 201) << move.body;
  EXPECT_EQ(patch.status, 404) << patch.body;

  EXPECT_EQ(AllProps("/b/f").find("urn:race"), std::string::npos);
  EXPECT_EQ(AllProps("/b/g").find("moves along") != std::string::npos, tree_has_props);
  // A new /a/f must not inherit a row written for the old one.
  ASSERT_EQ(server_.Request("MKCOL", "/a/").status, 201);
  ASSERT_EQ(server_.Request("PUT", "/a/f", "new").status, 201);
  std::string props = AllProps("/a/f");
  EXPECT_EQ(props.find("urn:race"), std::string::npos) << props;
}

// Without a racing MOVE the second look-up changes nothing: the property is stored and moves.
TEST_P(MoveRaceTest, ProppatchBeforeMoveMovesWithTheTree) {
  std::filesystem::create_directories(server_.Disk("a"));
  WriteFile(server_.Disk("a/f"), "f");
  if (GetParam()) {
    ASSERT_EQ(server_.Request("PROPPATCH", "/a/", SetBody("dir", "d")).status, 207);
  }
  ASSERT_EQ(server_.Request("PROPPATCH", "/a/f", SetBody("early", "e")).status, 207);
  ASSERT_EQ(server_.Request("MOVE", "/a/", "", {{"Destination", "/b/"}}).status, 201);
  EXPECT_NE(AllProps("/b/f").find("urn:race"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(TreeWithAndWithoutProperties, MoveRaceTest, ::testing::Bool());

}  // namespace
}  // namespace keepdav::testing
