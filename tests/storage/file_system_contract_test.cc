// The FileSystem contract (storage/file_system.h), one suite run against every implementation:
// PosixFileSystem resolving with openat2(2), PosixFileSystem with the openat(O_NOFOLLOW) walk that
// kernels before 5.6 get, PosixFileSystem with four tree threads (its descriptor walk copies and
// removes directories in parallel), MemoryFileSystem, and MemberWalk (the member-by-member
// reference for CopyTree and RemoveTree, over POSIX). Every step goes through the interface, so a
// case here means the same for each; what only a real directory has (symlinks, special files,
// hidden names, modes, the open-file cache) is in posix_file_system_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/file_system.h"
#include "storage/member_walk.h"
#include "storage/memory_file_system.h"
#include "storage/posix_file_system.h"
#include "tests/storage/status_printer.h"
#include "tests/storage/temp_dir.h"
#include "tests/storage/test_files.h"

namespace keepdav::storage {
namespace {

using test_support::P;
using test_support::ReadAll;

enum class Impl { kPosixOpenat2, kPosixWalk, kPosixFourThreads, kMemory, kMemberWalk };

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

class FileSystemContractTest : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (GetParam() == Impl::kMemory) {
      fs_ = std::make_unique<MemoryFileSystem>();
      return;
    }
    PosixFileSystem::Options options;
    options.allow_openat2 = GetParam() != Impl::kPosixWalk;
    options.tree_threads = GetParam() == Impl::kPosixFourThreads ? 4 : 1;
    auto r = PosixFileSystem::Open(dir_.path().string(), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    fs_ = std::move(r).value();
  }

  Status Put(const ResourcePath& p, const std::string& content) {
    Result<std::unique_ptr<PendingWrite>> w = fs_->BeginWrite(p);
    if (!w.ok()) return w.status();
    Status s = (*w)->Write(content.data(), content.size());
    if (!s.ok()) return s;
    return (*w)->Commit();
  }
  void MustPut(const std::string& p, const std::string& content) {
    Status s = Put(P(p), content);
    ASSERT_TRUE(s.ok()) << p << ": " << s.ToString();
  }
  void MustMkdir(const std::string& p) {
    Status s = fs_->MakeDirectory(P(p));
    ASSERT_TRUE(s.ok()) << p << ": " << s.ToString();
  }
  // The bytes of a file, or "<code>" when it cannot be opened.
  std::string Read(const ResourcePath& p) {
    Result<std::unique_ptr<ReadableFile>> f = fs_->OpenRead(p);
    if (!f.ok()) return std::string("<") + StatusCodeName(f.status().code()) + ">";
    return ReadAll(**f);
  }
  std::string Read(const std::string& p) { return Read(P(p)); }
  bool Exists(const std::string& p) { return fs_->Stat(P(p)).ok(); }
  std::set<std::string> Names(const ResourcePath& dir, bool for_removal = false) {
    std::set<std::string> names;
    auto visit = [&](std::string_view name, const FileInfo&) {
      EXPECT_TRUE(names.insert(std::string(name)).second) << "listed twice: " << name;
      return true;
    };
    Status s = for_removal ? fs_->ListForRemoval(dir, visit) : fs_->List(dir, visit);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return names;
  }
  // Reserved names (temporary files, staging trees) in `dir`.
  std::set<std::string> Reserved(const ResourcePath& dir) {
    std::set<std::string> out;
    for (const std::string& n : Names(dir, true)) {
      if (ResourcePath::IsReservedName(n)) out.insert(n);
    }
    return out;
  }

  // The tree operations, through MemberWalk for Impl::kMemberWalk.
  Status CopyTree(const ResourcePath& from, const ResourcePath& to, bool with_members,
                  int max_depth, Recorder& rec) {
    if (GetParam() == Impl::kMemberWalk) {
      return MemberWalk::CopyTree(*fs_, from, to, with_members, max_depth, rec);
    }
    return fs_->CopyTree(from, to, with_members, max_depth, rec);
  }
  Status RemoveTree(const ResourcePath& p, int max_depth, Recorder& rec) {
    if (GetParam() == Impl::kMemberWalk) return MemberWalk::RemoveTree(*fs_, p, max_depth, rec);
    return fs_->RemoveTree(p, max_depth, rec);
  }
  // `top` with three levels of directories, `files` files in each leaf.
  void MakeTree(const std::string& top, int files) {
    MustMkdir(top);
    for (int i = 0; i < 3; ++i) {
      std::string d = top + "/d" + std::to_string(i);
      MustMkdir(d);
      for (int j = 0; j < 3; ++j) {
        std::string s = d + "/s" + std::to_string(j);
        MustMkdir(s);
        for (int k = 0; k < files; ++k) {
          MustPut(s + "/f" + std::to_string(k), "content " + std::to_string(i * 100 + k));
        }
      }
    }
  }
  // The members below `dir`, at every depth, as listed.
  size_t CountEntries(const ResourcePath& dir) {
    size_t n = 0;
    std::vector<ResourcePath> subdirs;
    Status s = fs_->List(dir, [&](std::string_view name, const FileInfo& info) {
      ++n;
      if (info.IsDirectory()) subdirs.push_back(dir.Child(name));
      return true;
    });
    EXPECT_TRUE(s.ok()) << dir.str() << ": " << s.ToString();
    for (const ResourcePath& d : subdirs) n += CountEntries(d);
    return n;
  }

  test_support::TempDir dir_{"keepdav-contract"};
  std::unique_ptr<FileSystem> fs_;
};

TEST_P(FileSystemContractTest, Stat) {
  MustPut("/f", "hello");
  MustMkdir("/d");
  Result<FileInfo> f = fs_->Stat(P("/f"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->IsFile());
  EXPECT_EQ(f->size, 5u);
  EXPECT_GT(f->mtime_ns, 0);
  EXPECT_GT(f->birth_ns, 0);
  Result<FileInfo> d = fs_->Stat(P("/d"));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->IsDirectory());
  EXPECT_NE(d->inode, f->inode);
  EXPECT_EQ(d->device, f->device);
  Result<FileInfo> root = fs_->Stat(ResourcePath());
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->IsDirectory());
  EXPECT_EQ(fs_->Stat(P("/missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Stat(P("/missing/x")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Stat(P("/f/x")).status().code(), StatusCode::kNotADirectory);
}

TEST_P(FileSystemContractTest, ListVisitsEachMemberOnceAndStopsEarly) {
  MustMkdir("/d");
  for (int i = 0; i < 20; ++i) MustPut("/d/f" + std::to_string(i), std::string(i, 'x'));
  MustMkdir("/d/sub");
  std::set<std::string> names;
  ASSERT_TRUE(fs_->List(P("/d"),
                        [&](std::string_view name, const FileInfo& info) {
                          names.emplace(name);
                          if (name == "sub") {
                            EXPECT_TRUE(info.IsDirectory());
                          } else {
                            EXPECT_EQ(info.size, std::stoul(std::string(name.substr(1))));
                          }
                          return true;
                        })
                  .ok());
  EXPECT_EQ(names.size(), 21u);
  int visited = 0;
  ASSERT_TRUE(
      fs_->List(P("/d"), [&](std::string_view, const FileInfo&) { return ++visited < 3; }).ok());
  EXPECT_EQ(visited, 3);
  EXPECT_TRUE(Names(P("/d/sub")).empty());
  EXPECT_EQ(fs_->List(P("/d/f1"), [](std::string_view, const FileInfo&) { return true; }).code(),
            StatusCode::kNotADirectory);
  EXPECT_EQ(fs_->List(P("/missing"), [](std::string_view, const FileInfo&) { return true; }).code(),
            StatusCode::kNotFound);
}

TEST_P(FileSystemContractTest, OpenReadAndReadAt) {
  const std::string content = "The quick brown fox jumps over the lazy dog";
  MustPut("/f", content);
  MustMkdir("/d");
  Result<std::unique_ptr<ReadableFile>> f = fs_->OpenRead(P("/f"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->info().size, content.size());
  EXPECT_TRUE((*f)->info().IsFile());
  EXPECT_EQ(ReadAll(**f), content);
  char buf[5];
  Result<size_t> n = (*f)->ReadAt(4, buf, sizeof(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "quick");
  n = (*f)->ReadAt(content.size() + 10, buf, sizeof(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(fs_->OpenRead(P("/d")).status().code(), StatusCode::kIsADirectory);
  EXPECT_EQ(fs_->OpenRead(ResourcePath()).status().code(), StatusCode::kIsADirectory);
  EXPECT_EQ(fs_->OpenRead(P("/missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->OpenRead(P("/f/x")).status().code(), StatusCode::kNotADirectory);
}

TEST_P(FileSystemContractTest, AnOpenFileKeepsItsContentsWhenReplaced) {
  MustPut("/f", "first");
  Result<std::unique_ptr<ReadableFile>> f = fs_->OpenRead(P("/f"));
  ASSERT_TRUE(f.ok());
  MustPut("/f", "second, longer");
  EXPECT_EQ(ReadAll(**f), "first");
  EXPECT_EQ(Read("/f"), "second, longer");
}

TEST_P(FileSystemContractTest, WriteIsInvisibleUntilCommit) {
  MustMkdir("/d");
  Result<std::unique_ptr<PendingWrite>> w = fs_->BeginWrite(P("/d/new"));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_FALSE((*w)->previous().has_value());
  ASSERT_TRUE((*w)->Write("abc", 3).ok());
  ASSERT_TRUE((*w)->Write("def", 3).ok());
  EXPECT_EQ(fs_->Stat(P("/d/new")).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Names(P("/d")).empty());
  std::set<std::string> temps = Reserved(P("/d"));
  ASSERT_EQ(temps.size(), 1u);
  EXPECT_EQ(temps.begin()->rfind(".keepdav-tmp-", 0), 0u) << *temps.begin();
  EXPECT_EQ(fs_->Remove(P("/d")).code(), StatusCode::kNotEmpty);

  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(Read("/d/new"), "abcdef");
  Result<FileInfo> info = fs_->Stat(P("/d/new"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*w)->committed_info().size, 6u);
  EXPECT_EQ((*w)->committed_info().inode, info->inode);
  EXPECT_EQ((*w)->committed_info().mtime_ns, info->mtime_ns);
  EXPECT_TRUE(Reserved(P("/d")).empty());
  EXPECT_EQ((*w)->Write("x", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->Commit().code(), StatusCode::kInvalidArgument);
  w.value().reset();  // destroying a committed write must not remove the target
  EXPECT_EQ(Read("/d/new"), "abcdef");
}

TEST_P(FileSystemContractTest, WriteReplacesAtomicallyAndReportsThePreviousFile) {
  MustPut("/f", "old");
  Result<FileInfo> old = fs_->Stat(P("/f"));
  ASSERT_TRUE(old.ok());
  Result<std::unique_ptr<PendingWrite>> w = fs_->BeginWrite(P("/f"));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->previous().has_value());
  EXPECT_EQ((*w)->previous()->inode, old->inode);
  EXPECT_EQ((*w)->previous()->size, 3u);
  std::string big(3 << 20, 'z');  // several MiB: exercises the partial-write loop
  ASSERT_TRUE((*w)->Write(big.data(), big.size()).ok());
  EXPECT_EQ(Read("/f"), "old");
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(Read("/f"), big);
  EXPECT_NE(fs_->Stat(P("/f"))->inode, old->inode);
}

TEST_P(FileSystemContractTest, UncommittedWriteLeavesNothingBehind) {
  MustPut("/f", "old");
  {
    Result<std::unique_ptr<PendingWrite>> w = fs_->BeginWrite(P("/f"));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("new", 3).ok());
    Result<std::unique_ptr<PendingWrite>> w2 = fs_->BeginWrite(P("/g"));
    ASSERT_TRUE(w2.ok());
    EXPECT_EQ(Reserved(ResourcePath()).size(), 2u);
  }
  EXPECT_TRUE(Reserved(ResourcePath()).empty());
  EXPECT_EQ(Read("/f"), "old");
  EXPECT_FALSE(Exists("/g"));
}

TEST_P(FileSystemContractTest, BeginWriteErrors) {
  MustPut("/f", "x");
  MustMkdir("/d");
  EXPECT_EQ(fs_->BeginWrite(P("/missing/x")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->BeginWrite(P("/f/x")).status().code(), StatusCode::kNotADirectory);
  EXPECT_EQ(fs_->BeginWrite(P("/d")).status().code(), StatusCode::kIsADirectory);
  EXPECT_EQ(fs_->BeginWrite(ResourcePath()).status().code(), StatusCode::kIsADirectory);
  EXPECT_TRUE(Reserved(ResourcePath()).empty());
}

TEST_P(FileSystemContractTest, CommitOntoADirectoryThatAppearedMeanwhile) {
  Result<std::unique_ptr<PendingWrite>> w = fs_->BeginWrite(P("/x"));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("data", 4).ok());
  MustMkdir("/x");
  EXPECT_EQ((*w)->Commit().code(), StatusCode::kIsADirectory);
  EXPECT_TRUE(fs_->Stat(P("/x"))->IsDirectory());
  w.value().reset();
  EXPECT_TRUE(Reserved(ResourcePath()).empty());
}

TEST_P(FileSystemContractTest, ConcurrentWritersToOneTargetNeverMix) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string content(4096 + t, static_cast<char>('a' + t));
      for (int i = 0; i < kRounds; ++i) {
        if (!Put(P("/shared"), content).ok()) ++failures;
        if (!fs_->Stat(P("/shared")).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::string final_content = Read("/shared");
  ASSERT_FALSE(final_content.empty());
  EXPECT_EQ(final_content, std::string(final_content.size(), final_content[0]));
  EXPECT_EQ(final_content.size(), 4096u + (final_content[0] - 'a'));
  EXPECT_TRUE(Reserved(ResourcePath()).empty());
}

TEST_P(FileSystemContractTest, MakeDirectory) {
  MustPut("/f", "x");
  ASSERT_TRUE(fs_->MakeDirectory(P("/d")).ok());
  EXPECT_TRUE(fs_->Stat(P("/d"))->IsDirectory());
  ASSERT_TRUE(fs_->MakeDirectory(P("/d/e")).ok());
  EXPECT_EQ(fs_->MakeDirectory(P("/d")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(fs_->MakeDirectory(P("/f")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(fs_->MakeDirectory(ResourcePath()).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(fs_->MakeDirectory(P("/missing/x")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->MakeDirectory(P("/f/x")).code(), StatusCode::kNotADirectory);
}

TEST_P(FileSystemContractTest, Remove) {
  MustPut("/f", "x");
  MustMkdir("/full");
  MustMkdir("/full/sub");
  MustMkdir("/empty");
  EXPECT_TRUE(fs_->Remove(P("/f")).ok());
  EXPECT_FALSE(Exists("/f"));
  EXPECT_TRUE(fs_->Remove(P("/empty")).ok());
  EXPECT_FALSE(Exists("/empty"));
  EXPECT_EQ(fs_->Remove(P("/full")).code(), StatusCode::kNotEmpty);
  EXPECT_EQ(fs_->Remove(P("/f")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Remove(P("/missing/x")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Remove(ResourcePath()).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(fs_->Remove(P("/full/sub")).ok());
  EXPECT_TRUE(fs_->Remove(P("/full")).ok());
}

TEST_P(FileSystemContractTest, Rename) {
  MustPut("/a", "A");
  MustPut("/b", "B");
  MustMkdir("/d");
  MustMkdir("/d/sub");
  MustMkdir("/empty");
  EXPECT_EQ(fs_->Rename(P("/a"), P("/b"), false).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Read("/a"), "A");
  EXPECT_EQ(Read("/b"), "B");
  ASSERT_TRUE(fs_->Rename(P("/a"), P("/b"), true).ok());
  EXPECT_FALSE(Exists("/a"));
  EXPECT_EQ(Read("/b"), "A");
  ASSERT_TRUE(fs_->Rename(P("/b"), P("/d/sub/c"), false).ok());
  EXPECT_EQ(Read("/d/sub/c"), "A");
  ASSERT_TRUE(fs_->Rename(P("/d"), P("/e"), false).ok());
  EXPECT_EQ(Read("/e/sub/c"), "A");
  // Replacing an empty directory is allowed, a non-empty one is not.
  MustMkdir("/d2");
  ASSERT_TRUE(fs_->Rename(P("/d2"), P("/empty"), true).ok());
  MustMkdir("/d3");
  EXPECT_EQ(fs_->Rename(P("/d3"), P("/e"), true).code(), StatusCode::kNotEmpty);
  MustPut("/f", "F");
  EXPECT_EQ(fs_->Rename(P("/f"), P("/empty"), true).code(), StatusCode::kIsADirectory);
  EXPECT_EQ(fs_->Rename(P("/d3"), P("/f"), true).code(), StatusCode::kNotADirectory);
  EXPECT_EQ(fs_->Rename(P("/missing"), P("/x"), false).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Rename(P("/f"), P("/missing/x"), false).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Rename(P("/e"), P("/e/sub/x"), false).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs_->Rename(ResourcePath(), P("/x"), false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fs_->Rename(P("/f"), ResourcePath(), true).code(), StatusCode::kPermissionDenied);
}

TEST_P(FileSystemContractTest, ExchangeSwapsTreesAndInternalPathsWork) {
  MustMkdir("/d");
  MustMkdir("/d/sub");
  MustPut("/d/sub/old", "OLD");
  ResourcePath stage = ResourcePath().InternalChild(".keepdav-stage-1");
  ASSERT_TRUE(fs_->MakeDirectory(stage).ok());
  ASSERT_TRUE(Put(stage.Child("new"), "NEW").ok());
  ASSERT_TRUE(fs_->Exchange(stage, P("/d")).ok());
  EXPECT_EQ(Read("/d/new"), "NEW");
  EXPECT_EQ(Read(stage.Child("sub").Child("old")), "OLD");
  // A file and a directory can trade places too.
  MustPut("/f", "F");
  ASSERT_TRUE(fs_->Exchange(P("/f"), P("/d")).ok());
  EXPECT_EQ(Read("/d"), "F");
  EXPECT_EQ(Read("/f/new"), "NEW");
  EXPECT_EQ(fs_->Exchange(P("/f"), P("/missing")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Exchange(P("/f"), P("/f/new")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs_->Exchange(ResourcePath(), P("/f")).code(), StatusCode::kInvalidArgument);
}

TEST_P(FileSystemContractTest, ListForRemovalAlsoReportsReservedNames) {
  MustMkdir("/d");
  MustPut("/d/a", "A");
  ResourcePath leftover = P("/d").InternalChild(".keepdav-tmp-123");
  ASSERT_TRUE(fs_->CopyFileNew(P("/d/a"), leftover).ok());
  EXPECT_EQ(Names(P("/d")), (std::set<std::string>{"a"}));
  EXPECT_EQ(Names(P("/d"), true), (std::set<std::string>{"a", ".keepdav-tmp-123"}));
  ASSERT_TRUE(fs_->Remove(leftover).ok());
  EXPECT_TRUE(Reserved(P("/d")).empty());
}

TEST_P(FileSystemContractTest, CopyFileNewCreatesInPlaceAndNeverOverwrites) {
  MustPut("/a", "A");
  ASSERT_TRUE(fs_->CopyFileNew(P("/a"), P("/b")).ok());
  EXPECT_EQ(Read("/b"), "A");
  EXPECT_EQ(fs_->Stat(P("/b"))->mtime_ns, fs_->Stat(P("/a"))->mtime_ns);
  MustPut("/c", "C");
  EXPECT_EQ(fs_->CopyFileNew(P("/a"), P("/c")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Read("/c"), "C");
  EXPECT_EQ(fs_->CopyFileNew(P("/missing"), P("/d")).code(), StatusCode::kNotFound);
  EXPECT_FALSE(Exists("/d"));
  MustMkdir("/dir");
  EXPECT_EQ(fs_->CopyFileNew(P("/dir"), P("/e")).code(), StatusCode::kIsADirectory);
}

TEST_P(FileSystemContractTest, CopyFile) {
  std::string content(1 << 20, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7);
  MustPut("/src", content);
  MustPut("/dst", "old");
  MustMkdir("/d");
  ASSERT_TRUE(fs_->SetModifiedTime(P("/src"), int64_t{1000000000} * 1000000000 + 5).ok());
  ASSERT_TRUE(fs_->CopyFile(P("/src"), P("/dst")).ok());
  EXPECT_EQ(Read("/dst"), content);
  ASSERT_TRUE(fs_->CopyFile(P("/src"), P("/d/new")).ok());
  EXPECT_EQ(Read("/d/new"), content);
  Result<FileInfo> src = fs_->Stat(P("/src"));
  Result<FileInfo> dst = fs_->Stat(P("/d/new"));
  ASSERT_TRUE(src.ok() && dst.ok());
  EXPECT_EQ(dst->mtime_ns, src->mtime_ns);
  EXPECT_NE(dst->inode, src->inode);
  EXPECT_EQ(fs_->CopyFile(P("/d"), P("/x")).code(), StatusCode::kIsADirectory);
  EXPECT_EQ(fs_->CopyFile(P("/src"), P("/d")).code(), StatusCode::kIsADirectory);
  EXPECT_EQ(fs_->CopyFile(P("/missing"), P("/x")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->CopyFile(P("/src"), P("/missing/x")).code(), StatusCode::kNotFound);
  EXPECT_TRUE(Reserved(ResourcePath()).empty());
  EXPECT_TRUE(Reserved(P("/d")).empty());
}

TEST_P(FileSystemContractTest, SetModifiedTime) {
  MustPut("/f", "x");
  MustMkdir("/d");
  const int64_t t = int64_t{1234567890} * 1000000000 + 123456789;
  for (const char* p : {"/f", "/d", "/"}) {
    SCOPED_TRACE(p);
    ASSERT_TRUE(fs_->SetModifiedTime(P(p), t).ok());
    Result<FileInfo> info = fs_->Stat(P(p));
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->mtime_ns, t);
  }
  // Before 1970: whole seconds are floored, so the nanoseconds stay in range.
  const int64_t before_epoch = -1500000000;  // -1.5 s
  ASSERT_TRUE(fs_->SetModifiedTime(P("/f"), before_epoch).ok());
  EXPECT_EQ(fs_->Stat(P("/f"))->mtime_ns, before_epoch);
  EXPECT_EQ(fs_->SetModifiedTime(P("/missing"), t).code(), StatusCode::kNotFound);
}

// The change time is what no client can set: ChecksumStore's FileIdentity relies on it moving
// with a rename and a time set (Linux takes it from a coarse clock: the pauses let it tick).
TEST_P(FileSystemContractTest, ChangeTimeMovesWithEveryChange) {
  MustPut("/f", "x");
  Result<FileInfo> made = fs_->Stat(P("/f"));
  ASSERT_TRUE(made.ok());
  EXPECT_GT(made->ctime_ns, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs_->SetModifiedTime(P("/f"), made->mtime_ns).ok());
  Result<FileInfo> touched = fs_->Stat(P("/f"));
  ASSERT_TRUE(touched.ok());
  EXPECT_EQ(touched->mtime_ns, made->mtime_ns);
  EXPECT_NE(touched->ctime_ns, made->ctime_ns);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs_->Rename(P("/f"), P("/g"), false).ok());
  Result<FileInfo> renamed = fs_->Stat(P("/g"));
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->inode, made->inode);
  EXPECT_NE(renamed->ctime_ns, touched->ctime_ns);
}

TEST_P(FileSystemContractTest, OpenForUpdateChangesTheFileInPlace) {
  MustPut("/f", "0123456789");
  Result<FileInfo> before = fs_->Stat(P("/f"));
  ASSERT_TRUE(before.ok());
  auto file = fs_->OpenForUpdate(P("/f"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  UpdatableFile& f = *file.value();
  EXPECT_EQ(f.info().size, 10u);
  EXPECT_EQ(f.info().inode, before->inode);
  char buf[4];
  Result<size_t> n = f.ReadAt(8, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "89");
  ASSERT_TRUE(f.WriteAt(2, "ab", 2).ok());
  ASSERT_TRUE(f.WriteAt(10, "XYZ", 3).ok());  // at the end: grows
  ASSERT_TRUE(f.Sync().ok());
  EXPECT_EQ(Read("/f"), "01ab456789XYZ");
  ASSERT_TRUE(f.Truncate(4).ok());
  EXPECT_EQ(Read("/f"), "01ab");
  Result<FileInfo> now = f.Stat();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->size, 4u);
  EXPECT_EQ(now->inode, before->inode);  // in place: the same file
  EXPECT_EQ(fs_->Stat(P("/f"))->size, 4u);
  MustMkdir("/d");
  EXPECT_EQ(fs_->OpenForUpdate(P("/d")).status().code(), StatusCode::kIsADirectory);
  EXPECT_EQ(fs_->OpenForUpdate(P("/missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->OpenForUpdate(P("/f/x")).status().code(), StatusCode::kNotADirectory);
}

TEST_P(FileSystemContractTest, Space) {
  Result<SpaceInfo> space = fs_->Space();
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  EXPECT_GT(space->available_bytes + space->used_bytes, 0u);
}

TEST_P(FileSystemContractTest, CopyTreeCopiesContentsAndTimes) {
  MustMkdir("/t");
  MustMkdir("/t/a");
  MustMkdir("/t/a/b");
  MustPut("/t/f", "top");
  MustPut("/t/a/b/g", "deep");
  ASSERT_TRUE(fs_->SetModifiedTime(P("/t/a/b/g"), 1000000000123456789).ok());
  ASSERT_TRUE(fs_->MakeDirectory(P("/t").InternalChild(".keepdav-stage-9")).ok());
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 256, rec).ok());
  EXPECT_TRUE(rec.failures.empty());
  EXPECT_EQ(rec.done.load(), 5);
  EXPECT_EQ(Read("/c/f"), "top");
  EXPECT_EQ(Read("/c/a/b/g"), "deep");
  EXPECT_EQ(fs_->Stat(P("/c/a/b/g"))->mtime_ns, 1000000000123456789);
  EXPECT_TRUE(Reserved(P("/c")).empty());  // reserved names are not copied
  EXPECT_EQ(CopyTree(P("/t"), P("/c"), true, 256, rec).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(CopyTree(P("/missing"), P("/h"), true, 256, rec).code(), StatusCode::kNotFound);
  Recorder shallow;
  ASSERT_TRUE(CopyTree(P("/t"), P("/s"), true, 1, shallow).ok());
  ASSERT_EQ(shallow.failures.size(), 1u);
  EXPECT_EQ(shallow.failures[0], (Recorder::Failure{"/s/a", true, StatusCode::kTooLarge}));
}

TEST_P(FileSystemContractTest, RemoveTreeRemovesEverythingWithReservedLeftovers) {
  MustMkdir("/t");
  MustMkdir("/t/a");
  MustPut("/t/a/f", "x");
  MustPut("/t/g", "y");
  ASSERT_TRUE(fs_->CopyFileNew(P("/t/g"), P("/t/a").InternalChild(".keepdav-tmp-1")).ok());
  Recorder rec;
  ASSERT_TRUE(RemoveTree(P("/t"), 256, rec).ok());
  EXPECT_TRUE(rec.failures.empty());
  EXPECT_EQ(rec.done.load(), 5);
  EXPECT_FALSE(Exists("/t"));
  Recorder root;
  EXPECT_EQ(RemoveTree(ResourcePath(), 256, root).code(), StatusCode::kPermissionDenied);
  Recorder missing;
  EXPECT_EQ(RemoveTree(P("/t"), 256, missing).code(), StatusCode::kNotFound);
}

// From tree_operations_test.cc: bigger trees, and the limits.

TEST_P(FileSystemContractTest, CopyTreeCopiesEveryMemberContentsAndTimes) {
  MakeTree("/t", 5);
  std::string big(300000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13);
  MustPut("/t/big", big);  // beyond the small-file buffer: copy_file_range
  MustPut("/t/empty", "");
  ASSERT_TRUE(fs_->SetModifiedTime(P("/t/d1/s2/f3"), 1000000000123456789).ok());
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 256, rec).ok());
  EXPECT_TRUE(rec.failures.empty());
  EXPECT_EQ(rec.done.load(), 1 + 3 + 9 + 45 + 2);
  EXPECT_EQ(CountEntries(P("/c")), CountEntries(P("/t")));
  EXPECT_EQ(CountEntries(P("/c")), 3u + 9 + 45 + 2);
  EXPECT_EQ(Read("/c/big"), big);
  EXPECT_EQ(Read("/c/empty"), "");
  EXPECT_EQ(Read("/c/d2/s0/f4"), "content 204");
  EXPECT_EQ(fs_->Stat(P("/c/d1/s2/f3"))->mtime_ns, 1000000000123456789);
}

TEST_P(FileSystemContractTest, CopyTreeWithoutMembersAndOfAFile) {
  MakeTree("/t", 1);
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), false, 256, rec).ok());
  EXPECT_TRUE(Names(P("/c")).empty());
  ASSERT_TRUE(CopyTree(P("/t/d0/s0/f0"), P("/g"), true, 256, rec).ok());
  EXPECT_EQ(Read("/g"), "content 0");
  EXPECT_EQ(rec.done.load(), 2);
  EXPECT_EQ(CopyTree(P("/t"), P("/g"), true, 256, rec).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(CopyTree(P("/missing"), P("/h"), true, 256, rec).code(), StatusCode::kNotFound);
}

TEST_P(FileSystemContractTest, CopyTreeStopsAtTheDepthLimit) {
  MustMkdir("/t");
  MustMkdir("/t/a");
  MustMkdir("/t/a/b");
  MustMkdir("/t/a/b/c");
  MustPut("/t/a/b/c/f", "deep");
  MustPut("/t/a/f", "shallow");
  Recorder rec;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 2, rec).ok());
  EXPECT_EQ(rec.failure_set(),
            (std::multiset<Recorder::Failure>{{"/c/a/b", true, StatusCode::kTooLarge}}));
  EXPECT_EQ(Read("/c/a/f"), "shallow");
  EXPECT_FALSE(Exists("/c/a/b/c"));
}

TEST_P(FileSystemContractTest, CopyTreeStopsWhenCancelled) {
  MakeTree("/t", 20);
  Recorder rec;
  rec.cancel_after = 30;
  ASSERT_TRUE(CopyTree(P("/t"), P("/c"), true, 256, rec).ok());
  ASSERT_FALSE(rec.failures.empty());
  bool saw_cancel = false;
  for (const auto& f : rec.failures) saw_cancel |= f.code == StatusCode::kIoError;
  EXPECT_TRUE(saw_cancel);
  EXPECT_LT(CountEntries(P("/c")), CountEntries(P("/t")));
  // A few members may be under way on other threads when the cancellation is seen.
  EXPECT_LT(rec.done.load(), 30 + 8);
}

TEST_P(FileSystemContractTest, RemoveTreeStopsAtTheDepthLimitAndWhenCancelled) {
  MustMkdir("/t");
  MustMkdir("/t/a");
  MustMkdir("/t/a/b");
  MustMkdir("/t/a/b/c");
  MustPut("/t/a/f", "shallow");
  Recorder rec;
  EXPECT_EQ(RemoveTree(P("/t"), 2, rec).code(), StatusCode::kTooLarge);
  EXPECT_EQ(rec.failure_set(),
            (std::multiset<Recorder::Failure>{{"/t/a/b", true, StatusCode::kTooLarge}}));
  EXPECT_FALSE(Exists("/t/a/f"));

  MakeTree("/u", 20);
  Recorder cancelling;
  cancelling.cancel_after = 25;
  Status s = RemoveTree(P("/u"), 256, cancelling);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_TRUE(cancelling.failures.empty());
  EXPECT_TRUE(Exists("/u"));
  EXPECT_LT(cancelling.done.load(), 25 + 8);
}

TEST_P(FileSystemContractTest, RemoveTreeRefusesTheRootAndReportsAMissingPath) {
  Recorder rec;
  EXPECT_EQ(RemoveTree(P("/"), 256, rec).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(RemoveTree(P("/missing"), 256, rec).code(), StatusCode::kNotFound);
  EXPECT_EQ(rec.failures.size(), 2u);
  MustPut("/file", "x");
  ASSERT_TRUE(RemoveTree(P("/file"), 256, rec).ok());
  EXPECT_FALSE(Exists("/file"));
}

INSTANTIATE_TEST_SUITE_P(Implementations, FileSystemContractTest,
                         ::testing::Values(Impl::kPosixOpenat2, Impl::kPosixWalk,
                                           Impl::kPosixFourThreads, Impl::kMemory,
                                           Impl::kMemberWalk),
                         [](const ::testing::TestParamInfo<Impl>& info) {
                           switch (info.param) {
                             case Impl::kPosixOpenat2:
                               return "PosixOpenat2";
                             case Impl::kPosixWalk:
                               return "PosixWalk";
                             case Impl::kPosixFourThreads:
                               return "PosixFourThreads";
                             case Impl::kMemory:
                               return "Memory";
                             case Impl::kMemberWalk:
                               return "MemberWalk";
                           }
                           return "?";
                         });

}  // namespace
}  // namespace keepdav::storage
