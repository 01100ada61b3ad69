#include "webdav/dav_handler.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/URI.h>

#include <strings.h>

#include <exception>
#include <unordered_map>

#include "webdav/conditional.h"
#include "webdav/if_header.h"
#include "webdav/multistatus_writer.h"
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

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Splits "host:port" (or "[v6]:port") into host and port; port 0 when absent.
void SplitAuthority(const std::string& authority, std::string* host, unsigned* port) {
  *port = 0;
  std::string::size_type colon = authority.rfind(':');
  std::string::size_type bracket = authority.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    *host = authority.substr(0, colon);
    *port = static_cast<unsigned>(std::strtoul(authority.c_str() + colon + 1, nullptr, 10));
  } else {
    *host = authority;
  }
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
}

// True when an absolute URI names this server: same host and port as the request's Host.
bool NamesThisServer(const DavRequest& req, const Poco::URI& uri) {
  std::string host;
  unsigned port = 0;
  SplitAuthority(req.host, &host, &port);
  unsigned default_port = uri.getScheme() == "https" ? 443 : 80;
  unsigned request_port = port ? port : (req.scheme == "https" ? 443 : 80);
  unsigned uri_port = uri.getPort() ? uri.getPort() : default_port;
  return EqualsIgnoreCase(uri.getHost(), host) && uri_port == request_port;
}

DavError PathError(const Status& s) {
  return DavError::Make(s.IsNotFound() ? 404 : 400, s.message());
}

}  // namespace

bool ParseDepth(const DavRequest& req, int fallback, int* depth) {
  const std::string* h = req.Header("Depth");
  if (!h) {
    *depth = fallback;
    return true;
  }
  if (*h == "0") {
    *depth = 0;
  } else if (*h == "1") {
    *depth = 1;
  } else if (EqualsIgnoreCase(*h, "infinity")) {
    *depth = TreeWalker::kInfinity;
  } else {
    return false;
  }
  return true;
}

DavHandler::DavHandler(storage::FileSystem& fs, storage::PropertyStore& props,
                       storage::OperationJournal& journal, DavSettings settings)
    : fs_(fs), props_(props), journal_(journal), settings_(std::move(settings)) {}

const char* DavHandler::AllowedMethods() {
  return "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";
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

void DavHandler::Handle(const DavRequest& req, ResponseSink& sink) {
  DavError err;
  try {
    bool modifies = false;
    Method method = FindMethod(req.method, &modifies);
    if (!method) {
      err = DavError::Make(501, "method " + req.method + " is not implemented");
    } else if (modifies && settings_.read_only) {
      err = DavError::Make(403, "the server is read-only");
    } else {
      err = (this->*method)(req, sink);
    }
  } catch (const Poco::Exception& e) {
    err = DavError::Make(500, "unexpected error: " + e.displayText());
  } catch (const std::exception& e) {
    err = DavError::Make(500, std::string("unexpected error: ") + e.what());
  }
  if (err.ok()) return;
  if (err.status >= 500) {
    Log().error("%s %s -> %d %s", req.method, req.target, err.status, err.message);
  } else {
    Log().information("%s %s -> %d %s", req.method, req.target, err.status, err.message);
  }
  if (sink.sent()) return;  // too late to change the status; the log line is all we can do
  WriteError(req, sink, err);
}

void DavHandler::WriteError(const DavRequest& req, ResponseSink& sink, const DavError& err) const {
  sink.SetStatus(err.status);
  if (err.status == 405 || err.status == 501) sink.SetHeader("Allow", AllowedMethods());
  if (req.method == "HEAD" || err.status == 304) {
    sink.SendEmpty();
    return;
  }
  std::string body;
  if (!err.precondition.empty()) {
    body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:" +
           err.precondition;
    if (err.href.empty()) {
      body += "/>";
    } else {
      body += "><D:href>";
      AppendXmlEscaped(&body, err.href);
      body += "</D:href></D:" + err.precondition + ">";
    }
    body += "</D:error>\n";
    sink.SetHeader("Content-Type", "application/xml; charset=utf-8");
  } else {
    body = std::to_string(err.status) + " " + ReasonPhrase(err.status) + ": " + err.message + "\n";
    sink.SetHeader("Content-Type", "text/plain; charset=utf-8");
  }
  std::ostream& out = sink.SendBody(static_cast<int64_t>(body.size()));
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  out.flush();
}

void DavHandler::WriteFailures(ResponseSink& sink,
                               const std::vector<MemberFailure>& failures) const {
  sink.SetStatus(207);
  sink.SetHeader("Content-Type", "application/xml; charset=utf-8");
  MultistatusWriter writer(sink.SendBody(-1));
  writer.Begin();
  for (const MemberFailure& f : failures) {
    std::string href = EncodeHrefPath(f.path.str());
    if (f.is_directory && !f.path.IsRoot()) href.push_back('/');
    int status = DavError::HttpStatusFor(f.status);
    // A member that could not be removed because its own members could not: RFC 4918 §9.6.1
    // asks for the member's error, which is what `status` is.
    writer.WriteStatusResponse(href, status);
  }
  writer.End();
}

DavError DavHandler::HandleOptions(const DavRequest& req, ResponseSink& sink) {
  if (req.target != "*") {
    ResourcePath path;
    DavError err = ParseTarget(req, &path);
    if (!err.ok()) return err;
  }
  sink.SetStatus(200);
  // Class 2: LOCK and UNLOCK (RFC 4918 §18.2). Finder mounts read-write only with it.
  sink.SetHeader("DAV", "1, 2");
  sink.SetHeader("MS-Author-Via", "DAV");
  sink.SetHeader("Allow", AllowedMethods());
  sink.SetHeader("Accept-Ranges", "bytes");
  sink.SendEmpty();
  return DavError::Ok();
}

DavError DavHandler::ParseTarget(const DavRequest& req, ResourcePath* out) const {
  // RFC 9112 §3.2: a request-target has no fragment. Ignoring "#..." would make
  // "DELETE /coll/#frag" delete /coll/ (litmus delete_fragment), so refuse it.
  if (req.target.find('#') != std::string::npos) {
    return DavError::Make(400, "request-target contains a fragment ('#')");
  }
  std::string decoded;
  try {
    Poco::URI uri(req.target);
    decoded = uri.getPath();
  } catch (const Poco::Exception& e) {
    return DavError::Make(400, "malformed request-target: " + e.displayText());
  }
  if (decoded.empty() || decoded[0] != '/') {
    return DavError::Make(400, "request-target is not an absolute path");
  }
  auto parsed = ResourcePath::Parse(decoded);
  if (!parsed.ok()) return PathError(parsed.status());
  *out = parsed.value();
  return DavError::Ok();
}

DavError DavHandler::ParseDestination(const DavRequest& req, ResourcePath* out) const {
  const std::string* dest = req.Header("Destination");
  if (!dest || dest->empty()) return DavError::Make(400, "missing Destination header");
  std::string decoded;
  try {
    Poco::URI uri(*dest);
    if (!uri.getHost().empty()) {
      // RFC 4918 §9.8.4 / §9.9.4: a Destination on another server is 502 Bad Gateway.
      if (!NamesThisServer(req, uri)) {
        return DavError::Make(502, "Destination names another server: " + *dest);
      }
    }
    decoded = uri.getPath();
  } catch (const Poco::Exception& e) {
    return DavError::Make(400, "malformed Destination: " + e.displayText());
  }
  if (decoded.empty() || decoded[0] != '/') {
    return DavError::Make(400, "Destination is not an absolute path");
  }
  auto parsed = ResourcePath::Parse(decoded);
  if (!parsed.ok()) {
    // A reserved name is as unreachable as a malformed one here.
    return DavError::Make(parsed.status().IsNotFound() ? 403 : 400,
                          "bad Destination: " + parsed.status().message());
  }
  *out = parsed.value();
  return DavError::Ok();
}

DavError DavHandler::CheckConditions(const DavRequest& req, const ResourcePath& path,
                                     const FileInfo* info,
                                     const std::vector<ChangedResource>& changes) const {
  if (EvaluateConditionalHeaders(req, info, /*read_method=*/false) != Condition::kProceed) {
    return DavError::Make(412, "a conditional header did not match");
  }
  IfHeader if_header;
  if (const std::string* value = req.Header("If")) {
    std::string error;
    if (!ParseIfHeader(*value, &if_header, &error)) {
      return DavError::Make(400, "malformed If header: " + error);
    }
    auto resolve = [&](const std::string& tag) { return ResolveUrl(req, tag); };
    auto lookup = [&](const ResourcePath& p) {
      IfResourceState state;
      if (p == path && info) {
        state.exists = true;
        state.etag = ETagFor(*info);
      } else if (p != path) {
        auto st = fs_.Stat(p);
        state.exists = st.ok();
        if (st.ok()) state.etag = ETagFor(st.value());
      }
      auto locks = locks_.Covering(p);
      if (locks.ok()) {
        for (const storage::LockRecord& l : locks.value()) state.lock_tokens.push_back(l.token);
      } else {
        Log().warning("If header: locks of %s unavailable: %s", p.str(), locks.status().message());
      }
      return state;
    };
    if (!EvaluateIfHeader(if_header, path, resolve, lookup)) {
      return DavError::Make(412, "the If header did not match");
    }
  }
  if (changes.empty()) return DavError::Ok();
  return locks_.CheckSubmitted(changes, if_header.StateTokens());
}

std::optional<ResourcePath> DavHandler::ResolveUrl(const DavRequest& req,
                                                   const std::string& url) const {
  std::string decoded;
  try {
    Poco::URI uri(url);
    if (!uri.getHost().empty() && !NamesThisServer(req, uri)) return std::nullopt;
    decoded = uri.getPath();
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
  if (decoded.empty() || decoded[0] != '/') return std::nullopt;
  auto parsed = ResourcePath::Parse(decoded);
  if (!parsed.ok()) return std::nullopt;
  return parsed.value();
}

std::string DavHandler::HrefFor(const ResourcePath& path) const {
  std::string href = EncodeHrefPath(path.str());
  if (!path.IsRoot()) {
    auto info = fs_.Stat(path);
    if (info.ok() && info->IsDirectory()) href.push_back('/');
  }
  return href;
}

void DavHandler::ForgetRemovedLocks(const ResourcePath& path, bool all_removed) {
  Status s;
  if (all_removed) {
    s = locks_.RemoveTree(path);
  } else {
    auto locks = locks_.AtOrBelow(path);
    s = locks.status();
    if (locks.ok()) {
      for (const storage::LockRecord& l : locks.value()) {
        if (fs_.Stat(l.root).status().IsNotFound()) locks_.Unlock(l.token, l.root);
      }
    }
  }
  if (!s.ok()) Log().warning("locks below %s not removed: %s", path.str(), s.message());
}

Status DavHandler::DeleteResource(const DavRequest& req, const ResourcePath& path,
                                  const FileInfo& info, std::vector<MemberFailure>* failures) {
  TreeWalker walker(fs_, *req.progress, settings_.max_tree_depth);
  Status s = walker.DeleteTree(path, info, failures);
  if (s.ok()) return props_.DeleteTree(path);
  // Partly removed: drop the properties of what is gone, keep those of the survivors.
  auto paths = props_.PathsUnder(path);
  if (paths.ok()) {
    for (const std::string& p : paths.value()) {
      auto rp = ResourcePath::Parse(p);
      if (rp.ok() && fs_.Stat(rp.value()).status().IsNotFound()) {
        props_.DeleteTree(rp.value());
      }
    }
  }
  return s;
}

}  // namespace keepdav::webdav
