// LockStore: persistence of WebDAV locks in the Database, so that locks survive a restart.
//
// Storage only: which locks may coexist, how long they last and what a token looks like are
// decided by webdav/LockManager. To storage a token is a unique string, the owner opaque bytes,
// and a lock covers its root path, plus everything below it when `infinite_depth` is set.
//
// Every query takes `now` (seconds since the epoch, from a storage::Clock) and only ever returns
// active locks (now < expires_at); expired rows are invisible at once and removed for good by
// PurgeExpired, which the caller runs lazily. There is no MoveTree: RFC 4918 §7.5 says a MOVE
// does not move locks, so MOVE deletes the locks of its source (DeleteTree).
//
// Thread-safe (serialised through the Database lock). Errors are Database errors; Insert of an
// existing token is kAlreadyExists, Find/Delete/SetExpiry of an unknown token kNotFound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

struct LockRecord {
  std::string token;
  ResourcePath root;
  bool infinite_depth = false;  // false: depth 0, only `root` itself
  bool exclusive = true;        // false: shared
  std::string owner;            // opaque bytes (webdav/ keeps the DAV:owner element verbatim)
  int64_t timeout_s = 0;        // the timeout granted at creation or the last refresh
  int64_t expires_at = 0;       // seconds since the epoch; active while now < expires_at

  // True when the lock applies to `path`: its root, or a descendant under a depth-infinity lock.
  bool Covers(const ResourcePath& path) const {
    return root == path || (infinite_depth && root.Contains(path));
  }
  bool operator==(const LockRecord& o) const {
    return token == o.token && root == o.root && infinite_depth == o.infinite_depth &&
           exclusive == o.exclusive && owner == o.owner && timeout_s == o.timeout_s &&
           expires_at == o.expires_at;
  }
};

class LockStore {
 public:
  explicit LockStore(Database& db) : db_(db) {}

  // Adds a lock. kAlreadyExists when the token is taken (even by an expired lock not yet purged).
  Status Insert(const LockRecord& lock);

  // The active lock with this token; kNotFound when there is none (or it has expired).
  Result<LockRecord> Find(const std::string& token, int64_t now);

  // Active locks that cover `path`: rooted at `path`, or at an ancestor with infinite depth.
  // Ordered by root (outermost first), then token.
  Result<std::vector<LockRecord>> FindCovering(const ResourcePath& path, int64_t now);

  // Active locks rooted at `path` or anywhere below it, ordered by root, then token.
  Result<std::vector<LockRecord>> FindAtOrBelow(const ResourcePath& path, int64_t now);

  // Every active lock, ordered by root, then token (for tests and diagnostics).
  Result<std::vector<LockRecord>> All(int64_t now);

  // Number of active locks in total, and rooted exactly at `path`.
  Result<int64_t> Count(int64_t now);
  Result<int64_t> CountAt(const ResourcePath& path, int64_t now);

  // Sets the timeout and expiry of an active lock (a refresh). kNotFound when not active.
  Status SetExpiry(const std::string& token, int64_t timeout_s, int64_t expires_at, int64_t now);

  // Removes one lock, active or expired. kNotFound when no row has the token.
  Status Delete(const std::string& token);

  // Removes every lock rooted at `path` or below it (DELETE, MOVE's source). With
  // `keep_root` the locks rooted exactly at `path` stay (an overwritten COPY/MOVE destination,
  // RFC 4918 §7.5). Returns the number removed.
  Result<int64_t> DeleteTree(const ResourcePath& path, bool keep_root = false);

  // Removes the rows of locks that expired at or before `now`; returns how many.
  Result<int64_t> PurgeExpired(int64_t now);

 private:
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
  // the table's only writer (one LockStore per database, which DavHandler has). Guarded by the
  // database lock.
  int64_t rows_ = -1;
};

}  // namespace keepdav::storage
