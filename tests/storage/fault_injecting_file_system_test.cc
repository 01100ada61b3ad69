// FaultInjectingFileSystem over a MemoryFileSystem: chosen failures, crashes before and after the
// Nth mutating call, the mutating-call count, per-member faults in tree operations, delays, and
// the device pretences.
#include "storage/fault_injecting_file_system.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include "storage/memory_file_system.h"
#include "tests/storage/status_printer.h"
#include "tests/storage/test_files.h"

namespace keepdav::storage {
namespace {

using test_support::P;
using Op = FaultInjectingFileSystem::Operation;

class CountingObserver : public TreeObserver {
 public:
  bool Cancelled() override { return false; }
  void ResourceDone() override { ++done; }
  void MemberFailed(const ResourcePath& path, bool, const Status& status) override {
    failed.push_back(path.str() + " " + StatusCodeName(status.code()));
  }
  int done = 0;
  std::vector<std::string> failed;
};

class FaultInjectingFileSystemTest : public ::testing::Test {
 protected:
  FaultInjectingFileSystemTest()
      : fs_(std::make_unique<MemoryFileSystem>()), memory_(&fs_.inner()) {}

  Status Put(const std::string& p, const std::string& content) {
    auto w = fs_.BeginWrite(P(p));
    if (!w.ok()) return w.status();
    Status s = (*w)->Write(content.data(), content.size());
    return s.ok() ? (*w)->Commit() : s;
  }

  FaultInjectingFileSystem fs_;
  FileSystem* memory_;
};

TEST_F(FaultInjectingFileSystemTest, PassesCallsThroughWhenNoFaultIsSet) {
  ASSERT_TRUE(fs_.MakeDirectory(P("/d")).ok());
  ASSERT_TRUE(Put("/d/f", "x").ok());
  EXPECT_TRUE(memory_->Stat(P("/d/f")).ok());
  EXPECT_EQ(fs_.mutating_calls(), 4);  // mkdir, begin write, write, commit
  EXPECT_FALSE(fs_.crashed());
}

TEST_F(FaultInjectingFileSystemTest, FailsAChosenCallWithAMappedErrno) {
  ASSERT_TRUE(fs_.MakeDirectory(P("/a")).ok());
  ASSERT_TRUE(fs_.MakeDirectory(P("/b")).ok());
  fs_.FailCall(Op::kRemove, ENOSPC, P("/b"));
  EXPECT_EQ(fs_.Remove(P("/b")).code(), StatusCode::kNoSpace);
  EXPECT_TRUE(fs_.Remove(P("/a")).ok());  // another path: not affected
  fs_.FailCall(Op::kStat, EACCES, std::nullopt, /*nth=*/2);
  EXPECT_TRUE(fs_.Stat(P("/b")).ok());
  EXPECT_EQ(fs_.Stat(P("/b")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(fs_.Stat(P("/b")).ok());  // only the second
  fs_.ClearFaults();
  EXPECT_TRUE(fs_.Remove(P("/b")).ok());
}

TEST_F(FaultInjectingFileSystemTest, FailAtMutationFailsOnlyTheNthMutatingCall) {
  fs_.FailAtMutation(2, ENOSPC);
  ASSERT_TRUE(fs_.MakeDirectory(P("/a")).ok());
  EXPECT_TRUE(fs_.Stat(P("/a")).ok());  // not mutating: not counted
  EXPECT_EQ(fs_.MakeDirectory(P("/b")).code(), StatusCode::kNoSpace);
  EXPECT_TRUE(memory_->Stat(P("/b")).status().IsNotFound());  // the call was not made
  EXPECT_TRUE(fs_.MakeDirectory(P("/c")).ok());
  EXPECT_EQ(fs_.mutating_calls(), 3);
  EXPECT_FALSE(fs_.crashed());
  fs_.ClearFaults();
  fs_.FailAtMutation(1, EACCES);
  fs_.ClearFaults();
  EXPECT_TRUE(fs_.MakeDirectory(P("/d")).ok());
}

TEST_F(FaultInjectingFileSystemTest, CrashStopsTheNthMutatingCallAndEverythingAfter) {
  int crashes = 0;
  bool existed_at_crash = true;
  fs_.CrashAtMutation(2, [&] {
    ++crashes;
    existed_at_crash = memory_->Stat(P("/b")).ok();
  });
  EXPECT_TRUE(fs_.MakeDirectory(P("/a")).ok());
  EXPECT_TRUE(fs_.Stat(P("/a")).ok());  // not mutating: not counted
  EXPECT_EQ(fs_.MakeDirectory(P("/b")).code(), StatusCode::kIoError);
  EXPECT_TRUE(fs_.crashed());
  EXPECT_EQ(crashes, 1);
  EXPECT_FALSE(existed_at_crash);
  EXPECT_FALSE(memory_->Stat(P("/b")).ok());
  EXPECT_EQ(fs_.Stat(P("/a")).status().code(), StatusCode::kIoError);
  EXPECT_EQ(fs_.MakeDirectory(P("/c")).code(), StatusCode::kIoError);
  EXPECT_EQ(crashes, 1);
  EXPECT_EQ(fs_.mutating_calls(), 2);
}

TEST_F(FaultInjectingFileSystemTest, CrashAfterTheCallLetsItTakeEffect) {
  bool existed_at_crash = false;
  fs_.CrashAtMutation(
      1, [&] { existed_at_crash = memory_->Stat(P("/a")).ok(); }, /*after_call=*/true);
  EXPECT_EQ(fs_.MakeDirectory(P("/a")).code(), StatusCode::kIoError);
  EXPECT_TRUE(existed_at_crash);
  EXPECT_TRUE(memory_->Stat(P("/a")).ok());
  EXPECT_EQ(fs_.Remove(P("/a")).code(), StatusCode::kIoError);
}

TEST_F(FaultInjectingFileSystemTest, WritesCountStepByStep) {
  fs_.CrashAtMutation(3);  // begin write, write, commit: the commit crashes
  auto w = fs_.BeginWrite(P("/f"));
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE((*w)->Write("x", 1).ok());
  EXPECT_EQ((*w)->Commit().code(), StatusCode::kIoError);
  EXPECT_FALSE(memory_->Stat(P("/f")).ok());
}

TEST_F(FaultInjectingFileSystemTest, TreeOperationsFailPerMember) {
  ASSERT_TRUE(fs_.MakeDirectory(P("/t")).ok());
  ASSERT_TRUE(Put("/t/a", "A").ok());
  ASSERT_TRUE(Put("/t/b", "B").ok());
  fs_.FailCall(Op::kCopyFileNew, EIO, P("/t/b"));
  CountingObserver copy;
  ASSERT_TRUE(fs_.CopyTree(P("/t"), P("/c"), true, 256, copy).ok());
  EXPECT_EQ(copy.failed, (std::vector<std::string>{"/c/b IoError"}));
  EXPECT_TRUE(memory_->Stat(P("/c/a")).ok());
  fs_.FailCall(Op::kRemove, EACCES, P("/t/a"));
  CountingObserver remove;
  EXPECT_EQ(fs_.RemoveTree(P("/t"), 256, remove).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(remove.failed, (std::vector<std::string>{"/t/a PermissionDenied"}));
  EXPECT_FALSE(memory_->Stat(P("/t/b")).ok());
  EXPECT_TRUE(memory_->Stat(P("/t/a")).ok());
}

TEST_F(FaultInjectingFileSystemTest, DelaysAndDevicePretences) {
  ASSERT_TRUE(fs_.MakeDirectory(P("/d")).ok());
  ASSERT_TRUE(Put("/d/a", "A").ok());
  ASSERT_TRUE(Put("/d/b", "B").ok());
  fs_.SetDelay(Op::kList, std::chrono::milliseconds(20));  // per member
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(fs_.List(P("/d"), [](std::string_view, const FileInfo&) { return true; }).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));

  fs_.set_rename_cross_device(true);
  EXPECT_EQ(fs_.Rename(P("/d/a"), P("/d/c"), false).code(), StatusCode::kCrossDevice);
  ResourcePath stage = P("/d").InternalChild(".keepdav-stage-1");
  ASSERT_TRUE(fs_.MakeDirectory(stage).ok());
  EXPECT_TRUE(fs_.Rename(stage, P("/d/e"), false).ok());  // keepdav's own renames work

  fs_.set_other_device(P("/d"));
  EXPECT_NE(fs_.Stat(P("/d"))->device, fs_.Stat(P("/d/a"))->device);
}

}  // namespace
}  // namespace keepdav::storage
