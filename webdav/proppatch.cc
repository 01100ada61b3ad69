// PROPPATCH (RFC 4918 §9.2): all or nothing.
#include <algorithm>
#include <optional>
#include <shared_mutex>
#include <sstream>

#include "webdav/collection_url.h"
#include "webdav/dav_handler.h"
#include "webdav/href.h"
#include "webdav/live_properties.h"
#include "webdav/multistatus_writer.h"
#include "webdav/win32_properties.h"

namespace keepdav::webdav {

using storage::PropertyChange;
using storage::ResourcePath;
using storage::Status;

namespace {

// The 207 of a PROPPATCH: one response for the resource, one propstat per distinct status, in
// the order the statuses first occur.
DavResponse ProppatchResult(const std::string& href, const std::vector<PropertyChange>& changes,
                            const std::vector<int>& statuses) {
  std::ostringstream out;
  MultistatusWriter writer(out);
  writer.Begin();
  writer.BeginResponse(href);
  std::vector<int> distinct;
  for (int st : statuses) {
    if (std::find(distinct.begin(), distinct.end(), st) == distinct.end()) distinct.push_back(st);
  }
  for (int status : distinct) {
    bool open = false;
    for (size_t i = 0; i < changes.size(); ++i) {
      if (statuses[i] != status) continue;
      if (!open) {
        writer.BeginPropstat();
        open = true;
      }
      writer.WriteEmptyProperty(changes[i].name);
    }
    if (open) {
      writer.EndPropstat(status, status == 403 ? "cannot-modify-protected-property" : "");
    }
  }
  writer.EndResponse();
  writer.End();
  return DavResponse::Text(207, "application/xml; charset=utf-8", std::move(out).str());
}

}  // namespace

DavResponse DavHandler::HandleProppatch(const DavRequest& req) {
  const ResourcePath& path = req.path;
  DavError err;
  auto info = fs_.Stat(path);
  if (!info.ok()) return DavError::FromStorage(info.status());
  // Without an If header, the lock check comes down to "does a lock cover the resource", and the
  // property store answers that in the same step as the write (ApplyUnlessLocked: one round trip
  // with PostgreSQL instead of two). With one, its tokens are evaluated against the locks first,
  // as for any other method; and so whenever the request will not reach that write.
  bool lock_checked = req.Header("If") != nullptr;
  auto check_lock = [&] {
    lock_checked = true;
    return CheckConditions(req, path, &info.value(), {{path}});
  };
  err = lock_checked ? check_lock() : CheckConditions(req, path, &info.value(), {});
  if (!err.ok()) return err;
  std::string body;
  err = ReadBody(*req.body, req.content_length, settings_.xml, &body);
  if (!err.ok()) return err;
  std::vector<PropertyChange> changes;
  err = ParseProppatch(body, settings_.xml, &changes);
  if (!err.ok()) return err;

  // Any change to a protected live property fails the whole request: that one gets 403, every
  // other one 424 Failed Dependency (§9.2.1). Windows' Win32LastModifiedTime sets the real
  // modification time instead of being stored (win32_properties.h); a value that is not a date
  // is 409, "a value whose semantics are not appropriate for the property" (§9.2.1).
  std::vector<int> statuses(changes.size(), 200);
  std::vector<PropertyChange> dead;
  std::optional<int64_t> new_mtime_ns;
  bool rejected = false;
  for (size_t i = 0; i < changes.size(); ++i) {
    const LivePropertyDef* def = FindLiveProperty(changes[i].name);
    if (def && def->is_protected) {
      statuses[i] = 403;
      rejected = true;
    } else if (IsWin32LastModifiedTime(changes[i].name)) {
      if (changes[i].remove) continue;  // nothing stored, nothing to remove
      std::optional<int64_t> seconds = ParseWin32Time(changes[i].value);
      if (!seconds) {
        statuses[i] = 409;
        rejected = true;
      } else {
        new_mtime_ns = *seconds * 1000000000;
      }
    } else {
      dead.push_back(changes[i]);
    }
  }
  if (!lock_checked && (rejected || new_mtime_ns || dead.empty())) {
    err = check_lock();
    if (!err.ok()) return err;
  }
  if (rejected) {
    for (int& s : statuses) s = s == 200 ? 424 : s;
  } else {
    // The resource is looked up again under the namespace lock (dav_handler.h namespace_mutex_):
    // a MOVE of it or of a parent may have committed since the Stat above, while the body was
    // read, and a row written for the old path would belong to no resource.
    std::shared_lock<std::shared_mutex> namespace_lock(namespace_mutex_);
    auto now = fs_.Stat(path);
    if (!now.ok()) return DavError::FromStorage(now.status());
    info = std::move(now);
    // The time first: it can be put back if the property transaction then fails.
    Status s;
    if (new_mtime_ns) s = fs_.SetModifiedTime(path, *new_mtime_ns);
    if (s.ok() && !dead.empty() && !lock_checked) {
      storage::Result<bool> applied = props_.ApplyUnlessLocked(path, dead, locks_.Now());
      if (!applied.ok()) {
        s = applied.status();
      } else if (!*applied) {
        // A lock covers it: the usual check says which (423); if the lock went meanwhile, the
        // write goes ahead as for any request that passed the check.
        err = check_lock();
        if (!err.ok()) return err;
      }
    }
    if (s.ok() && !dead.empty() && lock_checked) {
      s = props_.Apply(path, dead);
      if (!s.ok() && new_mtime_ns) fs_.SetModifiedTime(path, info->mtime_ns);
    }
    if (!s.ok()) {
      // The database unreachable or busy: the whole request answers with Retry-After, as every
      // other method does then (a 207 could not say when to try again). Other failures (a full
      // disk) are named per property.
      DavError failed = DavError::FromStorage(s);
      if (failed.retry_after_s > 0) return failed;
      for (int& st : statuses) st = failed.status;
    }
  }

  DavResponse response =
      ProppatchResult(req.space.Href(path, info->IsDirectory()), changes, statuses);
  AddCollectionLocation(req, info->IsDirectory(), &response);
  return response;
}

}  // namespace keepdav::webdav
