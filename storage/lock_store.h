// LockStore: persistence of WebDAV locks, so that locks survive a restart (the interface;
// SqliteLockStore in storage/sqlite/ is the implementation keepdav runs today).
//
// Storage only: which locks may coexist, how long they last and what a token looks like are
// decided by webdav/LockManager (lock policy apart from lock persistence, as WsgiDAV does). To
// storage a token is a unique string, the owner opaque bytes, and a lock covers its root path,
// plus everything below it when `infinite_depth` is set.
//
// Every query takes `now` (seconds since the epoch, from a storage::Clock) and only ever returns
// active locks (now < expires_at); expired rows are invisible at once and removed for good by
// PurgeExpired, which the caller runs lazily. There is no MoveTree: RFC 4918 §7.5 says a MOVE
// does not move locks, so MOVE deletes the locks of its source (DeleteTree). FindCovering runs
// for every modifying request and every PROPFIND member with lockdiscovery: implementations must
// keep it cheap (SQLite answers it without SQL while it knows the table is empty).
//
// Ownership: the caller owns the store; an implementation does not own the database it is built
// over. Thread safety: every method may be called from any thread at any time; each call is
// atomic. Errors: Insert of an existing token is kAlreadyExists, an empty token
// kInvalidArgument; Find/Delete/SetExpiry of an unknown token kNotFound; otherwise the errors of
// the backing database (kBusy, kNoSpace, kPermissionDenied, kIoError: see storage/database.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

struct LockRecord {
  std::string token;
  ResourcePath root;
  bool infinite_depth = false;  // false: depth 0, only `root` itself
  bool exclusive = true;        // false: shared
  std::string owner;            // opaque bytes (webdav/ keeps the DAV:owner element verbatim)
  // Who took the lock: the authenticated user name, "" when taken without authentication.
  // Opaque to storage; webdav/ lets only this principal use the token (RFC 4918 §6.4).
  std::string principal;
  int64_t timeout_s = 0;   // the timeout granted at creation or the last refresh
  int64_t expires_at = 0;  // seconds since the epoch; active while now < expires_at

  // True when the lock applies to `path`: its root, or a descendant under a depth-infinity lock.
  bool Covers(const ResourcePath& path) const {
    return root == path || (infinite_depth && root.Contains(path));
  }
  bool operator==(const LockRecord& o) const {
    return token == o.token && root == o.root && infinite_depth == o.infinite_depth &&
           exclusive == o.exclusive && owner == o.owner && principal == o.principal &&
           timeout_s == o.timeout_s && expires_at == o.expires_at;
  }
};

// What InsertIfAllowed shows the lock policy before it adds a lock: the active locks the new one
// could conflict with, and the counts the limits apply to.
struct LockNeighbourhood {
  std::vector<LockRecord> covering;  // FindCovering(lock.root)
  // With lock.infinite_depth: the active locks rooted strictly below lock.root (FindAtOrBelow
  // less those at the root itself); empty for a depth-0 lock.
  std::vector<LockRecord> below;
  int64_t count_at_root = 0;  // CountAt(lock.root)
  int64_t count_total = 0;    // Count()
};

class LockStore {
 public:
  virtual ~LockStore() = default;

  // Adds a lock. kAlreadyExists when the token is taken (even by an expired lock not yet purged).
  virtual Status Insert(const LockRecord& lock) = 0;

  // Creating a lock without a race (issue 15: several keepdav instances over one PostgreSQL
  // database), with the policy left to the caller (webdav/LockManager): atomically with respect
  // to every other InsertIfAllowed on the same data, from any process, it purges the locks
  // expired at `now`, reads the neighbourhood of `lock`, asks `allow`, and inserts `lock` only
  // when `allow` says true. Returns whether it inserted. Two racing calls whose locks conflict
  // therefore see each other: exactly one wins. Because the purge is part of the same change,
  // a lock that one instance treated as expired cannot be refreshed (SetExpiry) by another
  // afterwards. `allow` may be called more than once (a retried transaction: it must decide
  // from its argument alone) and must not call back into the store. Errors: those of Insert.
  virtual Result<bool> InsertIfAllowed(
      const LockRecord& lock, int64_t now,
      const std::function<bool(const LockNeighbourhood&)>& allow) = 0;

  // The active lock with this token; kNotFound when there is none (or it has expired).
  virtual Result<LockRecord> Find(const std::string& token, int64_t now) = 0;

  // Active locks that cover `path`: rooted at `path`, or at an ancestor with infinite depth.
  // Ordered by root (outermost first), then token.
  virtual Result<std::vector<LockRecord>> FindCovering(const ResourcePath& path, int64_t now) = 0;

  // Active locks rooted at `path` or anywhere below it, ordered by root, then token.
  virtual Result<std::vector<LockRecord>> FindAtOrBelow(const ResourcePath& path, int64_t now) = 0;

  // Every active lock, ordered by root, then token (for tests and diagnostics).
  virtual Result<std::vector<LockRecord>> All(int64_t now) = 0;

  // Number of active locks in total, and rooted exactly at `path`.
  virtual Result<int64_t> Count(int64_t now) = 0;
  virtual Result<int64_t> CountAt(const ResourcePath& path, int64_t now) = 0;

  // Sets the timeout and expiry of an active lock (a refresh). kNotFound when not active.
  virtual Status SetExpiry(const std::string& token, int64_t timeout_s, int64_t expires_at,
                           int64_t now) = 0;

  // Removes one lock, active or expired. kNotFound when no row has the token.
  virtual Status Delete(const std::string& token) = 0;

  // Removes every lock rooted at `path` or below it (DELETE, MOVE's source). With
  // `keep_root` the locks rooted exactly at `path` stay (an overwritten COPY/MOVE destination,
  // RFC 4918 §7.5). Returns the number removed.
  Result<int64_t> DeleteTree(const ResourcePath& path) { return DeleteTree(path, false); }
  virtual Result<int64_t> DeleteTree(const ResourcePath& path, bool keep_root) = 0;

  // Removes the rows of locks that expired at or before `now`; returns how many.
  virtual Result<int64_t> PurgeExpired(int64_t now) = 0;
};

}  // namespace keepdav::storage
