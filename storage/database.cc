#include "storage/database.h"

#include <sqlite3.h>

#include <iterator>

#include "storage/ascii.h"

namespace keepdav::storage {
namespace {

// Schema migrations: entry i takes the schema from version i to version i + 1. Append only; a
// released entry never changes.
constexpr const char* kMigrations[] = {
    // v1: dead properties. Values are BLOBs because they are opaque bytes to storage (a verbatim
    // XML fragment from webdav/); WITHOUT ROWID keeps rows clustered by path, so the subtree
    // range scans of PropertyStore read neighbouring pages.
    "CREATE TABLE properties ("
    "  path TEXT NOT NULL,"
    "  ns TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  PRIMARY KEY (path, ns, name)"
    ") WITHOUT ROWID;",
    // v2: WebDAV locks (LockStore). A lock is named by its token; `root` is the locked path,
    // indexed for the per-path and subtree queries. Times are whole seconds since the epoch; a
    // lock is active while now < expires_at. `owner` is opaque bytes, like property values.
    "CREATE TABLE locks ("
    "  token TEXT PRIMARY KEY NOT NULL,"
    "  root TEXT NOT NULL,"
    "  infinite_depth INTEGER NOT NULL,"
    "  exclusive INTEGER NOT NULL,"
    "  owner BLOB NOT NULL,"
    "  timeout_s INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX locks_by_root ON locks (root);"
    "CREATE INDEX locks_by_expiry ON locks (expires_at);",
    // v3: the OperationJournal of staged COPY/MOVE (see operation_journal.h). Paths are
    // ResourcePath strings; staging and trash are reserved names beside the destination.
    "CREATE TABLE operations ("
    "  id INTEGER PRIMARY KEY,"
    "  kind INTEGER NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  source TEXT NOT NULL,"
    "  destination TEXT NOT NULL,"
    "  staging TEXT NOT NULL,"
    "  trash TEXT NOT NULL,"
    "  staged_inode INTEGER NOT NULL,"
    "  staged_device INTEGER NOT NULL"
    ");",
    // v4: per-file checksums (ChecksumStore, for sync clients). A row holds the identity of the
    // file it was computed from (inode, size, mtime and ctime in ns), so a stale row is told
    // apart from a valid one; sums are lower-case hex, "" when not computed. Keyed by path in a
    // WITHOUT ROWID table, like properties, for the subtree range scans.
    "CREATE TABLE checksums ("
    "  path TEXT PRIMARY KEY NOT NULL,"
    "  inode INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  ctime_ns INTEGER NOT NULL,"
    "  sha1 TEXT NOT NULL,"
    "  md5 TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL"
    ") WITHOUT ROWID;",
    // v5: undo records of partial uploads (OperationJournal::BeginPartialWrite): the file's old
    // size and the bytes a write overwrites, saved before it changes the file in place.
    "CREATE TABLE partial_writes ("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL,"
    "  inode INTEGER NOT NULL,"
    "  old_size INTEGER NOT NULL,"
    "  old_mtime_ns INTEGER NOT NULL,"
    "  offset INTEGER NOT NULL,"
    "  saved BLOB NOT NULL"
    ");",
    // v6: the user who took a lock (RFC 4918 §6.4: a lock belongs to its creator; webdav/
    // refuses its token to anyone else). "" for locks taken without authentication, which is
    // what every lock of an older database was.
    "ALTER TABLE locks ADD COLUMN principal TEXT NOT NULL DEFAULT '';",
};
static_assert(std::size(kMigrations) == Database::kSchemaVersion,
              "one migration per schema version");

// Idle copies kept per SQL text; more only happen with nested use of one statement.
constexpr size_t kMaxIdlePerSql = 4;

StatusCode CodeForSqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kBusy;
    case SQLITE_FULL:
      return StatusCode::kNoSpace;
    case SQLITE_CONSTRAINT:
      return StatusCode::kAlreadyExists;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return StatusCode::kPermissionDenied;
    case SQLITE_TOOBIG:
      return StatusCode::kTooLarge;
    default:
      return StatusCode::kIoError;
  }
}

bool IsInMemory(const std::string& file) {
  return file.empty() || file == ":memory:" || file.rfind("file::memory:", 0) == 0;
}

}  // namespace

// --- Statement ---

Statement::Statement(Statement&& o) noexcept
    : db_(o.db_), stmt_(o.stmt_), status_(std::move(o.status_)) {
  o.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  db_->Release(stmt_);
}

// SQLITE_TRANSIENT copies the bytes: callers pass string_views of temporaries. An empty view
// may have a null data pointer, which SQLite would bind as NULL, so those bind an empty value.
Statement& Statement::BindText(int index, std::string_view text) {
  if (!status_.ok()) return *this;
  const char* data = text.empty() ? "" : text.data();
  int rc = sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) status_ = db_->FromSqlite(rc, "bind");
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  if (!status_.ok()) return *this;
  int rc = bytes.empty()
               ? sqlite3_bind_zeroblob(stmt_, index, 0)
               : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) status_ = db_->FromSqlite(rc, "bind");
  return *this;
}

Statement& Statement::BindInt(int index, int64_t value) {
  if (!status_.ok()) return *this;
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) status_ = db_->FromSqlite(rc, "bind");
  return *this;
}

Statement& Statement::BindNull(int index) {
  if (!status_.ok()) return *this;
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) status_ = db_->FromSqlite(rc, "bind");
  return *this;
}

bool Statement::Step() {
  if (!status_.ok()) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = db_->FromSqlite(rc, sqlite3_sql(stmt_));
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  return status_;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = Status::Ok();
}

std::string_view Statement::ColumnText(int col) const {
  // sqlite3_column_bytes must follow the text call (it may convert the value).
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return std::string_view();
  return std::string_view(reinterpret_cast<const char*>(p),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::string_view Statement::ColumnBlob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (p == nullptr) return std::string_view();
  return std::string_view(static_cast<const char*>(p),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

int64_t Statement::ColumnInt(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

// --- Database ---

Result<std::unique_ptr<Database>> Database::Open(const std::string& file, int busy_timeout_ms,
                                                 bool exclusive) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(file.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "open database " + file + ": " +
                      (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_close_v2(raw);
    return Status::WithCode(CodeForSqlite(rc), std::move(msg));
  }
  std::unique_ptr<Database> db(new Database(raw));
  db->sole_user_ = exclusive || IsInMemory(file);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  auto lock = db->Lock();
  if (exclusive && !IsInMemory(file)) {
    // One process owns the file: SQLite then takes its file locks once instead of around every
    // statement (two fcntl calls per PROPFIND member otherwise), WAL needs no shared memory, and
    // a second keepdav on the same database fails here instead of racing the first one's lock
    // checks. Set before journal_mode, and taken at once by an empty write transaction.
    Status ex = db->Execute("PRAGMA locking_mode=EXCLUSIVE");
    if (!ex.ok()) return ex;
    ex = db->Execute("BEGIN IMMEDIATE; COMMIT;");
    if (!ex.ok()) {
      return Status::WithCode(
          ex.code(), "database " + file + " is in use by another process: " + ex.message());
    }
  }
  if (!IsInMemory(file)) {
    // WAL lets readers proceed while a PROPPATCH writes. A file system without shared memory
    // support keeps the old journal mode; that is slower but correct, so it is not an error.
    Result<Statement> wal = db->Prepare("PRAGMA journal_mode=WAL");
    if (!wal.ok()) return wal.status();
    wal->Step();
    if (!wal->status().ok()) return wal->status();
  }
  // NORMAL is durable across application crashes in WAL mode; only a power loss may lose the
  // last transactions, which matches what the files themselves promise without fsync.
  // A 16 MiB page cache (SQLite's default is 2 MiB): a Depth 1 listing asking for oc:checksums
  // reads a folder's rows (about 200 bytes each) in one query, and with 10,000 files those pages
  // no longer fit the default and were read again from the OS on every listing (issue 13).
  Status s =
      db->Execute("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384;");
  if (!s.ok()) return s;
  s = db->Migrate();
  if (!s.ok()) return Status::WithCode(s.code(), "database " + file + ": " + s.message());
  lock.unlock();
  return db;
}

Database::~Database() {
  for (auto& entry : cache_) {
    for (sqlite3_stmt* stmt : entry.second) sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db_);
}

Status Database::Migrate() {
  auto read_version = [this]() -> Result<int64_t> {
    Result<Statement> st = Prepare("PRAGMA user_version");
    if (!st.ok()) return st.status();
    if (!st->Step()) {
      return st->status().ok() ? Status::IoError("PRAGMA user_version returned no row")
                               : st->status();
    }
    return st->ColumnInt(0);
  };
  Result<int64_t> version = read_version();
  if (!version.ok()) return version.status();
  if (*version == kSchemaVersion) return Status::Ok();
  Transaction tx(*this);
  if (!tx.begin_status().ok()) return tx.begin_status();
  // Read again inside the write lock: another process may have migrated meanwhile.
  version = read_version();
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion || *version < 0) {
    return Status::WithCode(StatusCode::kInvalidArgument,
                            "schema version " + std::to_string(*version) +
                                " is newer than this keepdav supports (" +
                                std::to_string(kSchemaVersion) + "); upgrade keepdav");
  }
  for (int64_t v = *version; v < kSchemaVersion; ++v) {
    Status s = Execute(kMigrations[v]);
    if (!s.ok()) return s;
  }
  Status s = Execute("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  if (!s.ok()) return s;
  return tx.Commit();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sql = ascii::TrimTrailing(sql, ascii::kWhitespace);
  {
    std::lock_guard<std::mutex> guard(cache_mutex_);
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end() && !it->second.empty()) {
      sqlite3_stmt* stmt = it->second.back();
      it->second.pop_back();
      return Statement(this, stmt);
    }
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) return FromSqlite(rc, "prepare " + std::string(sql));
  if (stmt == nullptr) return Status::InvalidArgument("empty SQL statement");
  if (tail != nullptr && tail != sql.data() + sql.size()) {
    // Only one statement per Statement; the cache key must be exactly sqlite3_sql(stmt).
    sqlite3_finalize(stmt);
    return Status::InvalidArgument("more than one SQL statement: " + std::string(sql));
  }
  return Statement(this, stmt);
}

void Database::Release(sqlite3_stmt* stmt) {
  std::lock_guard<std::mutex> guard(cache_mutex_);
  std::vector<sqlite3_stmt*>& idle = cache_[sqlite3_sql(stmt)];
  if (idle.size() >= kMaxIdlePerSql) {
    sqlite3_finalize(stmt);
    return;
  }
  idle.push_back(stmt);
}

Status Database::Execute(std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = std::string(sql) + ": " + (err != nullptr ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return Status::WithCode(CodeForSqlite(rc), std::move(msg));
}

Status Database::FromSqlite(int rc, std::string_view context) const {
  std::string msg(context);
  msg += ": ";
  msg += sqlite3_errstr(rc);
  const char* detail = sqlite3_errmsg(db_);
  if (detail != nullptr && sqlite3_errcode(db_) == rc) {
    msg += " (";
    msg += detail;
    msg += ")";
  }
  return Status::WithCode(CodeForSqlite(rc), std::move(msg));
}

// --- Transaction ---

// IMMEDIATE takes the write lock up front: a deferred transaction that later needs to write can
// fail with SQLITE_BUSY without the busy handler being able to help.
Database::Transaction::Transaction(Database& db)
    : db_(db), begin_status_(db.Execute("BEGIN IMMEDIATE")) {}

Database::Transaction::~Transaction() {
  if (done_ || !begin_status_.ok()) return;
  // A failed COMMIT may already have rolled back (and ended) the transaction.
  if (sqlite3_get_autocommit(db_.db_) == 0) db_.Execute("ROLLBACK");
}

Status Database::Transaction::Commit() {
  if (!begin_status_.ok()) return begin_status_;
  if (done_) return Status::InvalidArgument("transaction already committed");
  Status s = db_.Execute("COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

}  // namespace keepdav::storage
