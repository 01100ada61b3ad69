#include "webdav/dav_handler.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <strings.h>

#include <exception>
#include <unordered_map>

#include "webdav/authorisation.h"
#include "webdav/browser_assets.h"
#include "webdav/collection_url.h"
#include "webdav/href.h"
#include "webdav/options.h"
#include "webdav/preconditions.h"
#include "webdav/request_target.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

using storage::FileInfo;
using storage::ResourcePath;
using storage::Status;

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return strcasecmp(a.c_str(), b.c_str()) < 0;
}

namespace {

Poco::Logger& Log() {
  return Poco::Logger::get("keepdav.dav");
}

// One line per error answer; the detail the client is not told is kept here.
void LogError(const DavRequest& req, const DavError& err) {
  std::string text = err.message;
  if (!err.detail.empty()) text += " (" + err.detail + ")";
  if (err.status >= 500) {
    Log().error("%s %s -> %d %s", req.method, req.target, err.status, text);
  } else {
    Log().information("%s %s -> %d %s", req.method, req.target, err.status, text);
  }
}

const AccessPolicy& AllowAllPolicy() {
  static const AccessPolicy kAll = AccessPolicy::AllowAll();
  return kAll;
}

}  // namespace

DavHandler::DavHandler(const DavBackends& backends, DavSettings settings)
    : fs_(backends.files),
      access_(std::shared_ptr<const AccessPolicy>(),
              backends.access ? backends.access : &AllowAllPolicy()),
      props_(backends.properties),
      journal_(backends.journal),
      // `settings` itself: settings_ is declared (so initialised) after checksums_.
      checksums_(backends.files, backends.checksums,
                 static_cast<size_t>(settings.checksum_cache_rows),
                 std::chrono::seconds(settings.checksum_snapshot_max_age_s)),
      settings_(std::move(settings)),
      locks_(backends.locks, backends.clock, settings_.locks,
             [this](const storage::ResourcePath& p, const UrlSpace& space) {
               return HrefFor(space, p);
             }) {}

const char* DavHandler::AllowedMethods() {
  return webdav::AllowedMethods();
}

DavHandler::Method DavHandler::FindMethod(const std::string& name, bool* modifies) {
  struct Entry {
    Method method;
    bool modifies;
  };
  static const std::unordered_map<std::string, Entry> kTable = {
      {"OPTIONS", {&DavHandler::HandleOptions, false}},
      {"GET", {&DavHandler::HandleGet, false}},
      {"HEAD", {&DavHandler::HandleGet, false}},
      {"PUT", {&DavHandler::HandlePut, true}},
      {"PATCH", {&DavHandler::HandlePatch, true}},
      {"DELETE", {&DavHandler::HandleDelete, true}},
      {"MKCOL", {&DavHandler::HandleMkcol, true}},
      {"COPY", {&DavHandler::HandleCopy, true}},
      {"MOVE", {&DavHandler::HandleMove, true}},
      {"PROPFIND", {&DavHandler::HandlePropfind, false}},
      {"PROPPATCH", {&DavHandler::HandleProppatch, true}},
      {"LOCK", {&DavHandler::HandleLock, true}},
      {"UNLOCK", {&DavHandler::HandleUnlock, true}},
  };
  auto it = kTable.find(name);
  if (it == kTable.end()) return nullptr;
  *modifies = it->second.modifies;
  return it->second.method;
}

void DavHandler::Handle(DavRequest& req, ResponseSink& sink) {
  DavError unexpected;
  try {
    DavResponse response = Dispatch(req);
    if (response.status() == 0) {  // a handler bug: it answered DavError::Ok()
      response = DavError::Make(500, "internal error").WithDetail("the handler gave no answer");
    }
    if (response.is_error()) LogError(req, response.error());
    WriteResponse(req, std::move(response), sink);
    return;
  } catch (const Poco::Exception& e) {
    unexpected = DavError::Make(500, "unexpected error").WithDetail(e.displayText());
  } catch (const std::exception& e) {
    unexpected = DavError::Make(500, "unexpected error").WithDetail(e.what());
  }
  LogError(req, unexpected);
  if (sink.sent()) return;  // too late to change the status; the log line is all we can do
  WriteResponse(req, unexpected, sink);
}

void DavHandler::ReplaceAccessPolicy(std::shared_ptr<const AccessPolicy> policy) {
  std::atomic_store(&access_, std::shared_ptr<const AccessPolicy>(std::move(policy)));
}

DavResponse DavHandler::Dispatch(DavRequest& req) {
  bool modifies = false;
  Method method = FindMethod(req.method, &modifies);
  if (!method) return DavError::Make(501, "method " + req.method + " is not implemented");
  if (modifies && settings_.read_only) return DavError::Make(403, "the server is read-only");
  // The browser page's script and styles: the same public bytes for everyone, before any
  // request-target resolution (".keepdav-" names are reserved) and authorisation.
  if (std::string asset; IsAssetRequest(req, settings_.base_path, &asset)) {
    return BrowserAssetResponse(req, asset);
  }
  req.access = std::atomic_load(&access_);
  DavError err = ResolveRequest(req);
  if (!err.ok()) return err;
  err = Authorise(*req.access, req);
  if (!err.ok()) return err;
  return (this->*method)(req);
}

DavError DavHandler::ResolveRequest(DavRequest& req) const {
  req.depth = DepthHeader::Parse(req.Header("Depth"));
  req.space.base = settings_.base_path;
  req.space.root = req.access->RootOf(req.user);
  req.path = req.space.root;
  if (!(req.method == "OPTIONS" && req.target == "*")) {
    DavError err = ResolveRequestTarget(req, &req.path);
    if (!err.ok()) return err;
  }
  if (req.method == "COPY" || req.method == "MOVE") {
    storage::ResourcePath to;
    DavError err = ResolveDestination(req, &to);
    if (!err.ok()) return err;
    req.destination = to;
  }
  return DavError::Ok();
}

DavResponse DavHandler::HandleOptions(const DavRequest& req) {
  // "*" and every path answer the same; a collection named without its slash is named with it
  // (collection_url.h). Only then is the target looked at.
  DavResponse response = OptionsResponse(settings_.partial_updates);
  if (req.target != "*" && NamedWithoutSlash(req)) {
    auto info = fs_.Stat(req.path);
    AddCollectionLocation(req, info.ok() && info->IsDirectory(), &response);
  }
  return response;
}

DavError DavHandler::CheckConditions(const DavRequest& req, const ResourcePath& path,
                                     const FileInfo* info,
                                     const std::vector<ChangedResource>& changes,
                                     std::vector<storage::LockRecord>* seen_below) const {
  return CheckPreconditions(req, path, info, changes, fs_, locks_, seen_below);
}

std::string DavHandler::HrefFor(const UrlSpace& space, const ResourcePath& path) const {
  if (!space.root.Contains(path) || space.IsViewRoot(path)) return space.Href(path, true);
  auto info = fs_.Stat(path);
  return space.Href(path, info.ok() && info->IsDirectory());
}

void DavHandler::ForgetRemovedLocks(const ResourcePath& path, bool all_removed,
                                    const std::vector<storage::LockRecord>& seen) {
  std::vector<std::string> gone;
  for (const storage::LockRecord& l : seen) {
    if (!path.Contains(l.root)) continue;  // the other side of a MOVE
    if (all_removed || fs_.Stat(l.root).status().IsNotFound()) gone.push_back(l.token);
  }
  if (gone.empty()) return;
  Status s = locks_.Forget(gone);
  if (!s.ok()) Log().warning("locks below %s not removed: %s", path.str(), s.message());
}

Status DavHandler::DeleteResource(const DavRequest& req, const ResourcePath& path,
                                  const FileInfo& info, std::vector<MemberFailure>* failures) {
  // The files go first, then their properties: journaled (when there are any), so that a kill
  // in between leaves no property of a removed member behind for a new resource at its path to
  // inherit (start-up recovery drops them, start_up_recovery.h).
  auto has_props = props_.AnyUnder(path);
  if (!has_props.ok()) return has_props.status();
  storage::JournalEntry entry;
  entry.destination = path;
  if (has_props.value()) {
    Status begun = journal_.BeginDelete(&entry);
    if (!begun.ok()) return begun;
  }
  TreeWalker walker(fs_, *req.progress, settings_.max_tree_depth);
  Status s = walker.DeleteTree(path, info, failures);
  if (!has_props.value()) return s;
  Status props = Status::Ok();
  if (s.ok()) {
    props = props_.DeleteTree(path);
  } else {
    // Partly removed: drop the properties of what is gone, keep those of the survivors.
    auto paths = props_.PathsUnder(path);
    props = paths.status();
    for (const std::string& p : paths.ok() ? paths.value() : std::vector<std::string>()) {
      auto rp = ResourcePath::Parse(p);
      if (rp.ok() && fs_.Stat(rp.value()).status().IsNotFound()) {
        Status d = props_.DeleteTree(rp.value());
        if (!d.ok()) props = d;
      }
    }
  }
  if (props.ok()) props = journal_.Finish(entry);
  if (!props.ok()) {
    // The files are gone all the same: the answer says so; the rows wait for start-up recovery.
    Log().warning("properties below %s not removed yet (%s); start-up recovery will", path.str(),
                  props.message());
  }
  return s;
}

}  // namespace keepdav::webdav
