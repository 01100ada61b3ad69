// A PATCH (X-Update-Range) killed at every mutating file-system step, before and just after the
// call, then start-up recovery (PartialUpdate::Recover) on the database as the kill left it: the
// file must be byte for byte what it was before the request, and no undo record may remain.
// Over a real directory and the in-memory file system, like copy_crash_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "storage/clock.h"
#include "storage/database.h"
#include "storage/fault_injecting_file_system.h"
#include "storage/memory_file_system.h"
#include "storage/posix_file_system.h"
#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "webdav/dav_handler.h"
#include "webdav/partial_update.h"

namespace keepdav::webdav {
namespace {

namespace fsys = std::filesystem;
using storage::ResourcePath;
using storage::Status;

class DiscardSink : public ResponseSink {
 public:
  void SetStatus(int code) override { status = code; }
  void SetHeader(const std::string&, const std::string&) override {}
  void SendEmpty() override { sent_ = true; }
  std::ostream& SendBody(int64_t) override {
    sent_ = true;
    return body_;
  }
  bool SendFileRange(int, uint64_t, uint64_t) override { return true; }
  bool sent() const override { return sent_; }
  bool head_only() const override { return false; }
  int status = 0;

 private:
  bool sent_ = false;
  std::ostringstream body_;
};

enum class Backend { kPosix, kMemory };

std::string Pattern(size_t size, char seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(seed + (i * 7) % 23);
  return s;
}

std::string ReadAll(storage::FileSystem& fs, const ResourcePath& path) {
  auto f = fs.OpenRead(path);
  if (!f.ok()) return "<" + f.status().ToString() + ">";
  std::string out(f.value()->info().size, '\0');
  size_t done = 0;
  while (done < out.size()) {
    auto n = f.value()->ReadAt(done, out.data() + done, out.size() - done);
    if (!n.ok() || *n == 0) break;
    done += *n;
  }
  out.resize(done);
  return out;
}

class PartialUpdateCrashTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (fsys::temp_directory_path() / "keepdav-patchcrash-XXXXXX").string();
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
    return std::move(fs).value();
  }
  void CrashAtEveryStep(bool after_call);

  fsys::path base_;
};

void PartialUpdateCrashTest::CrashAtEveryStep(bool after_call) {
  // 600 KiB, then 700 KiB written from offset 100,000: 500 KiB overwritten, 300 KiB appended,
  // in three WriteAt calls of at most 256 KiB.
  const std::string old_content = Pattern(600 * 1024, 'a');
  const std::string body = Pattern(700 * 1024, 'A');
  const uint64_t offset = 100000;
  std::string new_content = old_content.substr(0, offset) + body;
  const ResourcePath f = ResourcePath::Parse("/f").value();
  bool completed = false;
  int crashes = 0;
  for (int n = 1; n <= 50 && !completed; ++n) {
    SCOPED_TRACE("crash at mutating call " + std::to_string(n));
    const fsys::path run = base_ / ((after_call ? "after" : "before") + std::to_string(n));
    fsys::create_directories(run);
    const std::string db_file = (run / "props.db").string();
    const std::string snapshot = (run / "snapshot.db").string();
    auto faults = std::make_unique<storage::FaultInjectingFileSystem>(NewFileSystem(run / "root"));
    {
      auto w = faults->BeginWrite(f);
      ASSERT_TRUE(w.ok());
      ASSERT_TRUE(w.value()->Write(old_content.data(), old_content.size()).ok());
      ASSERT_TRUE(w.value()->Commit().ok());
    }
    const int64_t old_mtime_ns = faults->Stat(f)->mtime_ns;
    {
      auto db = storage::Database::Open(db_file);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      storage::SqlitePropertyStore props(**db);
      storage::SqliteOperationJournal journal(props);
      storage::SqliteLockStore locks(**db);
      storage::SqliteChecksumStore checksums(**db);
      storage::SystemClock clock;
      faults->CrashAtMutation(
          n,
          [&] {
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
      req.method = "PATCH";
      req.target = "/f";
      req.host = "localhost:8080";
      req.headers["Content-Type"] = "application/x-sabredav-partialupdate";
      req.headers["X-Update-Range"] = "bytes=" + std::to_string(offset) + "-";
      std::istringstream in(body);
      req.body = &in;
      req.content_length = static_cast<int64_t>(body.size());
      Progress progress;
      req.progress = &progress;
      DiscardSink sink;
      handler.Handle(req, sink);
      if (!faults->crashed()) {
        EXPECT_EQ(sink.status, 204);
        EXPECT_TRUE(ReadAll(*faults, f) == new_content) << "the completed write is wrong";
        EXPECT_TRUE(journal.PendingPartialWrites()->empty());
        completed = true;
        continue;
      }
      EXPECT_NE(sink.status, 204);
    }
    ++crashes;
    // Restart: fresh stores on the snapshot, an unwrapped file system over the same files.
    std::unique_ptr<storage::FileSystem> reopened;
    if (GetParam() == Backend::kPosix) {
      faults.reset();
      reopened = NewFileSystem(run / "root");
    }
    storage::FileSystem& disk = reopened ? *reopened : faults->inner();
    auto db = storage::Database::Open(snapshot);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    storage::SqlitePropertyStore props(**db);
    storage::SqliteOperationJournal journal(props);
    Status recovered = PartialUpdate::Recover(disk, journal);
    ASSERT_TRUE(recovered.ok()) << recovered.ToString();
    EXPECT_EQ(disk.Stat(f)->mtime_ns, old_mtime_ns) << "the old modification time is not back";
    const std::string now = ReadAll(disk, f);
    EXPECT_EQ(now.size(), old_content.size());
    EXPECT_TRUE(now == old_content) << "recovery did not restore the file";
    EXPECT_TRUE(journal.PendingPartialWrites()->empty()) << "recovery left undo records";
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_TRUE(completed) << "the write never ran to its end";
  EXPECT_GE(crashes, 3);  // one crash per WriteAt at least
}

TEST_P(PartialUpdateCrashTest, CrashBeforeEachStepRestoresTheFile) {
  CrashAtEveryStep(false);
}
TEST_P(PartialUpdateCrashTest, CrashAfterEachStepRestoresTheFile) {
  CrashAtEveryStep(true);
}

INSTANTIATE_TEST_SUITE_P(Backends, PartialUpdateCrashTest,
                         ::testing::Values(Backend::kPosix, Backend::kMemory),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kPosix ? "Posix" : "Memory";
                         });

}  // namespace
}  // namespace keepdav::webdav
