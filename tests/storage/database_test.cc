#include "storage/database.h"

#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "tests/storage/status_printer.h"
#include "tests/storage/temp_dir.h"

namespace keepdav::storage {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, named after this suite.
struct TempDir : test_support::TempDir {
  TempDir() : test_support::TempDir("keepdav-db") {}
};

// Runs `sql` and returns the first column of its first row as text.
std::string QueryText(Database& db, const std::string& sql) {
  auto lock = db.Lock();
  Result<Statement> st = db.Prepare(sql);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  if (!st.ok() || !st->Step()) return "<no row>";
  return std::string(st->ColumnText(0));
}

// Every test runs on ":memory:" and on a file.
class DatabaseTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    file_ = GetParam() ? (dir_.path() / "keepdav.db").string() : ":memory:";
    Result<std::unique_ptr<Database>> db = Database::Open(file_, 1000);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  TempDir dir_;
  std::string file_;
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, CreatesSchemaAndSetsVersion) {
  EXPECT_EQ(QueryText(*db_, "PRAGMA user_version"), std::to_string(Database::kSchemaVersion));
  EXPECT_EQ(QueryText(*db_, "SELECT name FROM sqlite_master WHERE type = 'table'"), "properties");
}

TEST_P(DatabaseTest, Pragmas) {
  EXPECT_EQ(QueryText(*db_, "PRAGMA journal_mode"), GetParam() ? "wal" : "memory");
  EXPECT_EQ(QueryText(*db_, "PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_EQ(QueryText(*db_, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(QueryText(*db_, "PRAGMA busy_timeout"), "1000");
}

TEST_P(DatabaseTest, BindAndReadEveryType) {
  auto lock = db_->Lock();
  Result<Statement> st = db_->Prepare("SELECT ?1, ?2, ?3, ?4, ?5, typeof(?5), ?6");
  ASSERT_TRUE(st.ok());
  const std::string blob("a\0b\xff", 4);
  st->BindText(1, "h\xC3\xA9llo \xF0\x9F\x98\x80")
      .BindBlob(2, blob)
      .BindInt(3, -(int64_t{1} << 40))
      .BindNull(4)
      .BindBlob(5, std::string_view())
      .BindText(6, std::string_view());
  ASSERT_TRUE(st->Step()) << st->status().ToString();
  EXPECT_EQ(st->ColumnText(0), "h\xC3\xA9llo \xF0\x9F\x98\x80");
  EXPECT_EQ(st->ColumnBlob(1), blob);
  EXPECT_EQ(st->ColumnInt(2), -(int64_t{1} << 40));
  EXPECT_TRUE(st->ColumnIsNull(3));
  EXPECT_FALSE(st->ColumnIsNull(4));  // an empty value is not NULL (value is NOT NULL)
  EXPECT_EQ(st->ColumnText(5), "blob");
  EXPECT_FALSE(st->ColumnIsNull(6));
  EXPECT_EQ(st->ColumnText(6), "");
  EXPECT_FALSE(st->Step());
  EXPECT_TRUE(st->status().ok());
}

TEST_P(DatabaseTest, LiveStatementsOfTheSameSqlAreIndependent) {
  auto lock = db_->Lock();
  ASSERT_TRUE(db_->Execute("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3);").ok());
  const char* sql = "SELECT x FROM t WHERE x >= ?1 ORDER BY x";
  Result<Statement> outer = db_->Prepare(sql);
  ASSERT_TRUE(outer.ok());
  outer->BindInt(1, 1);
  std::string seen;
  while (outer->Step()) {
    // Same text while `outer` is mid-iteration: must get its own sqlite3_stmt.
    Result<Statement> inner = db_->Prepare(sql);
    ASSERT_TRUE(inner.ok());
    inner->BindInt(1, outer->ColumnInt(0));
    while (inner->Step()) seen += std::to_string(inner->ColumnInt(0));
    ASSERT_TRUE(inner->status().ok());
    seen += "|";
  }
  ASSERT_TRUE(outer->status().ok());
  EXPECT_EQ(seen, "123|23|3|");
}

TEST_P(DatabaseTest, CachedStatementComesBackResetAndUnbound) {
  auto lock = db_->Lock();
  ASSERT_TRUE(db_->Execute("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2);").ok());
  const char* sql = "SELECT x, ?1 FROM t ORDER BY x";
  {
    Result<Statement> st = db_->Prepare(sql);
    ASSERT_TRUE(st.ok());
    st->BindInt(1, 42);
    ASSERT_TRUE(st->Step());  // abandoned mid-result
  }
  Result<Statement> again = db_->Prepare(sql);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->Step());
  EXPECT_EQ(again->ColumnInt(0), 1);
  EXPECT_TRUE(again->ColumnIsNull(1));
  // Trailing whitespace does not defeat the cache or count as a second statement.
  EXPECT_TRUE(db_->Prepare(std::string(sql) + " ;\n").ok());
}

TEST_P(DatabaseTest, StatementMovesAndResets) {
  auto lock = db_->Lock();
  Result<Statement> st = db_->Prepare("SELECT ?1");
  ASSERT_TRUE(st.ok());
  Statement moved(std::move(st).value());
  moved.BindInt(1, 7);
  ASSERT_TRUE(moved.Step());
  EXPECT_EQ(moved.ColumnInt(0), 7);
  moved.Reset();
  moved.BindInt(1, 8);
  ASSERT_TRUE(moved.Step());
  EXPECT_EQ(moved.ColumnInt(0), 8);
}

TEST_P(DatabaseTest, ErrorsMapToStatusCodes) {
  auto lock = db_->Lock();
  Result<Statement> bad = db_->Prepare("SELEC nonsense");
  EXPECT_EQ(bad.status().code(), StatusCode::kIoError);
  EXPECT_NE(bad.status().message().find("SELEC"), std::string::npos) << bad.status().message();
  EXPECT_EQ(db_->Prepare("SELECT 1; SELECT 2").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->Prepare("  ").status().code(), StatusCode::kInvalidArgument);

  Result<Statement> ins =
      db_->Prepare("INSERT INTO properties (path, ns, name, value) VALUES ('/a', '', 'n', x'')");
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(ins->Run().ok());
  ins->Reset();
  EXPECT_EQ(ins->Run().code(), StatusCode::kAlreadyExists);  // primary key
  // After an error, Step keeps reporting it until Reset.
  EXPECT_FALSE(ins->Step());
  EXPECT_EQ(ins->status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(db_->Execute("INSERT INTO nowhere VALUES (1)").code(), StatusCode::kIoError);
}

TEST_P(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  auto lock = db_->Lock();
  ASSERT_TRUE(db_->Execute("CREATE TABLE t(x INTEGER)").ok());
  {
    Database::Transaction tx(*db_);
    ASSERT_TRUE(tx.begin_status().ok());
    ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (1)").ok());
  }
  {
    Database::Transaction tx(*db_);
    ASSERT_TRUE(db_->Execute("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx.Commit().ok());
    EXPECT_EQ(tx.Commit().code(), StatusCode::kInvalidArgument);
  }
  lock.unlock();
  EXPECT_EQ(QueryText(*db_, "SELECT group_concat(x) FROM t"), "2");
}

INSTANTIATE_TEST_SUITE_P(Storage, DatabaseTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "File" : "Memory";
                         });

TEST(DatabaseFileTest, ReopenKeepsDataAndSchema) {
  TempDir dir;
  const std::string file = (dir.path() / "k.db").string();
  {
    Result<std::unique_ptr<Database>> db = Database::Open(file);
    ASSERT_TRUE(db.ok());
    auto lock = (*db)->Lock();
    ASSERT_TRUE((*db)->Execute("INSERT INTO properties VALUES ('/a', '', 'n', x'01')").ok());
  }
  Result<std::unique_ptr<Database>> db = Database::Open(file);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(QueryText(**db, "SELECT count(*) FROM properties"), "1");
  EXPECT_EQ(QueryText(**db, "PRAGMA user_version"), std::to_string(Database::kSchemaVersion));
}

// A database written by keepdav with schema version 3 (properties, locks, the journal) gains the
// checksums table on Open and keeps every row it had; opening it again changes nothing.
TEST(DatabaseFileTest, MigratesAVersionThreeDatabase) {
  TempDir dir;
  const std::string file = (dir.path() / "v3.db").string();
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
    const char* v3 =
        "CREATE TABLE properties ("
        "  path TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,"
        "  PRIMARY KEY (path, ns, name)) WITHOUT ROWID;"
        "CREATE TABLE locks (token TEXT PRIMARY KEY NOT NULL, root TEXT NOT NULL,"
        "  infinite_depth INTEGER NOT NULL, exclusive INTEGER NOT NULL, owner BLOB NOT NULL,"
        "  timeout_s INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
        "CREATE INDEX locks_by_root ON locks (root);"
        "CREATE INDEX locks_by_expiry ON locks (expires_at);"
        "CREATE TABLE operations (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
        "  state INTEGER NOT NULL, source TEXT NOT NULL, destination TEXT NOT NULL,"
        "  staging TEXT NOT NULL, trash TEXT NOT NULL, staged_inode INTEGER NOT NULL,"
        "  staged_device INTEGER NOT NULL);"
        "INSERT INTO properties VALUES ('/a', 'urn:x', 'p', x'3c702f3e');"
        "INSERT INTO locks VALUES ('t', '/a', 0, 1, x'', 600, 9999999999);"
        "INSERT INTO operations VALUES (7, 0, 1, '/a', '/b', '/.keepdav-stage-1',"
        "  '/.keepdav-trash-1', 11, 12);"
        "PRAGMA user_version = 3;";
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, v3, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
  }
  FileIdentity id;
  id.inode = 3;
  id.size = 4;
  id.mtime_ns = 5;
  id.ctime_ns = 6;
  FileChecksums sums;
  sums.md5 = std::string(32, 'e');
  for (int round = 0; round < 2; ++round) {
    Result<std::unique_ptr<Database>> db = Database::Open(file);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ(QueryText(**db, "PRAGMA user_version"), std::to_string(Database::kSchemaVersion));
    EXPECT_EQ(Database::kSchemaVersion, 6);
    SqlitePropertyStore props(**db);
    EXPECT_EQ(props.Get(ResourcePath::Parse("/a").value(), {"urn:x", "p"}).value(), "<p/>");
    SqliteLockStore locks(**db);
    EXPECT_EQ(locks.Count(0).value(), 1);
    // v6: a lock of an older database was taken without authentication: principal "".
    auto old_lock = locks.Find("t", 0);
    ASSERT_TRUE(old_lock.ok()) << old_lock.status().ToString();
    EXPECT_EQ(old_lock->principal, "");
    SqliteOperationJournal journal(props);
    auto pending = journal.Pending();
    ASSERT_TRUE(pending.ok());
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ((*pending)[0].id, 7);
    EXPECT_EQ((*pending)[0].staged_device, 12u);
    SqliteChecksumStore checksums(**db);
    const ResourcePath f = ResourcePath::Parse("/a").value();
    if (round == 0) {
      EXPECT_TRUE(checksums.Get(f, id).status().IsNotFound());
      ASSERT_TRUE(checksums.Put(f, id, sums).ok());
    }
    Result<FileChecksums> got = checksums.Get(f, id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, sums);
  }
}

TEST(DatabaseFileTest, RefusesANewerSchema) {
  TempDir dir;
  const std::string file = (dir.path() / "k.db").string();
  {
    Result<std::unique_ptr<Database>> db = Database::Open(file);
    ASSERT_TRUE(db.ok());
    auto lock = (*db)->Lock();
    ASSERT_TRUE((*db)->Execute("PRAGMA user_version = 99").ok());
  }
  Result<std::unique_ptr<Database>> db = Database::Open(file);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("newer"), std::string::npos) << db.status().ToString();
  EXPECT_NE(db.status().message().find("99"), std::string::npos) << db.status().ToString();
}

TEST(DatabaseFileTest, RefusesAFileThatIsNotADatabase) {
  TempDir dir;
  const std::string file = (dir.path() / "k.db").string();
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not an SQLite database, not even close, not at all......", f);
  std::fclose(f);
  Result<std::unique_ptr<Database>> db = Database::Open(file);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kIoError);
}

TEST(DatabaseFileTest, AnotherWriterPastTheTimeoutIsBusy) {
  TempDir dir;
  const std::string file = (dir.path() / "k.db").string();
  Result<std::unique_ptr<Database>> a = Database::Open(file, 1000);
  Result<std::unique_ptr<Database>> b = Database::Open(file, 50);
  ASSERT_TRUE(a.ok() && b.ok());
  auto lock_a = (*a)->Lock();
  Database::Transaction holder(**a);
  ASSERT_TRUE(holder.begin_status().ok());
  auto lock_b = (*b)->Lock();
  Database::Transaction waiter(**b);
  EXPECT_EQ(waiter.begin_status().code(), StatusCode::kBusy) << waiter.begin_status().ToString();
  EXPECT_EQ(waiter.Commit().code(), StatusCode::kBusy);
}

TEST(DatabaseFileTest, OpenFailsInAMissingDirectory) {
  Result<std::unique_ptr<Database>> db = Database::Open("/nonexistent-dir-for-keepdav/k.db");
  EXPECT_FALSE(db.ok());
}

}  // namespace
}  // namespace keepdav::storage

namespace keepdav::storage {
namespace {

TEST(DatabaseExclusiveTest, AnExclusiveOwnerKeepsOtherProcessesOut) {
  std::string dir = ::testing::TempDir() + "keepdav-db-exclusive-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string file = dir + "/x.sqlite";
  {
    auto owner = Database::Open(file, 100, /*exclusive=*/true);
    ASSERT_TRUE(owner.ok()) << owner.status().ToString();
    auto other = Database::Open(file, 100, /*exclusive=*/false);
    EXPECT_FALSE(other.ok());
    auto second_owner = Database::Open(file, 100, /*exclusive=*/true);
    ASSERT_FALSE(second_owner.ok());
    EXPECT_NE(second_owner.status().message().find("in use"), std::string::npos);
  }
  // Released on close.
  auto again = Database::Open(file, 100, /*exclusive=*/true);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace keepdav::storage
