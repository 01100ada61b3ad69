// SqliteLockStore: the LockStore over a SQLite Database (table `locks`, schema in
// storage/database.cc).
//
// FindCovering is one indexed lookup per ancestor of the path; subtree queries are one range
// scan (SubtreeRange). When the Database is the process's own (Database::sole_user: opened
// exclusive, or in memory) the store counts the table's rows and answers FindCovering,
// FindAtOrBelow and DeleteTree without SQL while it holds none, which is most of the time.
//
// Ownership: does not own `db`, which must outlive the store. REQUIRES: at most one
// SqliteLockStore per Database (the row count assumes it is the table's only writer; DavServer
// builds one). Thread-safe: every call takes the Database lock. Errors: those of LockStore, with
// SQLite's codes mapped by Database.
#pragma once

#include "storage/database.h"
#include "storage/lock_store.h"

namespace keepdav::storage {

class SqliteLockStore : public LockStore {
 public:
  explicit SqliteLockStore(Database& db) : db_(db) {}

  Status Insert(const LockRecord& lock) override;
  Result<bool> InsertIfAllowed(const LockRecord& lock, int64_t now,
                               const std::function<bool(const LockNeighbourhood&)>& allow) override;
  Result<LockRecord> Find(const std::string& token, int64_t now) override;
  Result<std::vector<LockRecord>> FindCovering(const ResourcePath& path, int64_t now) override;
  Result<std::vector<LockRecord>> FindAtOrBelow(const ResourcePath& path, int64_t now) override;
  Result<std::vector<LockRecord>> All(int64_t now) override;
  Result<int64_t> Count(int64_t now) override;
  Result<int64_t> CountAt(const ResourcePath& path, int64_t now) override;
  Status SetExpiry(const std::string& token, int64_t timeout_s, int64_t expires_at,
                   int64_t now) override;
  Status Delete(const std::string& token) override;
  using LockStore::DeleteTree;
  Result<int64_t> DeleteTree(const ResourcePath& path, bool keep_root) override;
  Result<int64_t> PurgeExpired(int64_t now) override;

 private:
  // The bodies of the public calls of the same names. REQUIRES: the database lock.
  Status InsertLocked(const LockRecord& lock);
  Result<bool> InsertIfAllowedLocked(const LockRecord& lock, int64_t now,
                                     const std::function<bool(const LockNeighbourhood&)>& allow);
  Result<std::vector<LockRecord>> FindCoveringLocked(const ResourcePath& path, int64_t now);
  Result<std::vector<LockRecord>> FindAtOrBelowLocked(const ResourcePath& path, int64_t now);
  Result<int64_t> CountLocked(int64_t now);
  Result<int64_t> CountAtLocked(const ResourcePath& path, int64_t now);
  Result<int64_t> PurgeExpiredLocked(int64_t now);
  // REQUIRES: the database lock. True when the table is known to hold no row at all (only
  // decided when the database is the process's own, Database::sole_user). Most servers hold no
  // lock most of the time, and every change asks for the locks above and below what it touches.
  bool KnownEmptyLocked();
  // REQUIRES: the database lock. Keeps the row count after `n` rows were added (or removed).
  void CountRowsLocked(int64_t n) {
    if (rows_ >= 0) rows_ += n;
  }

  Database& db_;
  // Rows in the table, active or expired; -1 until first needed. Counted only when this store is
  // the table's only writer. Guarded by the database lock.
  int64_t rows_ = -1;
};

}  // namespace keepdav::storage
