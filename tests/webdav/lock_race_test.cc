// A DELETE or MOVE forgets only the locks its own lock check saw (DavHandler::ForgetRemovedLocks).
// A lock granted after that check, while the removal runs, stays: with several instances a LOCK
// of the unmapped URL through one instance and a DELETE through another interleave (multi_load
// saw the LOCK's 201 followed by the holder's PUT refused, 412, its lock gone). The interleaving is
// made deterministic here: the file system runs a hook inside the DELETE's Remove call, where the
// other client's request would have run.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "tests/webdav/crash_harness.h"

namespace keepdav::webdav::crash_test {
namespace {

// Runs `before_remove` or `after_remove` once, around the next Remove of `path`.
class RacingFileSystem : public storage::FaultInjectingFileSystem {
 public:
  RacingFileSystem() : FaultInjectingFileSystem(std::make_unique<storage::MemoryFileSystem>()) {}

  storage::Status Remove(const storage::ResourcePath& path) override {
    if (path == hook_path && before_remove) std::exchange(before_remove, nullptr)();
    storage::Status s = FaultInjectingFileSystem::Remove(path);
    if (path == hook_path && after_remove) std::exchange(after_remove, nullptr)();
    return s;
  }

  storage::ResourcePath hook_path;
  std::function<void()> before_remove;
  std::function<void()> after_remove;
};

class LockRaceTest : public ::testing::Test {
 protected:
  LockRaceTest()
      : db_(Open()),
        props_(*db_),
        journal_(props_),
        locks_(*db_),
        checksums_(*db_),
        handler_(DavBackends{fs_, props_, locks_, journal_, clock_, checksums_}, DavSettings()) {}

  static std::unique_ptr<storage::Database> Open() {
    auto db = storage::Database::Open(":memory:");
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return std::move(db).value();
  }

  CapturingSink Send(const RequestSpec& spec) { return SendTo(handler_, spec); }

  // LOCKs `target` (exclusive, depth 0) and returns the token ("" when not granted).
  std::string Lock(const std::string& target, int* status) {
    CapturingSink r = Send({"LOCK",
                            target,
                            {{"Timeout", "Second-600"}, {"Depth", "0"}},
                            "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\"><D:lockscope>"
                            "<D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
                            "</D:lockinfo>"});
    *status = r.status;
    const std::string body = r.body();
    size_t at = body.find("urn:uuid:");
    if (at == std::string::npos) return "";
    return body.substr(at, body.find('<', at) - at);
  }

  FixedClock clock_;
  RacingFileSystem fs_;
  std::unique_ptr<storage::Database> db_;
  storage::SqlitePropertyStore props_;
  storage::SqliteOperationJournal journal_;
  storage::SqliteLockStore locks_;
  storage::SqliteChecksumStore checksums_;
  DavHandler handler_;
};

// The DELETE removed the file; before it forgot the locks, another client LOCKed the unmapped
// URL (201, a new empty file). That lock is the other client's, taken after the DELETE: it stays.
TEST_F(LockRaceTest, DeleteKeepsALockGrantedAfterItsCheck) {
  ASSERT_TRUE(WriteFile(fs_.inner(), P("/x.txt"), "old").ok());
  int lock_status = 0;
  std::string token;
  fs_.hook_path = P("/x.txt");
  fs_.after_remove = [&] { token = Lock("/x.txt", &lock_status); };
  EXPECT_EQ(Send({"DELETE", "/x.txt", {}, ""}).status, 204);
  ASSERT_EQ(lock_status, 201);
  ASSERT_FALSE(token.empty());
  auto held = locks_.Find(token, clock_.Now());
  EXPECT_TRUE(held.ok()) << "the lock granted after the DELETE's check was removed";
  CapturingSink put = Send({"PUT", "/x.txt", {{"If", "(<" + token + ">)"}}, "mine"});
  EXPECT_EQ(put.status, 204) << put.body();
  EXPECT_EQ(ReadAll(fs_.inner(), P("/x.txt")), "mine");
}

// The DELETE found the file gone when it came to remove it (another client's MOVE took it), and
// meanwhile a LOCK of the unmapped URL had its lock row written but not yet its empty file. The
// failing DELETE (404) must not take that lock for one of the removed tree's.
TEST_F(LockRaceTest, FailedDeleteKeepsALockNullLockInTheMaking) {
  ASSERT_TRUE(WriteFile(fs_.inner(), P("/x.txt"), "old").ok());
  storage::LockRecord other;
  other.token = "urn:uuid:00000000-0000-4000-8000-000000000001";
  other.root = P("/x.txt");
  other.exclusive = true;
  other.timeout_s = 600;
  other.expires_at = clock_.Now() + 600;
  fs_.hook_path = P("/x.txt");
  fs_.before_remove = [&] {
    ASSERT_TRUE(fs_.inner().Remove(P("/x.txt")).ok());  // the other client's MOVE
    ASSERT_TRUE(locks_.Insert(other).ok());             // the LOCK, before its file
  };
  EXPECT_EQ(Send({"DELETE", "/x.txt", {}, ""}).status, 404);
  EXPECT_TRUE(locks_.Find(other.token, clock_.Now()).ok())
      << "a lock the DELETE's check never saw was removed";
}

// What the check saw still goes: the holder's own DELETE and MOVE take their locks with them.
TEST_F(LockRaceTest, DeleteAndMoveForgetTheLocksTheyChecked) {
  ASSERT_TRUE(WriteFile(fs_.inner(), P("/a.txt"), "a").ok());
  ASSERT_TRUE(WriteFile(fs_.inner(), P("/b.txt"), "b").ok());
  int status = 0;
  std::string a = Lock("/a.txt", &status);
  ASSERT_EQ(status, 200);
  std::string b = Lock("/b.txt", &status);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(Send({"DELETE", "/a.txt", {{"If", "(<" + a + ">)"}}, ""}).status, 204);
  EXPECT_TRUE(locks_.Find(a, clock_.Now()).status().IsNotFound());
  EXPECT_EQ(Send({"MOVE",
                  "/b.txt",
                  {{"If", "(<" + b + ">)"}, {"Destination", "http://localhost:8080/c.txt"}},
                  ""})
                .status,
            201);
  EXPECT_TRUE(locks_.Find(b, clock_.Now()).status().IsNotFound());
  // Nothing is left to block the names.
  EXPECT_EQ(Send({"PUT", "/a.txt", {}, "new"}).status, 201);
  EXPECT_EQ(Send({"PUT", "/b.txt", {}, "new"}).status, 201);
}

}  // namespace
}  // namespace keepdav::webdav::crash_test
