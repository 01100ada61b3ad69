// The LockStore contract, run against every implementation (store_backends.h), then what only
// SqliteLockStore promises (its row count, migrations).
#include "storage/lock_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "tests/storage/status_printer.h"
#include "tests/storage/store_backends.h"
#include "tests/storage/temp_dir.h"
#include "tests/storage/test_files.h"

namespace keepdav::storage {
namespace {

using test_support::P;

LockRecord MakeLock(std::string token, std::string_view root, bool infinite, bool exclusive,
                    int64_t expires_at = 1000) {
  LockRecord r;
  r.token = std::move(token);
  r.root = P(root);
  r.infinite_depth = infinite;
  r.exclusive = exclusive;
  r.owner = "<D:owner xmlns:D=\"DAV:\">me</D:owner>";
  r.timeout_s = 600;
  r.expires_at = expires_at;
  return r;
}

std::vector<std::string> Tokens(const Result<std::vector<LockRecord>>& locks) {
  EXPECT_TRUE(locks.ok()) << locks.status().ToString();
  std::vector<std::string> out;
  if (!locks.ok()) return out;
  for (const LockRecord& r : locks.value()) out.push_back(r.token);
  return out;
}

// A fresh directory per test, named after this suite.
struct TempDir : test_support::TempDir {
  TempDir() : test_support::TempDir("keepdav-locks") {}
};

class LockStoreTest : public test_support::StoreContractTest {
 protected:
  void SetUp() override {
    StoreContractTest::SetUp();
    if (backend_) store_ = &backend_->locks();
  }
  LockStore* store_ = nullptr;
};

TEST_P(LockStoreTest, InsertThenFindReturnsTheSameRecord) {
  LockRecord lock = MakeLock("urn:uuid:1", "/a/b", true, false);
  lock.owner = std::string("bytes\0with nul", 14);
  lock.principal = "alice";  // the user who took it (RFC 4918 §6.4)
  ASSERT_TRUE(store_->Insert(lock).ok());
  Result<LockRecord> got = store_->Find("urn:uuid:1", 0);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got.value(), lock);
}

TEST_P(LockStoreTest, DuplicateTokenIsAlreadyExists) {
  ASSERT_TRUE(store_->Insert(MakeLock("t", "/a", false, true)).ok());
  EXPECT_EQ(store_->Insert(MakeLock("t", "/b", false, true)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Insert(MakeLock("", "/b", false, true)).code(), StatusCode::kInvalidArgument);
}

TEST_P(LockStoreTest, UnknownTokenIsNotFound) {
  EXPECT_EQ(store_->Find("nope", 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SetExpiry("nope", 1, 2, 0).code(), StatusCode::kNotFound);
}

TEST_P(LockStoreTest, FindCoveringSeesTheResourceAndDeepAncestorsOnly) {
  ASSERT_TRUE(store_->Insert(MakeLock("root-deep", "/", true, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("a-shallow", "/a", false, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("a-deep", "/a", true, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("ab", "/a/b", false, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("abc", "/a/b/c", true, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("sibling", "/ab", true, true)).ok());

  EXPECT_EQ(Tokens(store_->FindCovering(P("/a/b"), 0)),
            (std::vector<std::string>{"root-deep", "a-deep", "ab"}));
  EXPECT_EQ(Tokens(store_->FindCovering(P("/a"), 0)),
            (std::vector<std::string>{"root-deep", "a-deep", "a-shallow"}));
  EXPECT_EQ(Tokens(store_->FindCovering(P("/a/b/c/d"), 0)),
            (std::vector<std::string>{"root-deep", "a-deep", "abc"}));
  EXPECT_EQ(Tokens(store_->FindCovering(P("/ab/x"), 0)),
            (std::vector<std::string>{"root-deep", "sibling"}));
  EXPECT_EQ(Tokens(store_->FindCovering(P("/"), 0)), (std::vector<std::string>{"root-deep"}));
}

TEST_P(LockStoreTest, FindAtOrBelowIsTheSubtreeOnly) {
  ASSERT_TRUE(store_->Insert(MakeLock("a", "/a", false, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("ab", "/a/b", false, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("a-b", "/a-b", false, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("ab2", "/ab", false, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("top", "/", false, true)).ok());
  EXPECT_EQ(Tokens(store_->FindAtOrBelow(P("/a"), 0)), (std::vector<std::string>{"a", "ab"}));
  EXPECT_EQ(Tokens(store_->FindAtOrBelow(P("/a/b"), 0)), (std::vector<std::string>{"ab"}));
  EXPECT_EQ(Tokens(store_->FindAtOrBelow(P("/"), 0)).size(), 5u);
}

TEST_P(LockStoreTest, ExpiredLocksAreInvisibleAndPurged) {
  ASSERT_TRUE(store_->Insert(MakeLock("old", "/a", true, true, /*expires_at=*/100)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("new", "/b", true, true, /*expires_at=*/200)).ok());
  EXPECT_TRUE(store_->Find("old", 99).ok());
  EXPECT_EQ(store_->Find("old", 100).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Tokens(store_->FindCovering(P("/a/x"), 100)).empty());
  EXPECT_TRUE(Tokens(store_->FindAtOrBelow(P("/"), 200)).empty());
  EXPECT_EQ(*store_->Count(100), 1);
  EXPECT_EQ(store_->SetExpiry("old", 10, 500, 100).code(), StatusCode::kNotFound);
  // Invisible but still there: the token stays taken until purged.
  EXPECT_EQ(store_->Insert(MakeLock("old", "/c", true, true)).code(), StatusCode::kAlreadyExists);
  Result<int64_t> purged = store_->PurgeExpired(150);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(*store_->PurgeExpired(150), 0);
  EXPECT_EQ(store_->Delete("old").code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Find("new", 150).ok());
}

TEST_P(LockStoreTest, SetExpiryRefreshes) {
  ASSERT_TRUE(store_->Insert(MakeLock("t", "/a", false, true, 100)).ok());
  ASSERT_TRUE(store_->SetExpiry("t", 30, 130, 99).ok());
  Result<LockRecord> got = store_->Find("t", 120);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->timeout_s, 30);
  EXPECT_EQ(got->expires_at, 130);
}

TEST_P(LockStoreTest, CountsTotalAndPerRoot) {
  ASSERT_TRUE(store_->Insert(MakeLock("1", "/a", false, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("2", "/a", false, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("3", "/a/b", false, false)).ok());
  EXPECT_EQ(*store_->Count(0), 3);
  EXPECT_EQ(*store_->CountAt(P("/a"), 0), 2);
  EXPECT_EQ(*store_->CountAt(P("/a/b"), 0), 1);
  EXPECT_EQ(*store_->CountAt(P("/b"), 0), 0);
}

TEST_P(LockStoreTest, DeleteTreeRemovesTheSubtreeAndCanKeepTheRoot) {
  ASSERT_TRUE(store_->Insert(MakeLock("a", "/a", true, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("ab", "/a/b", false, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("abc", "/a/b/c", false, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("other", "/ab", false, false)).ok());
  Result<int64_t> n = store_->DeleteTree(P("/a/b"), /*keep_root=*/true);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Tokens(store_->All(0)), (std::vector<std::string>{"a", "ab", "other"}));
  n = store_->DeleteTree(P("/a"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(Tokens(store_->All(0)), (std::vector<std::string>{"other"}));
}

TEST_P(LockStoreTest, DeleteTreeOfTheRootCanKeepTheRootsOwnLocks) {
  ASSERT_TRUE(store_->Insert(MakeLock("top", "/", true, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("x", "/x", false, false)).ok());
  ASSERT_TRUE(store_->DeleteTree(P("/"), /*keep_root=*/true).ok());
  EXPECT_EQ(Tokens(store_->All(0)), (std::vector<std::string>{"top"}));
  ASSERT_TRUE(store_->DeleteTree(P("/")).ok());
  EXPECT_TRUE(Tokens(store_->All(0)).empty());
}

TEST_P(LockStoreTest, LocksSurviveReopening) {
  if (!backend_->persistent()) GTEST_SKIP() << "the data does not outlive the store";
  ASSERT_TRUE(store_->Insert(MakeLock("t", "/doc.txt", false, true)).ok());
  backend_->Reopen();
  store_ = &backend_->locks();
  EXPECT_EQ(Tokens(store_->FindCovering(P("/doc.txt"), 0)), (std::vector<std::string>{"t"}));
}

// The conflict rule of webdav/LockManager, enough to drive InsertIfAllowed: exclusive against
// anything, shared against exclusive.
bool NoConflict(const LockRecord& lock, const LockNeighbourhood& around) {
  for (const LockRecord& other : around.covering) {
    if (lock.exclusive || other.exclusive) return false;
  }
  for (const LockRecord& other : around.below) {
    if (lock.exclusive || other.exclusive) return false;
  }
  return true;
}

TEST_P(LockStoreTest, InsertIfAllowedShowsTheNeighbourhoodAndInsertsOnlyWhenAllowed) {
  ASSERT_TRUE(store_->Insert(MakeLock("deep", "/a", true, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("shallow", "/a/b", false, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("at-c", "/a/b/c", false, false)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("under", "/a/b/c/d", false, true)).ok());
  ASSERT_TRUE(store_->Insert(MakeLock("elsewhere", "/z", false, true)).ok());
  LockNeighbourhood seen;
  Result<bool> inserted =
      store_->InsertIfAllowed(MakeLock("new", "/a/b/c", true, false), 0, [&](const auto& around) {
        seen = around;
        return false;
      });
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_FALSE(*inserted);
  EXPECT_EQ(Tokens(seen.covering), (std::vector<std::string>{"deep", "at-c"}));
  EXPECT_EQ(Tokens(seen.below), (std::vector<std::string>{"under"}));  // not "at-c": at the root
  EXPECT_EQ(seen.count_at_root, 1);
  EXPECT_EQ(seen.count_total, 5);
  EXPECT_EQ(store_->Find("new", 0).status().code(), StatusCode::kNotFound);

  // A depth-0 lock is shown nothing below it; allowed, it is inserted.
  LockRecord shared = MakeLock("new", "/a/b/c", false, false);
  inserted = store_->InsertIfAllowed(shared, 0, [&](const auto& around) {
    seen = around;
    return NoConflict(shared, around);
  });
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_TRUE(*inserted);
  EXPECT_TRUE(seen.below.empty());
  EXPECT_EQ(store_->Find("new", 0).value(), shared);
  // An exclusive one is refused by the rule; a taken token is kAlreadyExists.
  EXPECT_FALSE(*store_->InsertIfAllowed(MakeLock("x", "/a/b/c/d/e", false, true), 0,
                                        [](const auto&) { return false; }));
  EXPECT_EQ(
      store_
          ->InsertIfAllowed(MakeLock("new", "/q", false, true), 0, [](const auto&) { return true; })
          .status()
          .code(),
      StatusCode::kAlreadyExists);
  EXPECT_EQ(
      store_->InsertIfAllowed(MakeLock("", "/q", false, true), 0, [](const auto&) { return true; })
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

// Expiry and refresh agree: what InsertIfAllowed treated as expired is gone for good.
TEST_P(LockStoreTest, InsertIfAllowedPurgesWhatItTreatsAsExpired) {
  ASSERT_TRUE(store_->Insert(MakeLock("old", "/a", true, true, /*expires_at=*/100)).ok());
  LockRecord next = MakeLock("next", "/a/b", false, true, 1000);
  Result<bool> inserted = store_->InsertIfAllowed(
      next, 100, [&](const LockNeighbourhood& around) { return NoConflict(next, around); });
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_TRUE(*inserted);
  // Refreshing "old" with an earlier clock (another instance's, say) cannot revive it.
  EXPECT_EQ(store_->SetExpiry("old", 600, 700, 50).code(), StatusCode::kNotFound);
  EXPECT_EQ(Tokens(store_->All(0)), (std::vector<std::string>{"next"}));
}

INSTANTIATE_TEST_SUITE_P(Stores, LockStoreTest,
                         ::testing::ValuesIn(test_support::AllStoreBackends()),
                         test_support::BackendName);

// ---------------------------------------------------------------------------------------------
// SqliteLockStore only.

// With the database its own, the store answers "no locks" without SQL; it must never say so
// while a row exists: after inserts, deletes, subtree deletes, purges and a reopen.
TEST(LockStoreFileTest, KnownEmptyNeverHidesALock) {
  TempDir dir;
  const std::string file = (dir.path() / "e.db").string();
  {
    Result<std::unique_ptr<Database>> db = Database::Open(file, 5000, /*exclusive=*/true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->sole_user());
    SqliteLockStore store(**db);
    EXPECT_TRUE(store.FindCovering(P("/a/b"), 0)->empty());
    ASSERT_TRUE(store.Insert(MakeLock("t1", "/a", true, true)).ok());
    EXPECT_EQ(Tokens(store.FindCovering(P("/a/b"), 0)), (std::vector<std::string>{"t1"}));
    ASSERT_TRUE(store.Delete("t1").ok());
    EXPECT_TRUE(store.FindAtOrBelow(P("/"), 0)->empty());
    ASSERT_TRUE(store.Insert(MakeLock("t2", "/a/x", false, true)).ok());
    ASSERT_TRUE(store.Insert(MakeLock("t3", "/b", false, true, /*expires_at=*/5)).ok());
    EXPECT_EQ(*store.DeleteTree(P("/a")), 1);
    EXPECT_EQ(Tokens(store.FindAtOrBelow(P("/"), 0)), (std::vector<std::string>{"t3"}));
    EXPECT_EQ(*store.PurgeExpired(10), 1);
    EXPECT_TRUE(store.FindAtOrBelow(P("/"), 0)->empty());
    ASSERT_TRUE(store.Insert(MakeLock("t4", "/c", false, true)).ok());
  }
  Result<std::unique_ptr<Database>> db = Database::Open(file, 5000, /*exclusive=*/true);
  ASSERT_TRUE(db.ok());
  SqliteLockStore store(**db);  // counts the rows it finds
  EXPECT_EQ(Tokens(store.FindCovering(P("/c"), 0)), (std::vector<std::string>{"t4"}));
}

// A database written by keepdav with schema version 1 (properties only) gains the locks table on
// Open and keeps its properties; opening it again changes nothing.
TEST(LockStoreFileTest, MigratesAVersionOneDatabase) {
  TempDir dir;
  const std::string file = (dir.path() / "v1.db").string();
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    const char* v1 =
        "CREATE TABLE properties ("
        "  path TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,"
        "  PRIMARY KEY (path, ns, name)) WITHOUT ROWID;"
        "INSERT INTO properties VALUES ('/a', 'urn:x', 'p', x'3c702f3e');"
        "PRAGMA user_version = 1;";
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, v1, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
  }
  for (int round = 0; round < 2; ++round) {
    Result<std::unique_ptr<Database>> db = Database::Open(file);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    {
      auto guard = (*db)->Lock();
      Result<Statement> st = (*db)->Prepare("PRAGMA user_version");
      ASSERT_TRUE(st.ok() && st->Step());
      EXPECT_EQ(st->ColumnInt(0), Database::kSchemaVersion);
    }
    SqlitePropertyStore props(**db);
    Result<std::string> value = props.Get(P("/a"), {"urn:x", "p"});
    ASSERT_TRUE(value.ok()) << value.status().ToString();
    EXPECT_EQ(value.value(), "<p/>");
    SqliteLockStore locks(**db);
    if (round == 0) {
      ASSERT_TRUE(locks.Insert(MakeLock("t", "/a", false, true)).ok());
    }
    EXPECT_EQ(Tokens(locks.All(0)), (std::vector<std::string>{"t"}));
  }
}

}  // namespace
}  // namespace keepdav::storage
