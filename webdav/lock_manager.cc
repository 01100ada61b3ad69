#include "webdav/lock_manager.h"

#include <Poco/UUIDGenerator.h>

#include <algorithm>
#include <cctype>

#include "storage/ascii.h"
#include "webdav/multistatus_writer.h"

namespace keepdav::webdav {

using storage::LockRecord;
using storage::ResourcePath;
using storage::Result;
using storage::Status;

namespace {

// RFC 4918 §10.7: DAVTimeOutVal is at most 2^32 - 1.
constexpr int64_t kMaxTimeoutValue = 4294967295LL;

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

bool AnySubmitted(const std::vector<const LockRecord*>& locks,
                  const std::vector<std::string>& submitted) {
  if (locks.empty()) return true;
  for (const LockRecord* lock : locks) {
    if (std::find(submitted.begin(), submitted.end(), lock->token) != submitted.end()) {
      return true;
    }
  }
  return false;
}

std::vector<const LockRecord*> Pointers(const std::vector<LockRecord>& locks) {
  std::vector<const LockRecord*> out;
  for (const LockRecord& l : locks) out.push_back(&l);
  return out;
}

}  // namespace

int64_t ParseTimeoutHeader(std::string_view value) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = storage::ascii::Trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (item.size() == 8 && StartsWithIgnoreCase(item, "infinite")) return kInfiniteTimeout;
    if (!StartsWithIgnoreCase(item, "second-")) continue;
    std::string_view digits = item.substr(7);
    if (digits.empty() ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    int64_t n = 0;
    for (char c : digits) {
      n = std::min(kMaxTimeoutValue, n * 10 + (c - '0'));
    }
    return std::max<int64_t>(n, 1);  // "Second-0" would expire at once: ask for the least instead
  }
  return kNoTimeout;
}

LockManager::LockManager(storage::LockStore& store, const storage::Clock& clock,
                         LockSettings settings, HrefFor href_for)
    : store_(store), clock_(clock), settings_(settings), href_for_(std::move(href_for)) {
  settings_.timeout_max_s = std::max<int64_t>(settings_.timeout_max_s, 1);
  if (!href_for_) {
    href_for_ = [](const ResourcePath& p, const UrlSpace& space) {
      return space.Href(p, /*is_collection=*/false);
    };
  }
}

int64_t LockManager::GrantedTimeout(int64_t requested) const {
  if (requested <= 0) return settings_.timeout_max_s;  // none, or Infinite: the cap
  return std::min(requested, settings_.timeout_max_s);
}

DavError LockManager::Blocked(const LockRecord& lock, const char* precondition,
                              const std::string& message, const UrlSpace& space) const {
  DavError err = DavError::Make(
      423, message + " (lock rooted at " + std::string(space.ViewOf(lock.root)) + ")",
      precondition);
  err.href = href_for_(lock.root, space);
  return err;
}

DavError LockManager::Lock(const LockRequest& request, LockRecord* granted, const UrlSpace& space) {
  std::lock_guard<std::mutex> guard(mutex_);
  const int64_t now = clock_.Now();
  LockRecord lock;
  lock.token = "urn:uuid:" + Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
  lock.root = request.root;
  lock.infinite_depth = request.infinite_depth;
  lock.exclusive = request.exclusive;
  lock.owner = request.owner;
  lock.principal = request.principal;
  lock.timeout_s = GrantedTimeout(request.timeout_s);
  lock.expires_at = now + lock.timeout_s;
  // The check and the insert are one step of the store, atomic across every process sharing it
  // (several instances over PostgreSQL): the mutex above orders only this process. `allow` may
  // run more than once (a retried transaction), so it decides from its argument alone.
  DavError refusal;
  Result<bool> inserted =
      store_.InsertIfAllowed(lock, now, [&](const storage::LockNeighbourhood& around) {
        refusal = Conflict(request, around, space);
        return refusal.ok();
      });
  if (!inserted.ok()) return DavError::FromStorage(inserted.status());
  if (!*inserted) return refusal;
  *granted = std::move(lock);
  return DavError::Ok();
}

DavError LockManager::Conflict(const LockRequest& request, const storage::LockNeighbourhood& around,
                               const UrlSpace& space) const {
  for (const LockRecord& other : around.covering) {
    if (request.exclusive || other.exclusive) {
      return Blocked(other, "no-conflicting-lock", "the resource is already locked", space);
    }
  }
  for (const LockRecord& other : around.below) {
    if (request.exclusive || other.exclusive) {
      return Blocked(other, "no-conflicting-lock", "a member of the collection is locked", space);
    }
  }
  if (around.count_at_root >= settings_.max_locks_per_resource) {
    return DavError::Make(507, "too many locks on this resource (at most " +
                                   std::to_string(settings_.max_locks_per_resource) +
                                   ", --max-locks-per-resource)");
  }
  if (around.count_total >= settings_.max_locks) {
    return DavError::Make(507, "the lock table is full (" + std::to_string(settings_.max_locks) +
                                   " active locks, --max-locks)");
  }
  return DavError::Ok();
}

DavError LockManager::Refresh(const std::string& token, const ResourcePath& path, int64_t timeout_s,
                              LockRecord* refreshed) {
  std::lock_guard<std::mutex> guard(mutex_);
  int64_t now = clock_.Now();
  Result<LockRecord> lock = store_.Find(token, now);
  if (!lock.ok() && !lock.status().IsNotFound()) return DavError::FromStorage(lock.status());
  if (!lock.ok() || !lock->Covers(path)) {
    // §9.10.6: 412 with lock-token-matches-request-uri.
    return DavError::Make(412, "no active lock " + token + " covers the request-URI",
                          "lock-token-matches-request-uri")
        .WithDetail(path.str());
  }
  int64_t granted = GrantedTimeout(timeout_s);
  Status s = store_.SetExpiry(token, granted, now + granted, now);
  if (!s.ok()) return DavError::FromStorage(s);
  *refreshed = std::move(lock.value());
  refreshed->timeout_s = granted;
  refreshed->expires_at = now + granted;
  return DavError::Ok();
}

DavError LockManager::Unlock(const std::string& token, const ResourcePath& path) {
  std::lock_guard<std::mutex> guard(mutex_);
  Result<LockRecord> lock = store_.Find(token, clock_.Now());
  if (!lock.ok() && !lock.status().IsNotFound()) return DavError::FromStorage(lock.status());
  if (!lock.ok() || !lock->Covers(path)) {
    // §9.11.1: 409 with lock-token-matches-request-uri.
    return DavError::Make(409, "no active lock " + token + " covers the request-URI",
                          "lock-token-matches-request-uri")
        .WithDetail(path.str());
  }
  Status s = store_.Delete(token);
  if (!s.ok() && !s.IsNotFound()) return DavError::FromStorage(s);
  return DavError::Ok();
}

DavError LockManager::CheckSubmitted(const std::vector<ChangedResource>& changes,
                                     const std::vector<std::string>& submitted,
                                     const UrlSpace& space,
                                     std::vector<LockRecord>* seen_below) const {
  int64_t now = clock_.Now();
  for (const ChangedResource& change : changes) {
    auto covering = store_.FindCovering(change.path, now);
    if (!covering.ok()) return DavError::FromStorage(covering.status());
    if (!AnySubmitted(Pointers(covering.value()), submitted)) {
      return Blocked(covering->front(), "lock-token-submitted",
                     "the resource is locked and no lock token was submitted", space);
    }
    if (change.adds_or_removes && !change.path.IsRoot()) {
      auto parent = store_.FindCovering(change.path.Parent(), now);
      if (!parent.ok()) return DavError::FromStorage(parent.status());
      if (!AnySubmitted(Pointers(parent.value()), submitted)) {
        return Blocked(parent->front(), "lock-token-submitted",
                       "the parent collection is locked and no lock token was submitted", space);
      }
    }
    if (change.with_members) {
      auto below = store_.FindAtOrBelow(change.path, now);
      if (!below.ok()) return DavError::FromStorage(below.status());
      if (seen_below) seen_below->insert(seen_below->end(), below->begin(), below->end());
      for (const LockRecord& inner : below.value()) {
        if (inner.root == change.path) continue;  // checked with `covering`
        // The locks whose scope includes this member: its own, and deep ones above it.
        std::vector<const LockRecord*> scope;
        for (const LockRecord& l : covering.value()) {
          if (l.Covers(inner.root)) scope.push_back(&l);
        }
        for (const LockRecord& l : below.value()) {
          if (l.Covers(inner.root)) scope.push_back(&l);
        }
        if (!AnySubmitted(scope, submitted)) {
          return Blocked(inner, "lock-token-submitted",
                         "a member is locked and no lock token was submitted", space);
        }
      }
    }
  }
  return DavError::Ok();
}

DavError LockManager::CheckPrincipal(const std::vector<std::string>& submitted,
                                     const std::string& principal) const {
  int64_t now = clock_.Now();
  for (const std::string& token : submitted) {
    Result<LockRecord> lock = store_.Find(token, now);
    if (!lock.ok()) {
      if (lock.status().IsNotFound()) continue;  // no such lock: the If header decides
      return DavError::FromStorage(lock.status());
    }
    if (lock->principal != principal) {
      return DavError::Make(403, "lock token " + token + " belongs to another user")
          .WithDetail("taken by '" + lock->principal + "', submitted by '" + principal + "'");
    }
  }
  return DavError::Ok();
}

Result<std::vector<LockRecord>> LockManager::Covering(const ResourcePath& path) const {
  return store_.FindCovering(path, clock_.Now());
}

Result<std::vector<LockRecord>> LockManager::AtOrBelow(const ResourcePath& path) const {
  return store_.FindAtOrBelow(path, clock_.Now());
}

Status LockManager::Forget(const std::vector<std::string>& tokens) {
  std::lock_guard<std::mutex> guard(mutex_);
  Status first;
  for (const std::string& token : tokens) {
    Status s = store_.Delete(token);
    if (!s.ok() && !s.IsNotFound() && first.ok()) first = s;
  }
  return first;
}

Status LockManager::RemoveTree(const ResourcePath& path, bool keep_root) {
  std::lock_guard<std::mutex> guard(mutex_);
  Result<int64_t> n = store_.DeleteTree(path, keep_root);
  return n.ok() ? Status::Ok() : n.status();
}

}  // namespace keepdav::webdav
