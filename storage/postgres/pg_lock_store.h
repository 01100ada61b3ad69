// PgLockStore: the LockStore over a PostgreSQL database (table `locks`, schema in
// storage/postgres/pg_database.cc), shared by every keepdav instance serving the same tree: a
// lock taken through one instance is seen by the next request through any other, since
// nothing is cached (FindCovering is one indexed query, `root = ANY(ancestors)`).
//
// InsertIfAllowed is race-free across instances with advisory locks, taken in a fixed order
// inside its transaction: shared on each proper ancestor of the new lock's root, root first,
// then exclusive on the root itself (keepdav_lock_path_chain). Two locks can only conflict when
// one root is the other or an ancestor of it, and then one of them holds exclusively a key the
// other needs: they are serialised, and the second reads what the first committed (READ
// COMMITTED takes a new snapshot per statement). Locks on unrelated paths share only shared
// keys and proceed in parallel. A hash collision between two paths at most serialises them, or
// is a deadlock PostgreSQL breaks (40P01), which Transact runs again.
//
// Refresh and expiry agree: InsertIfAllowed deletes expired locks in its transaction, and
// SetExpiry updates only an active row, so a lock one instance has treated as expired is gone
// for any other (the row lock orders the DELETE and the UPDATE).
//
// Ownership: does not own `db`. Thread-safe. Errors: those of LockStore, with PostgreSQL's
// mapped by PgConnection; kUnavailable while the database cannot be reached.
#pragma once

#include "storage/lock_store.h"
#include "storage/postgres/pg_database.h"

namespace keepdav::storage {

class PgLockStore : public LockStore {
 public:
  explicit PgLockStore(PgDatabase& db) : db_(db) {}

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

  // The advisory lock key of a path (64-bit FNV-1a of its bytes): the same in every instance
  // and every build.
  static int64_t PathKey(const std::string& path);

 private:
  PgDatabase& db_;
};

}  // namespace keepdav::storage
