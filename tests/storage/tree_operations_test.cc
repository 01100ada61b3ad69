// FileSystem::RemoveTree and CopyTree: PosixFileSystem's descriptor walk (one thread and several)
// against MemberWalk, the member-by-member reference, over the same kinds of trees. Each case
// checks the result on disk, the failures reported and the number of resources counted.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "storage/member_walk.h"
#include "storage/posix_file_system.h"
#include "tests/storage/status_printer.h"
#include "tests/storage/temp_dir.h"
#include "tests/storage/test_files.h"

namespace keepdav::storage {
namespace {

using test_support::P;
using test_support::ReadFile;
using test_support::WriteFile;

namespace fs = std::filesystem;

// Records what a tree operation reports; cancels once `cancel_after` resources are done.
class Recorder : public TreeObserver {
 public:
  bool Cancelled() override { return cancel_after >= 0 && done.load() >= cancel_after; }
  void ResourceDone() override { done.fetch_add(1); }
  void MemberFailed(const ResourcePath& path, bool is_directory, const Status& status) override {
    std::lock_guard<std::mutex> lock(mu);
    failures.push_back({path.str(), is_directory, status.code()});
  }
  struct Failure {
    std::string path;
    bool is_directory;
    StatusCode code;
    bool operator<(const Failure& o) const { return path < o.path; }
    bool operator==(const Failure& o) const {
      return path == o.path && is_directory == o.is_directory && code == o.code;
    }
  };
  std::multiset<Failure> failure_set() const { return {failures.begin(), failures.end()}; }

  int cancel_after = -1;
  std::atomic<int> done{0};
  std::mutex mu;
  std::vector<Failure> failures;
};

std::ostream& operator<<(std::ostream& os, const Recorder::Failure& f) {
  return os << f.path << (f.is_directory ? "/" : "") << " " << StatusCodeName(f.code);
}

enum class Impl { kPosixOneThread, kPosixFourThreads, kMemberWalk };

class TreeOperationsTest : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "root";
    fs::create_directories(root_);
    Reopen({});
  }

  void Reopen(std::set<std::string> hidden) {
    PosixFileSystem::Options options;
    options.hidden = std::move(hidden);
    options.tree_threads = GetParam() == Impl::kPosixFourThreads ? 4 : 1;
    auto r = PosixFileSystem::Open(root_.string(), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    fs_ = std::move(r).value();
  }

  Status RemoveTree(const ResourcePath& p, int max_depth, Recorder& rec) {
    if (GetParam() == Impl::kMemberWalk) return MemberWalk::RemoveTree(*fs_, p, max_depth, rec);
    return fs_->RemoveTree(p, max_depth, rec);
  }
  Status CopyTree(const ResourcePath& from, const ResourcePath& to, bool with_members,
                  int max_depth, Recorder& rec) {
    if (GetParam() == Impl::kMemberWalk) {
      return MemberWalk::CopyTree(*fs_, from, to, with_members, max_depth, rec);
    }
    return fs_->CopyTree(from, to, with_members, max_depth, rec);
  }

  // /t with three levels of directories, `files` files in each leaf.
  void MakeTree(const std::string& top, int files) {
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        fs::path d = root_ / top / ("d" + std::to_string(i)) / ("s" + std::to_string(j));
        fs::create_directories(d);
        for (int k = 0; k < files; ++k) {
          WriteFile(d / ("f" + std::to_string(k)), "content " + std::to_string(i * 100 + k));
        }
      }
    }
  }

  size_t CountEntries(const fs::path& p) {
    size_t n = 0;
    for (auto it = fs::recursive_directory_iterator(p); it != fs::recursive_directory_iterator();
         ++it) {
      ++n;
    }
    return n;
  }

  test_support::TempDir dir_{"keepdav-tree"};
  fs::path root_;
  std::unique_ptr<PosixFileSystem> fs_;
};

TEST_P(TreeOperationsTest, CopyTreeCopiesContentsAndTimes) {
  MakeTree("t", 5);
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13);
  WriteFile(root_ / "t" / "big", big);  // beyond the small-file buffer: copy_file_range
  WriteFile(root_ / "t" / "empty", "");
  struct timespec old[2] = {{0, UTIME_OMIT}, {1000000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ / "t" / "d1" / "s2" / "f3").c_str(), old, 0), 0);
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 256, rec).ok());
  EXPECT_TRUE(rec.failures.empty());
  EXPECT_EQ(rec.done.load(), 1 + 3 + 9 + 45 + 2);
  EXPECT_EQ(CountEntries(root_ / "c"), CountEntries(root_ / "t"));
  EXPECT_EQ(ReadFile(root_ / "c" / "big"), big);
  EXPECT_EQ(ReadFile(root_ / "c" / "empty"), "");
  EXPECT_EQ(ReadFile(root_ / "c" / "d2" / "s0" / "f4"), "content 204");
  EXPECT_EQ(fs_->Stat(P("/c/d1/s2/f3"))->mtime_ns, 1000000000123456789);
}

TEST_P(TreeOperationsTest, CopyTreeWithoutMembersAndOfAFile) {
  MakeTree("t", 1);
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), false, 256, rec).ok());
  EXPECT_TRUE(fs::is_empty(root_ / "c"));
  ASSERT_TRUE(CopyTree(P("/t/d0/s0/f0"), P("/g"), true, 256, rec).ok());
  EXPECT_EQ(ReadFile(root_ / "g"), "content 0");
  EXPECT_EQ(rec.done.load(), 2);
  EXPECT_EQ(CopyTree(P("/t"), P("/g"), true, 256, rec).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(CopyTree(P("/missing"), P("/h"), true, 256, rec).code(), StatusCode::kNotFound);
}

TEST_P(TreeOperationsTest, CopyTreeSkipsSymlinksReservedAndHiddenNamesAndSpecialFiles) {
  MakeTree("t", 1);
  fs::create_directory_symlink(root_ / "t" / "d0", root_ / "t" / "link-dir");
  fs::create_symlink("/etc/passwd", root_ / "t" / "d1" / "link-file");
  WriteFile(root_ / "t" / ".keepdav-tmp-1", "partial");
  fs::create_directories(root_ / "t" / ".keepdav-stage-2" / "x");
  WriteFile(root_ / "t" / "db", "database");
  ASSERT_EQ(::mkfifo((root_ / "t" / "fifo").c_str(), 0644), 0);
  Reopen({"t/db"});
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 256, rec).ok());
  EXPECT_TRUE(rec.failures.empty());
  EXPECT_EQ(rec.done.load(), 1 + 3 + 9 + 9 + 1);  // the FIFO counts, but is not copied
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(root_ / "c")) top.insert(e.path().filename());
  EXPECT_EQ(top, (std::set<std::string>{"d0", "d1", "d2"}));
  EXPECT_TRUE(fs::is_empty(root_ / "c" / "d1" / "s0") == false);
  EXPECT_FALSE(fs::exists(root_ / "c" / "d1" / "link-file"));
}

TEST_P(TreeOperationsTest, CopyTreeStopsAtTheDepthLimit) {
  fs::create_directories(root_ / "t" / "a" / "b" / "c");
  WriteFile(root_ / "t" / "a" / "b" / "c" / "f", "deep");
  WriteFile(root_ / "t" / "a" / "f", "shallow");
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 2, rec).ok());
  EXPECT_EQ(rec.failure_set(),
            (std::multiset<Recorder::Failure>{{"/c/a/b", true, StatusCode::kTooLarge}}));
  EXPECT_EQ(ReadFile(root_ / "c" / "a" / "f"), "shallow");
  EXPECT_FALSE(fs::exists(root_ / "c" / "a" / "b" / "c"));
}

TEST_P(TreeOperationsTest, CopyTreeStopsWhenCancelled) {
  MakeTree("t", 20);
  Recorder rec;
  rec.cancel_after = 30;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 256, rec).ok());
  ASSERT_FALSE(rec.failures.empty());
  bool saw_cancel = false;
  for (const auto& f : rec.failures) saw_cancel |= f.code == StatusCode::kIoError;
  EXPECT_TRUE(saw_cancel);
  EXPECT_LT(CountEntries(root_ / "c"), CountEntries(root_ / "t"));
  // A few members may be under way on other threads when the cancellation is seen.
  EXPECT_LT(rec.done.load(), 30 + 8);
}

TEST_P(TreeOperationsTest, CopyTreeReportsMembersThatCannotBeRead) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  MakeTree("t", 2);
  fs::permissions(root_ / "t" / "d0" / "s1" / "f1", fs::perms::none);
  fs::permissions(root_ / "t" / "d2" / "s2", fs::perms::owner_write);  // cannot be listed
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 256, rec).ok());
  fs::permissions(root_ / "t" / "d2" / "s2", fs::perms::owner_all);
  EXPECT_EQ(rec.failure_set(),
            (std::multiset<Recorder::Failure>{{"/c/d0/s1/f1", false, StatusCode::kPermissionDenied},
                                              {"/c/d2/s2", true, StatusCode::kPermissionDenied}}));
  EXPECT_FALSE(fs::exists(root_ / "c" / "d0" / "s1" / "f1"));  // no half file
  EXPECT_EQ(ReadFile(root_ / "c" / "d0" / "s1" / "f0"), "content 0");
}

TEST_P(TreeOperationsTest, RemoveTreeRemovesEverythingWithReservedLeftovers) {
  MakeTree("t", 5);
  WriteFile(root_ / "t" / "d0" / ".keepdav-tmp-1", "partial upload");
  fs::create_directories(root_ / "t" / ".keepdav-stage-2" / "x");
  WriteFile(root_ / "t" / ".keepdav-stage-2" / "x" / "f", "staged");
  ASSERT_EQ(::mkfifo((root_ / "t" / "fifo").c_str(), 0644), 0);
  Recorder rec;
  ASSERT_TRUE(RemoveTree(P("/t"), 256, rec).ok());
  EXPECT_TRUE(rec.failures.empty());
  EXPECT_FALSE(fs::exists(root_ / "t"));
  EXPECT_EQ(rec.done.load(), 1 + 3 + 9 + 45 + 1 + 3 + 1);
}

TEST_P(TreeOperationsTest, RemoveTreeLeavesSymlinksHiddenNamesAndTheirAncestors) {
  MakeTree("t", 2);
  WriteFile(root_ / "outside", "keep");
  fs::create_symlink(root_ / "outside", root_ / "t" / "d0" / "s0" / "link");
  fs::create_directory_symlink(root_, root_ / "t" / "d1" / "loop");
  WriteFile(root_ / "t" / "d2" / "db", "database");
  Reopen({"t/d2/db"});
  Recorder rec;
  Status s = RemoveTree(P("/t"), 256, rec);
  EXPECT_EQ(s.code(), StatusCode::kNotEmpty);
  EXPECT_EQ(rec.failure_set(),
            (std::multiset<Recorder::Failure>{{"/t/d0/s0", true, StatusCode::kNotEmpty},
                                              {"/t/d1", true, StatusCode::kNotEmpty},
                                              {"/t/d2", true, StatusCode::kNotEmpty}}));
  EXPECT_EQ(ReadFile(root_ / "outside"), "keep");
  EXPECT_TRUE(fs::is_symlink(root_ / "t" / "d0" / "s0" / "link"));
  EXPECT_EQ(ReadFile(root_ / "t" / "d2" / "db"), "database");
  EXPECT_FALSE(fs::exists(root_ / "t" / "d0" / "s1"));
  EXPECT_FALSE(fs::exists(root_ / "t" / "d0" / "s0" / "f0"));
}

TEST_P(TreeOperationsTest, RemoveTreeReportsEachMemberThatStays) {
  if (::geteuid() == 0) GTEST_SKIP() << "root removes everything";
  MakeTree("t", 2);
  fs::permissions(root_ / "t" / "d1" / "s2", fs::perms::owner_read | fs::perms::owner_exec);
  Recorder rec;
  Status s = RemoveTree(P("/t"), 256, rec);
  fs::permissions(root_ / "t" / "d1" / "s2", fs::perms::owner_all);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(rec.failure_set(), (std::multiset<Recorder::Failure>{
                                   {"/t/d1/s2/f0", false, StatusCode::kPermissionDenied},
                                   {"/t/d1/s2/f1", false, StatusCode::kPermissionDenied}}));
  EXPECT_TRUE(fs::exists(root_ / "t" / "d1" / "s2" / "f1"));
  EXPECT_FALSE(fs::exists(root_ / "t" / "d1" / "s1"));
  EXPECT_FALSE(fs::exists(root_ / "t" / "d0"));
}

TEST_P(TreeOperationsTest, RemoveTreeStopsAtTheDepthLimitAndWhenCancelled) {
  fs::create_directories(root_ / "t" / "a" / "b" / "c");
  WriteFile(root_ / "t" / "a" / "f", "shallow");
  Recorder rec;
  EXPECT_EQ(RemoveTree(P("/t"), 2, rec).code(), StatusCode::kTooLarge);
  EXPECT_EQ(rec.failure_set(),
            (std::multiset<Recorder::Failure>{{"/t/a/b", true, StatusCode::kTooLarge}}));
  EXPECT_FALSE(fs::exists(root_ / "t" / "a" / "f"));

  MakeTree("u", 20);
  Recorder cancelling;
  cancelling.cancel_after = 25;
  Status s = RemoveTree(P("/u"), 256, cancelling);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_TRUE(cancelling.failures.empty());
  EXPECT_TRUE(fs::exists(root_ / "u"));
  EXPECT_LT(cancelling.done.load(), 25 + 8);
}

TEST_P(TreeOperationsTest, RemoveTreeRefusesTheRootAndReportsAMissingPath) {
  Recorder rec;
  EXPECT_EQ(RemoveTree(P("/"), 256, rec).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(RemoveTree(P("/missing"), 256, rec).code(), StatusCode::kNotFound);
  EXPECT_EQ(rec.failures.size(), 2u);
  WriteFile(root_ / "file", "x");
  ASSERT_TRUE(RemoveTree(P("/file"), 256, rec).ok());
  EXPECT_FALSE(fs::exists(root_ / "file"));
}

INSTANTIATE_TEST_SUITE_P(Implementations, TreeOperationsTest,
                         ::testing::Values(Impl::kPosixOneThread, Impl::kPosixFourThreads,
                                           Impl::kMemberWalk),
                         [](const ::testing::TestParamInfo<Impl>& info) {
                           switch (info.param) {
                             case Impl::kPosixOneThread:
                               return "PosixOneThread";
                             case Impl::kPosixFourThreads:
                               return "PosixFourThreads";
                             default:
                               return "MemberWalk";
                           }
                         });

}  // namespace
}  // namespace keepdav::storage
