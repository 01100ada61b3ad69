// LOCK and UNLOCK (RFC 4918 §9.10, §9.11), and the lock properties of PROPFIND.
//
// The lock policy lives in LockManager; this file turns requests into its calls and its answers
// into responses. A lock belongs to the user who took it (RFC 4918 §6.4, LockManager::
// CheckPrincipal): another user's token is 403. Known gap: only write locks exist.
#include <Poco/Logger.h>

#include <map>
#include <memory>

#include "webdav/collection_url.h"
#include "webdav/dav_handler.h"
#include "webdav/if_header.h"
#include "webdav/lock_discovery.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

using storage::FileInfo;
using storage::LockRecord;
using storage::ResourcePath;
using storage::Status;
using storage::StatusCode;

namespace {

// The LOCK response body: the DAV:lockdiscovery of the locks created or refreshed (§9.10.1,
// §9.10.2). Only those, rather than every lock on the resource, so that a client reading the
// first token in the body (older Windows and Office clients do) reads its own.
DavResponse LockResponse(int status, const std::string& activelocks) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>";
  body += activelocks;
  body += "</D:lockdiscovery></D:prop>\n";
  return DavResponse::Text(status, "application/xml; charset=utf-8", std::move(body));
}

bool IsBlank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

DavResponse DavHandler::HandleLock(const DavRequest& req) {
  const ResourcePath& path = req.path;
  // §9.10.3: 0 or infinity, infinity when absent.
  std::optional<Depth> depth = req.depth.Or(Depth::kInfinity);
  if (!depth || *depth == Depth::kOne) {
    return DavError::Make(400, "LOCK takes Depth 0 or infinity");
  }
  int64_t timeout = kNoTimeout;
  if (const std::string* h = req.Header("Timeout")) timeout = ParseTimeoutHeader(*h);
  std::string body;
  DavError err = ReadBody(*req.body, req.content_length, settings_.xml, &body);
  if (!err.ok()) return err;

  auto info = fs_.Stat(path);
  bool existed = info.ok();
  if (!existed && !info.status().IsNotFound()) {
    if (info.status().code() == StatusCode::kNotADirectory) {
      return DavError::Make(409, "a parent of the target is not a collection");
    }
    return DavError::FromStorage(info.status());
  }
  const FileInfo* target = existed ? &info.value() : nullptr;
  if (IsBlank(body)) return RefreshLocks(req, target, timeout);
  return CreateLock(req, target, *depth == Depth::kInfinity, timeout, body);
}

DavResponse DavHandler::RefreshLocks(const DavRequest& req, const FileInfo* target,
                                     int64_t timeout) {
  const ResourcePath& path = req.path;
  // §9.10.2: a refresh names its lock in the If header; the body is empty.
  const std::string* if_value = req.Header("If");
  if (!if_value) return DavError::Make(400, "LOCK without a body must name a lock in If");
  DavError err = CheckConditions(req, path, target, {});
  if (!err.ok()) return err;
  IfHeader parsed;
  std::string error;
  ParseIfHeader(*if_value, &parsed, &error);  // CheckConditions has parsed it already
  std::string activelocks;
  DavError first_error;
  int64_t now = locks_.Now();
  for (const std::string& token : parsed.StateTokens()) {
    LockRecord refreshed;
    DavError e = locks_.Refresh(token, path, timeout, &refreshed);
    if (e.ok()) {
      AppendActiveLock(&activelocks, refreshed, HrefFor(req.space, refreshed.root), now);
    } else if (first_error.ok()) {
      first_error = e;
    }
  }
  if (activelocks.empty()) {
    if (!first_error.ok() && first_error.status != 412) return first_error;
    // §9.10.6: the If header named no lock whose scope includes the Request-URI.
    return DavError::Make(412, "the If header names no lock on the request-URI",
                          "lock-token-matches-request-uri");
  }
  DavResponse response = LockResponse(200, activelocks);
  AddCollectionLocation(req, target && target->IsDirectory(), &response);
  return response;
}

DavResponse DavHandler::CreateLock(const DavRequest& req, const FileInfo* target,
                                   bool infinite_depth, int64_t timeout, const std::string& body) {
  const ResourcePath& path = req.path;
  const bool existed = target != nullptr;
  LockInfo lockinfo;
  DavError err = ParseLockinfo(body, settings_.xml, &lockinfo);
  if (!err.ok()) return err;
  if (!existed) {
    // §7.3: LOCK on an unmapped URL creates an empty resource, so its parent must exist.
    auto parent = fs_.Stat(path.Parent());
    if (!parent.ok() || !parent->IsDirectory()) {
      return DavError::Make(409, "the parent collection does not exist");
    }
  }
  // Locking an existing resource changes nothing in it; creating one adds a member (§7.4).
  std::vector<ChangedResource> changes;
  if (!existed) changes.push_back({path, false, true});
  err = CheckConditions(req, path, target, changes);
  if (!err.ok()) return err;

  LockRequest request;
  request.root = path;
  request.infinite_depth = infinite_depth;
  request.exclusive = lockinfo.exclusive;
  request.owner = std::move(lockinfo.owner);
  request.principal = req.user;
  request.timeout_s = timeout;
  LockRecord granted;
  err = locks_.Lock(request, &granted, req.space);
  if (!err.ok()) return err;

  if (!existed) {
    // The lock first, then the file: a conflicting LOCK in between cannot leave an unlocked
    // empty file behind, and a failed create gives the lock back.
    Status s = props_.DeleteTree(path);  // properties a crash may have left behind at this path
    if (s.ok()) {
      auto writer = fs_.BeginWrite(path);
      s = writer.ok() ? writer.value()->Commit() : writer.status();
    }
    if (!s.ok()) {
      locks_.Unlock(granted.token, path);
      if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kNotADirectory) {
        return DavError::Make(409, "the parent collection does not exist");
      }
      return DavError::FromStorage(s);
    }
  }
  std::string activelock;
  AppendActiveLock(&activelock, granted, HrefFor(req.space, path), locks_.Now());
  DavResponse r = LockResponse(existed ? 200 : 201, activelock);
  r.AddHeader("Lock-Token", "<" + granted.token + ">");
  AddCollectionLocation(req, existed && target->IsDirectory(), &r);
  return r;
}

DavResponse DavHandler::HandleUnlock(const DavRequest& req) {
  const ResourcePath& path = req.path;
  DavError err;
  const std::string* header = req.Header("Lock-Token");
  if (!header) return DavError::Make(400, "UNLOCK without a Lock-Token header");
  // Lock-Token = Coded-URL (§10.5); tolerate a token sent without its angle brackets.
  std::string_view token = *header;
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.size() >= 2 && token.front() == '<' && token.back() == '>') {
    token = token.substr(1, token.size() - 2);
  }
  if (token.empty()) return DavError::Make(400, "empty Lock-Token header");
  auto info = fs_.Stat(path);
  if (!info.ok() && !info.status().IsNotFound()) return DavError::FromStorage(info.status());
  err = CheckConditions(req, path, info.ok() ? &info.value() : nullptr, {});
  if (!err.ok()) return err;
  // RFC 4918 §6.4: only the user who took the lock may remove it.
  err = locks_.CheckPrincipal({std::string(token)}, req.user);
  if (!err.ok()) return err;
  err = locks_.Unlock(std::string(token), path);
  if (!err.ok()) return err;
  DavResponse response = DavResponse::Empty(204);
  AddCollectionLocation(req, info.ok() && info->IsDirectory(), &response);
  return response;
}

DavError DavHandler::SetLockSources(const ResourcePath& path, Depth depth, const UrlSpace& space,
                                    LiveValueSources* sources) const {
  // One lookup for the whole walk: the locks covering its root and, below depth 0, those rooted
  // inside it. Each resource then picks the ones whose scope includes it. Without them the
  // answer would show locked resources as unlocked: the request fails instead (a database that
  // cannot be reached: 503, which a client retries).
  auto locks = std::make_shared<std::vector<LockRecord>>();
  auto covering = locks_.Covering(path);
  if (!covering.ok()) return DavError::FromStorage(covering.status());
  *locks = std::move(covering.value());
  if (depth != Depth::kZero) {
    auto below = locks_.AtOrBelow(path);
    if (!below.ok()) return DavError::FromStorage(below.status());
    for (LockRecord& l : below.value()) {
      if (l.root != path) locks->push_back(std::move(l));
    }
  }
  int64_t now = locks_.Now();
  auto hrefs = std::make_shared<std::map<std::string, std::string>>();
  sources->lock_discovery = [this, locks, hrefs, now, space](const ResourcePath& p,
                                                             std::string* out) {
    for (const LockRecord& l : *locks) {
      if (!l.Covers(p)) continue;
      auto it = hrefs->find(l.root.str());
      if (it == hrefs->end()) it = hrefs->emplace(l.root.str(), HrefFor(space, l.root)).first;
      AppendActiveLock(out, l, it->second, now);
    }
  };
  sources->supported_lock = &SupportedLockXml();
  return DavError::Ok();
}

}  // namespace keepdav::webdav
