// What only PosixFileSystem has, over a temporary directory: symlinks, special files, hidden
// names, modes, the root descriptor, batched listings and the open-file cache. Run twice: once
// resolving with openat2(2) and once with the openat(O_NOFOLLOW) walk that kernels before 5.6
// get. At the end, CopyTree and RemoveTree over symlinks, FIFOs, hidden names and modes, for the
// descriptor walk and MemberWalk. The FileSystem contract itself is in
// file_system_contract_test.cc.
#include "storage/posix_file_system.h"

#include "storage/member_walk.h"
#include "tests/storage/temp_dir.h"

#include "tests/storage/status_printer.h"
#include "tests/storage/test_files.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace keepdav::storage {
namespace {

using test_support::P;
using test_support::ReadAll;
using test_support::ReadFile;
using test_support::WriteFile;

namespace fs = std::filesystem;

// Names on disk that start with the reserved prefix, read behind PosixFileSystem's back.
std::vector<std::string> ReservedOnDisk(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (ResourcePath::IsReservedName(name)) out.push_back(name);
  }
  return out;
}

class PosixFileSystemTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "keepdav-fs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    base_ = templ;
    root_ = base_ / "root";
    outside_ = base_ / "outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
    WriteFile(outside_ / "secret.txt", "secret");
    Reopen({});
  }
  void TearDown() override {
    fs_.reset();
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  void Reopen(std::set<std::string> hidden, size_t open_file_cache = 128,
              int open_file_cache_ms = 1000) {
    PosixFileSystem::Options options;
    options.hidden = std::move(hidden);
    options.allow_openat2 = GetParam();
    options.open_file_cache = open_file_cache;
    options.open_file_cache_ms = open_file_cache_ms;
    Result<std::unique_ptr<PosixFileSystem>> r = PosixFileSystem::Open(root_.string(), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    fs_ = std::move(r).value();
  }

  std::set<std::string> ListNames(const ResourcePath& dir) {
    std::set<std::string> names;
    Status s = fs_->List(dir, [&](std::string_view name, const FileInfo&) {
      EXPECT_TRUE(names.insert(std::string(name)).second) << "listed twice: " << name;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return names;
  }

  Status WriteVia(const ResourcePath& p, const std::string& content) {
    Result<std::unique_ptr<PendingWrite>> w = fs_->BeginWrite(p);
    if (!w.ok()) return w.status();
    Status s = (*w)->Write(content.data(), content.size());
    if (!s.ok()) return s;
    return (*w)->Commit();
  }

  fs::path base_, root_, outside_;
  std::unique_ptr<PosixFileSystem> fs_;
};

TEST_P(PosixFileSystemTest, OpenRequiresAnExistingDirectory) {
  PosixFileSystem::Options options;
  EXPECT_EQ(PosixFileSystem::Open((base_ / "missing").string(), options).status().code(),
            StatusCode::kNotFound);
  WriteFile(base_ / "file", "x");
  EXPECT_EQ(PosixFileSystem::Open((base_ / "file").string(), options).status().code(),
            StatusCode::kNotADirectory);
}

TEST_P(PosixFileSystemTest, StatReportsTheFiguresOnDisk) {
  WriteFile(root_ / "f", "hello");
  Result<FileInfo> f = fs_->Stat(P("/f"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat((root_ / "f").c_str(), &st), 0);
  EXPECT_EQ(f->inode, st.st_ino);
  EXPECT_EQ(f->device, st.st_dev);
  EXPECT_EQ(f->mtime_ns, int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec);
}

TEST_P(PosixFileSystemTest, OpenReadGivesADescriptorForZeroCopySends) {
  WriteFile(root_ / "f", "content");
  Result<std::unique_ptr<ReadableFile>> f = fs_->OpenRead(P("/f"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_GE((*f)->NativeHandle(), 0);
  EXPECT_EQ(ReadAll(**f), "content");
}

TEST_P(PosixFileSystemTest, SpecialFilesAreOtherAndNeverOpened) {
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
  Result<FileInfo> info = fs_->Stat(P("/fifo"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->type, FileType::kOther);
  // Would block forever without O_NONBLOCK, as no writer exists.
  EXPECT_EQ(fs_->OpenRead(P("/fifo")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fs_->CopyFile(P("/fifo"), P("/copy")).code(), StatusCode::kPermissionDenied);
}

TEST_P(PosixFileSystemTest, ListSkipsReservedHiddenUnaddressableAndSymlinks) {
  WriteFile(root_ / "a", "1");
  WriteFile(root_ / "b", "22");
  fs::create_directory(root_ / "d");
  WriteFile(root_ / "d" / "inner", "x");
  WriteFile(root_ / "d" / "secret", "x");
  WriteFile(root_ / ".keepdav-tmp-1234", "partial");
  fs::create_directory(root_ / ".keepdav-trash");
  WriteFile(root_ / "back\\slash", "x");
  WriteFile(root_ / "keepdav.db", "db");
  fs::create_symlink("a", root_ / "link");
  fs::create_symlink(outside_, root_ / "out");
  fs::create_symlink("d", root_ / "dirlink");
  Reopen({"/keepdav.db", "d/secret/"});

  EXPECT_EQ(ListNames(ResourcePath()), (std::set<std::string>{"a", "b", "d"}));
  EXPECT_EQ(ListNames(P("/d")), (std::set<std::string>{"inner"}));

  std::map<std::string, FileInfo> infos;
  ASSERT_TRUE(fs_->List(ResourcePath(),
                        [&](std::string_view name, const FileInfo& i) {
                          infos[std::string(name)] = i;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(infos["b"].size, 2u);
  EXPECT_TRUE(infos["d"].IsDirectory());

  int calls = 0;
  EXPECT_TRUE(fs_->List(ResourcePath(),
                        [&](std::string_view, const FileInfo&) {
                          ++calls;
                          return false;
                        })
                  .ok());
  EXPECT_EQ(calls, 1);

  auto ignore = [](std::string_view, const FileInfo&) { return true; };
  EXPECT_EQ(fs_->List(P("/a"), ignore).code(), StatusCode::kNotADirectory);
  EXPECT_EQ(fs_->List(P("/missing"), ignore).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->List(P("/dirlink"), ignore).code(), StatusCode::kNotFound);
}

TEST_P(PosixFileSystemTest, HiddenNamesDoNotExist) {
  WriteFile(root_ / "keepdav.db", "db");
  fs::create_directory(root_ / "state");
  WriteFile(root_ / "state" / "locks", "l");
  WriteFile(root_ / "a", "a");
  Reopen({"keepdav.db", "state"});

  EXPECT_EQ(fs_->Stat(P("/keepdav.db")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Stat(P("/state/locks")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->OpenRead(P("/keepdav.db")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Remove(P("/keepdav.db")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Rename(P("/keepdav.db"), P("/x"), false).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->CopyFile(P("/keepdav.db"), P("/x")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->SetModifiedTime(P("/keepdav.db"), 0).code(), StatusCode::kNotFound);
  // Creating a hidden name would overwrite the database: refused rather than "not found".
  EXPECT_EQ(fs_->BeginWrite(P("/keepdav.db")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fs_->Rename(P("/a"), P("/keepdav.db"), true).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fs_->CopyFile(P("/a"), P("/keepdav.db")).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fs_->MakeDirectory(P("/state/x")).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ReadFile(root_ / "keepdav.db"), "db");
  // A name that merely starts like a hidden one is ordinary.
  EXPECT_TRUE(WriteVia(P("/keepdav.db2"), "x").ok());
  EXPECT_TRUE(fs_->Stat(P("/keepdav.db2")).ok());
}

TEST_P(PosixFileSystemTest, SymlinkOutOfTheRootIsNeverFollowed) {
  fs::create_symlink(outside_, root_ / "out");
  fs::create_symlink(outside_ / "secret.txt", root_ / "outfile");
  fs::create_symlink("/", root_ / "slash");
  fs::create_symlink("../outside", root_ / "relout");
  WriteFile(root_ / "a", "a");
  const std::string before = ReadFile(outside_ / "secret.txt");
  struct stat secret_before;
  ASSERT_EQ(::stat((outside_ / "secret.txt").c_str(), &secret_before), 0);

  for (const char* link : {"/out", "/relout", "/slash"}) {
    SCOPED_TRACE(link);
    ResourcePath l = P(link);
    EXPECT_EQ(fs_->Stat(l).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->Stat(l.Child("secret.txt")).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->OpenRead(l.Child("secret.txt")).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->List(l, [](std::string_view, const FileInfo&) { return true; }).code(),
              StatusCode::kNotFound);
    EXPECT_EQ(fs_->BeginWrite(l.Child("new")).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->MakeDirectory(l.Child("newdir")).code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->Remove(l.Child("secret.txt")).code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->Rename(l.Child("secret.txt"), P("/stolen"), true).code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->Rename(P("/a"), l.Child("a"), true).code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->CopyFile(l.Child("secret.txt"), P("/stolen")).code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->CopyFile(P("/a"), l.Child("planted")).code(), StatusCode::kNotFound);
    EXPECT_EQ(fs_->SetModifiedTime(l.Child("secret.txt"), 0).code(), StatusCode::kNotFound);
  }
  // A symlink to a file: the link itself reads as nonexistent, and is left alone.
  EXPECT_EQ(fs_->Stat(P("/outfile")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->OpenRead(P("/outfile")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->CopyFile(P("/outfile"), P("/stolen")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->SetModifiedTime(P("/outfile"), 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Remove(P("/outfile")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Rename(P("/outfile"), P("/moved"), false).code(), StatusCode::kNotFound);
  EXPECT_TRUE(fs::is_symlink(root_ / "outfile"));

  EXPECT_EQ(ReadFile(outside_ / "secret.txt"), before);
  struct stat secret_after;
  ASSERT_EQ(::stat((outside_ / "secret.txt").c_str(), &secret_after), 0);
  EXPECT_EQ(secret_after.st_mtim.tv_sec, secret_before.st_mtim.tv_sec);
  EXPECT_EQ(secret_after.st_mtim.tv_nsec, secret_before.st_mtim.tv_nsec);
  EXPECT_FALSE(fs::exists(outside_ / "new"));
  EXPECT_FALSE(fs::exists(outside_ / "newdir"));
  EXPECT_FALSE(fs::exists(outside_ / "a"));
  EXPECT_FALSE(fs::exists(outside_ / "planted"));
  EXPECT_FALSE(fs::exists(root_ / "stolen"));
  EXPECT_TRUE(ReservedOnDisk(outside_).empty());
}

TEST_P(PosixFileSystemTest, SymlinkInsideTheRootIsAlsoNotFollowed) {
  fs::create_directory(root_ / "d");
  WriteFile(root_ / "d" / "f", "f");
  fs::create_symlink("d", root_ / "alias");
  EXPECT_EQ(fs_->Stat(P("/alias/f")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->OpenRead(P("/alias/f")).status().code(), StatusCode::kNotFound);
}

TEST_P(PosixFileSystemTest, NewFilesGet0644LessUmask) {
  mode_t old = ::umask(027);
  Status s = WriteVia(P("/f"), "x");
  ::umask(old);
  ASSERT_TRUE(s.ok());
  struct stat st;
  ASSERT_EQ(::stat((root_ / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

// Large listings are stat'ed in batches, half of each on a helper thread: every member still
// comes exactly once with its own figures, symlinks and reserved names stay out, an early stop
// stops, and listings running at once (the helper busy for one of them) agree.
TEST_P(PosixFileSystemTest, LargeListingsInBatches) {
  fs::create_directories(root_ / "big");
  const int kFiles = 1300;  // two full batches and a part
  for (int i = 0; i < kFiles; ++i) {
    WriteFile(root_ / "big" / ("f" + std::to_string(i)),
              std::string(static_cast<size_t>(i % 97), 'x'));
    if (i % 100 == 0)
      fs::create_symlink("f" + std::to_string(i), root_ / "big" / ("l" + std::to_string(i)));
  }
  WriteFile(root_ / "big" / ".keepdav-tmp-leftover", "");
  auto list_all = [&](std::map<std::string, uint64_t>* sizes) {
    Status s = fs_->List(P("/big"), [&](std::string_view name, const FileInfo& info) {
      EXPECT_TRUE(sizes->emplace(std::string(name), info.size).second) << "twice: " << name;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  };
  std::map<std::string, uint64_t> sizes;
  list_all(&sizes);
  ASSERT_EQ(sizes.size(), static_cast<size_t>(kFiles));
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_EQ(sizes["f" + std::to_string(i)], static_cast<uint64_t>(i % 97)) << i;
  }
  int seen = 0;
  ASSERT_TRUE(
      fs_->List(P("/big"), [&](std::string_view, const FileInfo&) { return ++seen < 700; }).ok());
  EXPECT_EQ(seen, 700);
  std::vector<std::map<std::string, uint64_t>> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&list_all, &r] { list_all(&r); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, sizes);
}

// The open-file cache (on by default) never serves what was changed through the file system,
// and notices changes made behind its back: in place (re-stat), unlink or replacement by rename
// (nlink 0), and, after its time limit, anything else.
TEST_P(PosixFileSystemTest, OpenFileCacheStaysCurrent) {
  auto read = [&](const char* path) -> std::string {
    Result<std::unique_ptr<ReadableFile>> f = fs_->OpenRead(P(path));
    if (!f.ok()) return "<" + f.status().ToString() + ">";
    std::string body = ReadAll(**f);
    EXPECT_EQ((*f)->info().size, body.size()) << path;
    return body;
  };
  WriteFile(root_ / "f", "one");
  EXPECT_EQ(read("/f"), "one");
  EXPECT_EQ(read("/f"), "one");  // from the cache
  ASSERT_TRUE(WriteVia(P("/f"), "two!").ok());
  EXPECT_EQ(read("/f"), "two!");
  // In place, behind keepdav's back: the kept descriptor sees it, and so does its size.
  WriteFile(root_ / "f", "three");
  EXPECT_EQ(read("/f"), "three");
  // Replaced by rename behind keepdav's back: the kept file is unlinked.
  WriteFile(root_ / "new", "four");
  fs::rename(root_ / "new", root_ / "f");
  EXPECT_EQ(read("/f"), "four");
  // Deleted behind keepdav's back.
  fs::remove(root_ / "f");
  EXPECT_EQ(fs_->OpenRead(P("/f")).status().code(), StatusCode::kNotFound);
  // Changes through the file system: rename, exchange, copy over, remove.
  WriteFile(root_ / "a", "a");
  WriteFile(root_ / "b", "b");
  EXPECT_EQ(read("/a"), "a");
  EXPECT_EQ(read("/b"), "b");
  ASSERT_TRUE(fs_->Exchange(P("/a"), P("/b")).ok());
  EXPECT_EQ(read("/a"), "b");
  EXPECT_EQ(read("/b"), "a");
  ASSERT_TRUE(fs_->CopyFile(P("/a"), P("/b")).ok());
  EXPECT_EQ(read("/b"), "b");
  ASSERT_TRUE(fs_->Rename(P("/a"), P("/c"), /*replace=*/false).ok());
  EXPECT_EQ(fs_->OpenRead(P("/a")).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs_->Remove(P("/b")).ok());
  EXPECT_EQ(fs_->OpenRead(P("/b")).status().code(), StatusCode::kNotFound);
}

// A kept file renamed away (still linked) with another put in its place: only the time limit
// tells, and without a cache there is nothing to tell.
TEST_P(PosixFileSystemTest, OpenFileCacheAndRenamesBehindItsBack) {
  struct Case {
    size_t entries;
    int ttl_ms;
    int wait_ms;
  };
  for (const Case& c : {Case{128, 50, 120}, Case{0, 1000, 0}}) {
    Reopen({}, c.entries, c.ttl_ms);
    WriteFile(root_ / "f", "old");
    ASSERT_TRUE(fs_->OpenRead(P("/f")).ok());
    fs::rename(root_ / "f", root_ / "elsewhere");
    WriteFile(root_ / "f", "new");
    std::this_thread::sleep_for(std::chrono::milliseconds(c.wait_ms));
    Result<std::unique_ptr<ReadableFile>> f = fs_->OpenRead(P("/f"));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(ReadAll(**f), "new") << "cache of " << c.entries;
  }
}

INSTANTIATE_TEST_SUITE_P(Resolvers, PosixFileSystemTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Openat2" : "OpenatWalk";
                         });

// ---------------------------------------------------------------------------------------------
// CopyTree and RemoveTree over what only a real directory has (symlinks, FIFOs, hidden names,
// modes): PosixFileSystem's descriptor walk, on one thread and four, and MemberWalk, the
// member-by-member reference. The cases every FileSystem shares are in the contract suite.

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

enum class TreeImpl { kPosixOneThread, kPosixFourThreads, kMemberWalk };

class PosixTreeOperationsTest : public ::testing::TestWithParam<TreeImpl> {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "root";
    fs::create_directories(root_);
    Reopen({});
  }

  void Reopen(std::set<std::string> hidden) {
    PosixFileSystem::Options options;
    options.hidden = std::move(hidden);
    options.tree_threads = GetParam() == TreeImpl::kPosixFourThreads ? 4 : 1;
    auto r = PosixFileSystem::Open(root_.string(), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    fs_ = std::move(r).value();
  }

  Status RemoveTree(const ResourcePath& p, int max_depth, Recorder& rec) {
    if (GetParam() == TreeImpl::kMemberWalk) return MemberWalk::RemoveTree(*fs_, p, max_depth, rec);
    return fs_->RemoveTree(p, max_depth, rec);
  }
  Status CopyTree(const ResourcePath& from, const ResourcePath& to, bool with_members,
                  int max_depth, Recorder& rec) {
    if (GetParam() == TreeImpl::kMemberWalk) {
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

TEST_P(PosixTreeOperationsTest, CopyTreeSkipsSymlinksReservedAndHiddenNamesAndSpecialFiles) {
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

TEST_P(PosixTreeOperationsTest, CopyTreeReportsMembersThatCannotBeRead) {
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

TEST_P(PosixTreeOperationsTest, RemoveTreeRemovesEverythingWithReservedLeftoversAndSpecialFiles) {
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

TEST_P(PosixTreeOperationsTest, RemoveTreeLeavesSymlinksHiddenNamesAndTheirAncestors) {
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

TEST_P(PosixTreeOperationsTest, RemoveTreeReportsEachMemberThatStays) {
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

INSTANTIATE_TEST_SUITE_P(TreeImplementations, PosixTreeOperationsTest,
                         ::testing::Values(TreeImpl::kPosixOneThread, TreeImpl::kPosixFourThreads,
                                           TreeImpl::kMemberWalk),
                         [](const ::testing::TestParamInfo<TreeImpl>& info) {
                           switch (info.param) {
                             case TreeImpl::kPosixOneThread:
                               return "PosixOneThread";
                             case TreeImpl::kPosixFourThreads:
                               return "PosixFourThreads";
                             default:
                               return "MemberWalk";
                           }
                         });

}  // namespace
}  // namespace keepdav::storage
