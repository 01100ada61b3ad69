// LockManager: WebDAV write-lock policy (RFC 4918 §6, §7) over a storage::LockStore.
//
// It decides which locks may coexist, hands out tokens ("urn:uuid:...", §6.5), grants and
// refreshes timeouts within the configured cap, and tells a modifying request whether it has
// submitted the tokens it needs. The store persists; the clock says what "now" is, so expiry is
// exact in tests. Expired locks never count (the store hides them) and are purged lazily, when a
// new lock is granted.
//
// Conflicts (§6.1, §6.2, §9.10.1): two active locks conflict when the scope of one includes the
// root of the other and either is exclusive. A new lock therefore conflicts with a lock covering
// its root and, at depth infinity, with a lock rooted anywhere below it.
//
// Enforcement (§7.4, §7.5): for every resource a request changes, when locks cover it, the token
// of at least one of them must be submitted (several only ever cover a resource when they are
// shared, and the holder of any shared lock may write). Adding or removing a member also needs
// a token for the locks on the parent collection, even a depth-0 lock; changing a whole tree
// (DELETE, MOVE) needs a token for every locked resource inside it.
//
// Errors are DavErrors (the policy is WebDAV's): 423 with DAV:no-conflicting-lock or
// DAV:lock-token-submitted naming the root of the lock in the way; 412/409 with
// DAV:lock-token-matches-request-uri for refresh/UNLOCK of a token that does not cover the URL;
// 507 when a cap on locks (per resource, or in total) is reached: the lock table is a resource
// like disk space (§11.5), and refusing is better than unbounded growth; storage failures map
// through DavError::FromStorage.
//
// Thread-safe: granting, refreshing and removing locks are serialised by a mutex within this
// process; a conflict check and the insert that follows it are one LockStore::InsertIfAllowed,
// atomic across the processes sharing a store (several instances over PostgreSQL).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/clock.h"
#include "storage/lock_store.h"
#include "storage/resource_path.h"
#include "webdav/dav_error.h"
#include "webdav/url_space.h"

namespace keepdav::webdav {

struct LockSettings {
  // Largest timeout granted, in seconds; "Infinite" and longer requests get this (default 1 h).
  int64_t timeout_max_s = 3600;
  // Most active locks rooted at one resource (only shared locks can pile up there).
  int64_t max_locks_per_resource = 64;
  // Most active locks in total.
  int64_t max_locks = 10000;
};

// A requested timeout (RFC 4918 §10.7) in seconds: kInfiniteTimeout for "Infinite",
// kNoTimeout when none was given or none was understood.
inline constexpr int64_t kInfiniteTimeout = -1;
inline constexpr int64_t kNoTimeout = 0;

// Parses a Timeout header such as "Second-3600" or "Infinite, Second-4100": the first value
// understood wins; values past 2^32 - 1 seconds (the RFC's maximum) are clamped.
int64_t ParseTimeoutHeader(std::string_view value);

struct LockRequest {
  storage::ResourcePath root;
  bool infinite_depth = true;
  bool exclusive = true;
  std::string owner;      // the DAV:owner element, verbatim; "" when none was given
  std::string principal;  // the authenticated user taking it, "" for none (LockRecord)
  int64_t timeout_s = kNoTimeout;
};

// A resource a modifying request changes, as lock enforcement sees it.
struct ChangedResource {
  storage::ResourcePath path;
  // The whole tree below `path` changes too (DELETE, MOVE's source, an overwritten destination):
  // locks rooted anywhere inside need their tokens.
  bool with_members = false;
  // `path` is created or removed, which changes the parent collection's membership (§7.4).
  bool adds_or_removes = false;
};

class LockManager {
 public:
  // Turns a lock root into the href named in DAV:error bodies, in the request's URL space;
  // UrlSpace::Href (without the collection slash) by default.
  using HrefFor = std::function<std::string(const storage::ResourcePath&, const UrlSpace&)>;

  LockManager(storage::LockStore& store, const storage::Clock& clock, LockSettings settings,
              HrefFor href_for = nullptr);

  // Grants a new lock on request.root (which need not exist). 423 no-conflicting-lock, 507.
  DavError Lock(const LockRequest& request, storage::LockRecord* granted,
                const UrlSpace& space = UrlSpace::Whole());

  // Extends lock `token`, whose scope must include `path`, by a new timeout (§9.10.2).
  // 412 lock-token-matches-request-uri when there is no such active lock.
  DavError Refresh(const std::string& token, const storage::ResourcePath& path, int64_t timeout_s,
                   storage::LockRecord* refreshed);

  // Removes lock `token`, whose scope must include `path` (§9.11). 409
  // lock-token-matches-request-uri otherwise (also for an unknown or expired token).
  DavError Unlock(const std::string& token, const storage::ResourcePath& path);

  // OK when `submitted` holds the tokens every changed resource needs; else 423
  // lock-token-submitted naming the root of a lock whose token is missing. With `seen_below`,
  // the locks rooted at or below each change `with_members` are added to it: the locks a DELETE
  // or MOVE that goes ahead removes with its tree (Forget), and no others, so that a lock granted
  // after this check (a LOCK of the unmapped URL, through this instance or another) survives.
  DavError CheckSubmitted(const std::vector<ChangedResource>& changes,
                          const std::vector<std::string>& submitted,
                          const UrlSpace& space = UrlSpace::Whole(),
                          std::vector<storage::LockRecord>* seen_below = nullptr) const;
  // RFC 4918 §6.4: a lock belongs to the principal who took it. OK when every token of
  // `submitted` that names an active lock names one of `principal`'s; else 403 (the token is
  // another user's, so nothing it would allow may happen).
  DavError CheckPrincipal(const std::vector<std::string>& submitted,
                          const std::string& principal) const;

  // Active locks whose scope includes `path` (DAV:lockdiscovery, If evaluation), outermost
  // root first.
  storage::Result<std::vector<storage::LockRecord>> Covering(
      const storage::ResourcePath& path) const;
  // Active locks rooted at `path` or below it.
  storage::Result<std::vector<storage::LockRecord>> AtOrBelow(
      const storage::ResourcePath& path) const;

  // Forgets the locks of a removed tree (DELETE, MOVE's source: §7.5 says locks do not move).
  // With `keep_root` the locks rooted exactly at `path` stay: when COPY or MOVE overwrites a
  // locked destination, the new resource is added to that lock (§7.5).
  storage::Status RemoveTree(const storage::ResourcePath& path, bool keep_root = false);
  // Forgets the locks `tokens` names (one store call each; a lock already gone is no error).
  storage::Status Forget(const std::vector<std::string>& tokens);

  // The timeout a request for `requested` seconds gets.
  int64_t GrantedTimeout(int64_t requested) const;

  int64_t Now() const { return clock_.Now(); }
  const LockSettings& settings() const { return settings_; }

 private:
  DavError Blocked(const storage::LockRecord& lock, const char* precondition,
                   const std::string& message, const UrlSpace& space) const;
  // Why `request` may not be granted next to the locks `around` it (Ok when it may).
  DavError Conflict(const LockRequest& request, const storage::LockNeighbourhood& around,
                    const UrlSpace& space) const;

  storage::LockStore& store_;
  const storage::Clock& clock_;
  LockSettings settings_;
  HrefFor href_for_;
  std::mutex mutex_;
};

}  // namespace keepdav::webdav
