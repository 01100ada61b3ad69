#include "webdav/request_target.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <cstdlib>
#include <string_view>

#include "storage/ascii.h"

namespace keepdav::webdav {

using storage::ResourcePath;

namespace {

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
  return storage::ascii::EqualsIgnoreCase(uri.getHost(), host) && uri_port == request_port;
}

}  // namespace

ResolvedUrl ResolveUrl(const DavRequest& req, const std::string& url, bool check_authority) {
  ResolvedUrl r;
  std::string decoded;
  try {
    Poco::URI uri(url);
    if (check_authority && !uri.getHost().empty() && !NamesThisServer(req, uri)) {
      r.problem = ResolvedUrl::Problem::kOtherServer;
      return r;
    }
    decoded = uri.getPath();
  } catch (const Poco::Exception& e) {
    r.problem = ResolvedUrl::Problem::kMalformed;
    r.detail = e.displayText();
    return r;
  }
  if (decoded.empty() || decoded[0] != '/') {
    r.problem = ResolvedUrl::Problem::kNotAbsolutePath;
    return r;
  }
  if (!req.space.StripBase(&decoded)) {
    r.problem = ResolvedUrl::Problem::kOutsideBase;
    return r;
  }
  auto parsed = ResourcePath::Parse(decoded);
  if (!parsed.ok()) {
    // ResourcePath::Parse answers kNotFound for reserved names and kInvalidPath otherwise.
    r.problem = parsed.status().IsNotFound() ? ResolvedUrl::Problem::kReservedName
                                             : ResolvedUrl::Problem::kInvalidPath;
    r.detail = parsed.status().message();
    return r;
  }
  r.path = req.space.ToStorage(parsed.value());
  return r;
}

DavError ResolveRequestTarget(const DavRequest& req, ResourcePath* out) {
  // RFC 9112 §3.2: a request-target has no fragment. Ignoring "#..." would make
  // "DELETE /coll/#frag" delete /coll/ (litmus delete_fragment), so refuse it.
  if (req.target.find('#') != std::string::npos) {
    return DavError::Make(400, "request-target contains a fragment ('#')");
  }
  ResolvedUrl r = ResolveUrl(req, req.target, /*check_authority=*/false);
  switch (r.problem) {
    case ResolvedUrl::Problem::kNone:
      *out = r.path;
      return DavError::Ok();
    case ResolvedUrl::Problem::kMalformed:
      return DavError::Make(400, "malformed request-target: " + r.detail);
    case ResolvedUrl::Problem::kOtherServer:  // not checked for the request-target
    case ResolvedUrl::Problem::kNotAbsolutePath:
      return DavError::Make(400, "request-target is not an absolute path");
    case ResolvedUrl::Problem::kInvalidPath:
      return DavError::Make(400, r.detail);
    case ResolvedUrl::Problem::kReservedName:
      return DavError::Make(404, r.detail);
    case ResolvedUrl::Problem::kOutsideBase:
      return DavError::Make(404, "not under the base path " + req.space.base);
  }
  return DavError::Make(400, "request-target is not an absolute path");
}

DavError ResolveDestination(const DavRequest& req, ResourcePath* out) {
  const std::string* dest = req.Header("Destination");
  if (!dest || dest->empty()) return DavError::Make(400, "missing Destination header");
  ResolvedUrl r = ResolveUrl(req, *dest, /*check_authority=*/true);
  switch (r.problem) {
    case ResolvedUrl::Problem::kNone:
      *out = r.path;
      return DavError::Ok();
    case ResolvedUrl::Problem::kMalformed:
      return DavError::Make(400, "malformed Destination: " + r.detail);
    case ResolvedUrl::Problem::kOtherServer:
      // RFC 4918 §9.8.4 / §9.9.4: a Destination on another server is 502 Bad Gateway.
      return DavError::Make(502, "Destination names another server: " + *dest);
    case ResolvedUrl::Problem::kNotAbsolutePath:
      return DavError::Make(400, "Destination is not an absolute path");
    case ResolvedUrl::Problem::kInvalidPath:
      return DavError::Make(400, "bad Destination: " + r.detail);
    case ResolvedUrl::Problem::kReservedName:
      // A reserved name is as unreachable as a malformed one here.
      return DavError::Make(403, "bad Destination: " + r.detail);
    case ResolvedUrl::Problem::kOutsideBase:
      return DavError::Make(403,
                            "Destination lies outside the served space " + req.space.base + "/");
  }
  return DavError::Make(400, "Destination is not an absolute path");
}

std::optional<ResourcePath> ResolveHeaderUrl(const DavRequest& req, const std::string& url) {
  ResolvedUrl r = ResolveUrl(req, url, /*check_authority=*/true);
  if (r.problem != ResolvedUrl::Problem::kNone) return std::nullopt;
  return r.path;
}

}  // namespace keepdav::webdav
