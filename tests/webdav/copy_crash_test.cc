// Crash safety of COPY with "Overwrite: T": the copy is stopped at every mutating file-system call
// in turn (FaultInjectingFileSystem::CrashAtMutation), the database is snapshotted exactly as a
// killed process would leave it, and a "restarted" server (fresh stores on the snapshot, an
// unwrapped file system over the same files) runs start-up recovery. The destination must then be
// entirely the old tree or entirely the new one, files and dead properties alike; the source must
// be intact and no reserved ".keepdav-*" entry may be left anywhere.
//
// Run over PosixFileSystem on a temporary directory and over MemoryFileSystem (the file-system
// crash and snapshot here; crash_matrix_test.cc walks every method over both seams in memory).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/fault_injecting_file_system.h"
#include "storage/memory_file_system.h"
#include "storage/posix_file_system.h"
#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "tests/webdav/crash_harness.h"
#include "webdav/dav_handler.h"
#include "webdav/start_up_recovery.h"

namespace keepdav::webdav {
namespace {

namespace fsys = std::filesystem;
using crash_test::P;
using crash_test::ReadAll;
using storage::FileInfo;
using storage::ResourcePath;
using storage::Status;

// A tree as seen through the API: relative path -> file bytes ("/" for a collection), and
// relative path -> the urn:z color property.
struct TreeState {
  std::map<std::string, std::string> entries;
  std::map<std::string, std::string> colors;
  bool operator==(const TreeState& o) const { return entries == o.entries && colors == o.colors; }
};

std::string Describe(const TreeState& t) {
  std::string out;
  for (const auto& [k, v] : t.entries) out += "  " + k + " = " + v + "\n";
  for (const auto& [k, v] : t.colors) out += "  prop " + k + " = " + v + "\n";
  return out;
}

const storage::PropertyName kColor{"urn:z", "color"};

void Collect(storage::FileSystem& fs, storage::PropertyStore& props, const ResourcePath& top,
             const ResourcePath& dir, TreeState* out) {
  auto rel = [&](const ResourcePath& p) {
    return p == top ? std::string(".") : p.str().substr(top.str().size() + 1);
  };
  auto color = props.Get(dir, kColor);
  if (color.ok()) out->colors[rel(dir)] = *color;
  std::vector<std::pair<std::string, bool>> members;
  Status s = fs.ListForRemoval(dir, [&](std::string_view name, const FileInfo& info) {
    members.emplace_back(std::string(name), info.IsDirectory());
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (const auto& [name, is_dir] : members) {
    if (ResourcePath::IsReservedName(name)) {
      out->entries[rel(dir) + "/" + name] = "<reserved leftover>";
      continue;
    }
    ResourcePath child = dir.Child(name);
    if (is_dir) {
      out->entries[rel(child)] = "/";
      Collect(fs, props, top, child, out);
    } else {
      out->entries[rel(child)] = ReadAll(fs, child);
      auto c = props.Get(child, kColor);
      if (c.ok()) out->colors[rel(child)] = *c;
    }
  }
}

TreeState StateOf(storage::FileSystem& fs, storage::PropertyStore& props, const ResourcePath& top) {
  TreeState t;
  auto info = fs.Stat(top);
  if (!info.ok()) {
    t.entries["."] = "<" + info.status().ToString() + ">";
    return t;
  }
  t.entries["."] = "/";
  Collect(fs, props, top, top, &t);
  return t;
}

// Builds `files` (relative paths; a trailing "/" makes a collection) below `top`, each member
// with color "<tag>:<relative path>".
void Build(storage::FileSystem& fs, storage::PropertyStore& props, const std::string& top,
           const std::string& tag, const std::vector<std::string>& files) {
  ASSERT_TRUE(fs.MakeDirectory(P(top)).ok());
  ASSERT_TRUE(props.Apply(P(top), {{kColor, false, tag + ":."}}).ok());
  for (const std::string& f : files) {
    bool dir = f.back() == '/';
    std::string rel = dir ? f.substr(0, f.size() - 1) : f;
    ResourcePath p = P(top + "/" + rel);
    if (dir) {
      ASSERT_TRUE(fs.MakeDirectory(p).ok()) << rel;
    } else {
      auto w = fs.BeginWrite(p);
      ASSERT_TRUE(w.ok()) << rel;
      std::string content = tag + " bytes of " + rel;
      ASSERT_TRUE((*w)->Write(content.data(), content.size()).ok());
      ASSERT_TRUE((*w)->Commit().ok());
    }
    ASSERT_TRUE(props.Apply(p, {{kColor, false, tag + ":" + rel}}).ok()) << rel;
  }
}

enum class Backend { kPosix, kMemory };

class CopyCrashTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (fsys::temp_directory_path() / "keepdav-crash-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fsys::remove_all(base_, ec);
  }

  std::unique_ptr<storage::FileSystem> NewFileSystem(const fsys::path& root) {
    if (GetParam() == Backend::kMemory) return std::make_unique<storage::MemoryFileSystem>();
    fsys::create_directories(root);
    auto fs = storage::PosixFileSystem::Open(root.string(), storage::PosixFileSystem::Options());
    EXPECT_TRUE(fs.ok()) << fs.status().ToString();
    return fs.ok() ? std::move(fs).value() : nullptr;
  }
  // The file system a restarted process sees over the same files.
  std::unique_ptr<storage::FileSystem> Reopen(const fsys::path& root) {
    auto fs = storage::PosixFileSystem::Open(root.string(), storage::PosixFileSystem::Options());
    EXPECT_TRUE(fs.ok()) << fs.status().ToString();
    return fs.ok() ? std::move(fs).value() : nullptr;
  }

  void CrashAtEveryStep(bool after_call);

  fsys::path base_;
};

const std::vector<std::string> kOldTree = {"a.txt", "sub/", "sub/b.txt", "only-old.txt"};
const std::vector<std::string> kNewTree = {"a.txt",       "sub/",         "sub/b.txt",
                                           "sub/deeper/", "sub/deeper/c", "only-new.txt"};

// Crashing before each mutating call, and (`after_call`) just after it returned: the latter also
// reaches the states between a file-system step and the journal transaction that follows it.
void CopyCrashTest::CrashAtEveryStep(bool after_call) {
  int old_outcomes = 0;
  int new_outcomes = 0;
  bool completed = false;
  for (int n = 1; n <= 500 && !completed; ++n) {
    SCOPED_TRACE("crash at mutating call " + std::to_string(n));
    const fsys::path run = base_ / ((after_call ? "after" : "before") + std::to_string(n));
    fsys::create_directories(run);
    const fsys::path root = run / "root";
    const std::string db_file = (run / "props.db").string();
    const std::string snapshot = (run / "snapshot.db").string();

    TreeState old_dst, new_src;
    auto faults = std::make_unique<storage::FaultInjectingFileSystem>(NewFileSystem(root));
    {
      auto db = storage::Database::Open(db_file);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      storage::SqlitePropertyStore props(**db);
      storage::SqliteOperationJournal journal(props);
      storage::SqliteLockStore locks(**db);
      storage::SqliteChecksumStore checksums(**db);
      storage::SystemClock clock;
      Build(*faults, props, "/dst", "old", kOldTree);
      Build(*faults, props, "/src", "new", kNewTree);
      old_dst = StateOf(*faults, props, P("/dst"));
      new_src = StateOf(*faults, props, P("/src"));

      faults->CrashAtMutation(
          n,
          [&] {
            // Nothing writes the database during a file-system call: the main file and its WAL are
            // what a process killed at this instant leaves behind.
            fsys::copy_file(db_file, snapshot, fsys::copy_options::overwrite_existing);
            if (fsys::exists(db_file + "-wal")) {
              fsys::copy_file(db_file + "-wal", snapshot + "-wal",
                              fsys::copy_options::overwrite_existing);
            }
          },
          after_call);
      DavHandler handler(DavBackends{*faults, props, locks, journal, clock, checksums},
                         DavSettings());
      DavRequest req;
      req.method = "COPY";
      req.target = "/src";
      req.host = "localhost:8080";
      req.headers["Destination"] = "http://localhost:8080/dst";
      req.headers["Overwrite"] = "T";
      std::istringstream body;
      req.body = &body;
      req.content_length = 0;
      Progress progress;
      req.progress = &progress;
      crash_test::CapturingSink sink;
      handler.Handle(req, sink);
      if (!faults->crashed()) {
        // The copy needed fewer than n mutating calls: it ran to its end.
        EXPECT_EQ(sink.status, 204);
        EXPECT_TRUE(StateOf(*faults, props, P("/dst")) == new_src)
            << Describe(StateOf(*faults, props, P("/dst")));
        completed = true;
        continue;
      }
    }

    // Restart: fresh stores on the snapshot, an unwrapped file system over the same files.
    std::unique_ptr<storage::FileSystem> fs;
    if (GetParam() == Backend::kPosix) {
      faults.reset();
      fs = Reopen(root);
    }
    storage::FileSystem& disk = fs ? *fs : faults->inner();
    auto db = storage::Database::Open(snapshot);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    storage::SqlitePropertyStore props(**db);
    storage::SqliteOperationJournal journal(props);
    storage::SqliteLockStore locks(**db);
    storage::SystemClock clock;
    Status recovered = RecoverAtStartUp(disk, props, journal, locks, clock, 256);
    ASSERT_TRUE(recovered.ok()) << recovered.ToString();

    TreeState dst = StateOf(disk, props, P("/dst"));
    const bool is_old = dst == old_dst;
    const bool is_new = dst == new_src;
    EXPECT_TRUE(is_old || is_new) << "destination is neither the old nor the new tree:\n"
                                  << Describe(dst) << "old:\n"
                                  << Describe(old_dst) << "new:\n"
                                  << Describe(new_src);
    old_outcomes += is_old;
    new_outcomes += is_new;
    TreeState src = StateOf(disk, props, P("/src"));
    EXPECT_TRUE(src == new_src) << "source changed:\n" << Describe(src);
    // Nothing reserved anywhere: not beside the trees (staging, trash) nor in the database.
    TreeState all = StateOf(disk, props, ResourcePath());
    for (const auto& [path, content] : all.entries) {
      EXPECT_EQ(path.find(ResourcePath::kReservedPrefix), std::string::npos) << path;
    }
    auto with_props = props.PathsUnder(ResourcePath());
    ASSERT_TRUE(with_props.ok());
    for (const std::string& p : *with_props) {
      EXPECT_EQ(p.find(ResourcePath::kReservedPrefix), std::string::npos) << p;
    }
    auto pending = journal.Pending();
    ASSERT_TRUE(pending.ok());
    EXPECT_TRUE(pending->empty()) << "recovery left journal entries";
    if (::testing::Test::HasFailure()) break;  // one broken step is enough to read
  }
  EXPECT_TRUE(completed) << "the copy never ran to its end";
  // Crashes before the swap must leave the old tree, after it the new one: both must occur.
  EXPECT_GT(old_outcomes, 0);
  EXPECT_GT(new_outcomes, 0);
}

TEST_P(CopyCrashTest, CopyOverwriteIsAllOrNothingWhenKilledBeforeAnyMutatingCall) {
  CrashAtEveryStep(/*after_call=*/false);
}

TEST_P(CopyCrashTest, CopyOverwriteIsAllOrNothingWhenKilledAfterAnyMutatingCall) {
  CrashAtEveryStep(/*after_call=*/true);
}

INSTANTIATE_TEST_SUITE_P(Backends, CopyCrashTest,
                         ::testing::Values(Backend::kPosix, Backend::kMemory),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kPosix ? "Posix" : "Memory";
                         });

}  // namespace
}  // namespace keepdav::webdav
