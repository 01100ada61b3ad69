// Database: the SQLite file that holds dead properties, locks, the operation journal and file
// checksums for one served root (the storage/sqlite/ stores are built over it).
//
// Opened in WAL mode with a busy timeout; the schema carries a version (PRAGMA user_version) and
// is created or migrated on Open. One connection, serialised by a mutex: every public call of
// the stores takes the lock for the whole of its statement or transaction.
//
// SQLite result codes are mapped to Status here and only here (SQLITE_BUSY/LOCKED -> kBusy,
// SQLITE_FULL -> kNoSpace, SQLITE_CONSTRAINT -> kAlreadyExists, SQLITE_READONLY/PERM/AUTH ->
// kPermissionDenied, SQLITE_TOOBIG -> kTooLarge, others -> kIoError).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace keepdav::storage {

class Database;

// A prepared statement. Bind* use 1-based indexes. Not thread-safe; use under Database::Lock.
class Statement {
 public:
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& BindText(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindInt(int index, int64_t value);
  Statement& BindNull(int index);

  // Returns true while a row is available, false when done. Errors through status().
  bool Step();
  // Runs to completion (for statements without rows).
  Status Run();
  // Resets for re-use; clears bindings.
  void Reset();
  const Status& status() const { return status_; }

  std::string_view ColumnText(int col) const;
  std::string_view ColumnBlob(int col) const;
  int64_t ColumnInt(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Database* db_;
  sqlite3_stmt* stmt_;
  Status status_;
};

class Database {
 public:
  // 1: properties. 2: locks (a v1 database gains an empty locks table on Open).
  // 3: the operation journal of staged COPY/MOVE. 4: per-file checksums (ChecksumStore).
  // 5: undo records of partial uploads.
  static constexpr int kSchemaVersion = 6;

  // Opens or creates the file (":memory:" for an in-memory database), applies pragmas and the
  // schema. `busy_timeout_ms` bounds waits for other processes holding the file.
  // With `exclusive`, this process holds the file's locks for as long as it is open (SQLite's
  // locking_mode=EXCLUSIVE): much cheaper per statement, and another process cannot open it.
  static Result<std::unique_ptr<Database>> Open(const std::string& file, int busy_timeout_ms = 5000,
                                                bool exclusive = false);
  ~Database();

  // True when no other connection can change the file: opened exclusive, or in memory. Stores
  // may then keep facts about their tables in memory (SqliteLockStore's row count).
  bool sole_user() const { return sole_user_; }

  // The lock that serialises use of the connection. Hold it across Prepare/Step/transactions.
  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(mutex_); }

  // REQUIRES: Lock() held. Statements are cached by SQL text, so preparing the same text again is
  // cheap; the returned statement is reset and unbound.
  Result<Statement> Prepare(std::string_view sql);
  // REQUIRES: Lock() held. Runs one or more statements without results.
  Status Execute(std::string_view sql);

  // REQUIRES: Lock() held. RAII transaction: rolls back unless Commit() succeeded.
  class Transaction {
   public:
    explicit Transaction(Database& db);
    ~Transaction();
    Status Commit();
    const Status& begin_status() const { return begin_status_; }

   private:
    Database& db_;
    Status begin_status_;
    bool done_ = false;
  };

  // Maps a SQLite result code (with the connection's message) to a Status.
  Status FromSqlite(int rc, std::string_view context) const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  Status Migrate();
  // Puts a statement that is no longer in use back into the cache.
  void Release(sqlite3_stmt* stmt);
  friend class Statement;
  sqlite3* db_;
  bool sole_user_ = false;
  std::mutex mutex_;
  // Idle prepared statements by SQL text. A statement in use is taken out, so two live
  // Statements never share one sqlite3_stmt. Guarded by its own mutex so that a Statement
  // outliving the caller's Lock() by mistake still cannot corrupt the cache.
  std::mutex cache_mutex_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> cache_;
};

}  // namespace keepdav::storage
