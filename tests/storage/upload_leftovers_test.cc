#include "storage/posix/upload_leftovers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace keepdav::storage::posix {
namespace {

namespace fs = std::filesystem;

class UploadLeftoversTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/keepdav-leftovers-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    root_ = name;
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& contents = "x") {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel) << contents;
  }
  bool Exists(const std::string& rel) { return fs::exists(fs::symlink_status(root_ + "/" + rel)); }
  static struct timespec Now() {
    struct timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    return now;
  }
  std::string root_;
  std::atomic<bool> stop_{false};
};

TEST_F(UploadLeftoversTest, RemovesOnlyTemporaryFilesOlderThanTheStart) {
  Write(".keepdav-tmp-aa", "12345");
  Write("a/b/c/.keepdav-tmp-bb", "123");
  Write("a/keep.txt");
  Write("a/.keepdav-tmpish");                            // not the prefix
  Write("a/.keepdav-stage-cc/.keepdav-tmp-dd");          // a COPY's staging: recovery's, not ours
  fs::create_directories(root_ + "/d/.keepdav-tmp-ee");  // a folder so named stays
  fs::create_symlink(root_ + "/a/keep.txt", root_ + "/d/.keepdav-tmp-link");
  fs::create_directories(root_ + "/outside");
  Write("outside/.keepdav-tmp-ff");
  fs::create_directory_symlink(root_ + "/outside", root_ + "/d/linked");  // not followed
  struct timespec started = Now();
  ::usleep(20000);
  Write("new/.keepdav-tmp-gg");  // an upload started after the start

  UploadLeftoverSweep sweep;
  ASSERT_TRUE(RemoveUploadLeftovers(root_, started, 256, stop_, &sweep).ok());
  EXPECT_EQ(sweep.removed, 3u);  // aa, bb and outside/ff (a real folder of the root)
  EXPECT_EQ(sweep.removed_bytes, 5u + 3u + 1u);
  EXPECT_FALSE(Exists(".keepdav-tmp-aa"));
  EXPECT_FALSE(Exists("a/b/c/.keepdav-tmp-bb"));
  EXPECT_TRUE(Exists("a/keep.txt"));
  EXPECT_TRUE(Exists("a/.keepdav-tmpish"));
  EXPECT_TRUE(Exists("a/.keepdav-stage-cc/.keepdav-tmp-dd"));
  EXPECT_TRUE(Exists("d/.keepdav-tmp-ee"));
  EXPECT_TRUE(Exists("d/.keepdav-tmp-link"));
  EXPECT_TRUE(Exists("new/.keepdav-tmp-gg"));
  EXPECT_FALSE(sweep.stopped);
}

TEST_F(UploadLeftoversTest, StopsAtTheDepthLimitAndWhenAskedTo) {
  Write("1/2/3/.keepdav-tmp-deep");
  Write("1/.keepdav-tmp-shallow");
  struct timespec later = Now();
  later.tv_sec += 10;
  UploadLeftoverSweep sweep;
  ASSERT_TRUE(RemoveUploadLeftovers(root_, later, 2, stop_, &sweep).ok());
  EXPECT_FALSE(Exists("1/.keepdav-tmp-shallow"));
  EXPECT_TRUE(Exists("1/2/3/.keepdav-tmp-deep"));  // below --max-tree-depth

  stop_ = true;
  ASSERT_TRUE(RemoveUploadLeftovers(root_, later, 256, stop_, &sweep).ok());
  EXPECT_TRUE(sweep.stopped);
  EXPECT_TRUE(Exists("1/2/3/.keepdav-tmp-deep"));
}

TEST_F(UploadLeftoversTest, AMissingRootIsAnError) {
  UploadLeftoverSweep sweep;
  EXPECT_FALSE(RemoveUploadLeftovers(root_ + "/missing", Now(), 256, stop_, &sweep).ok());
}

}  // namespace
}  // namespace keepdav::storage::posix
