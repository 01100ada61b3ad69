#include "server/cors.h"

#include <algorithm>

#include "storage/ascii.h"

namespace keepdav::server {

// The response headers keepdav sends that a script may need (the CORS-safelisted ones —
// Content-Type, Content-Length, Last-Modified, Cache-Control — need no listing).
const char kCorsExposedHeaders[] =
    "DAV, ETag, Lock-Token, Content-Range, Accept-Ranges, Content-Location, Location, Allow, "
    "Repr-Digest, X-OC-MTime, Retry-After, WWW-Authenticate, Keepdav-Resources-Done, "
    "Keepdav-Resources-Total";
// The request headers keepdav reads, and Cache-Control, which KeeWeb sends with every request.
const char kCorsAllowedHeaders[] =
    "Authorization, Content-Type, Depth, Destination, Overwrite, If, If-Match, If-None-Match, "
    "If-Modified-Since, If-Unmodified-Since, If-Range, Range, Lock-Token, Timeout, "
    "Content-Range, X-OC-Mtime, OC-Checksum, X-Update-Range, X-Expected-Entity-Length, "
    "Want-Repr-Digest, Cache-Control, X-Requested-With";
// Every method DavHandler serves (dav_handler.cc's table).
const char kCorsAllowedMethods[] =
    "OPTIONS, GET, HEAD, PUT, PATCH, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";

namespace {

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsAlnum(char c) {
  return IsAlpha(c) || (c >= '0' && c <= '9');
}

// scheme "://" host [":" port]: what browsers send in Origin for http(s), extension and app
// pages. Scheme: a letter, then letters, digits, '+', '-', '.'; host: no '/', '?', '#', blanks
// or controls; nothing after it.
bool IsOrigin(std::string_view text) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  std::string_view scheme = text.substr(0, sep);
  if (!IsAlpha(scheme[0])) return false;
  for (char c : scheme) {
    if (!IsAlnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  std::string_view host = text.substr(sep + 3);
  if (host.empty()) return false;
  for (char c : host) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '?' || c == '#' || c == ',') return false;
  }
  return true;
}

}  // namespace

storage::Status CorsPolicy::Parse(const std::string& list, CorsPolicy* out) {
  CorsPolicy policy;
  policy.max_age_s_ = out->max_age_s_;
  std::string_view rest = list;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = storage::ascii::Trim(rest.substr(0, comma), " \t");
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    if (item == "*") {
      policy.any_ = true;
    } else if (item == "null") {
      return storage::Status::InvalidArgument(
          "--cors-origins: 'null' is not allowed (sandboxed frames and file: pages of any site "
          "send it)");
    } else if (!IsOrigin(item)) {
      return storage::Status::InvalidArgument("--cors-origins: '" + std::string(item) +
                                              "' is not an origin (scheme://host[:port], no path, "
                                              "or *)");
    } else if (std::find(policy.origins_.begin(), policy.origins_.end(), item) ==
               policy.origins_.end()) {
      policy.origins_.emplace_back(item);
    }
  }
  if (policy.any_ && !policy.origins_.empty()) {
    return storage::Status::InvalidArgument(
        "--cors-origins: '*' allows every origin; list origins or give '*' alone");
  }
  *out = std::move(policy);
  return storage::Status::Ok();
}

CorsPolicy::Verdict CorsPolicy::Evaluate(const webdav::DavRequest& request) const {
  Verdict verdict;
  if (!enabled()) return verdict;
  const std::string* origin = request.Header("Origin");
  if (origin == nullptr) return verdict;
  verdict.origin = *origin;
  verdict.preflight =
      request.method == "OPTIONS" && request.Header("Access-Control-Request-Method") != nullptr;
  bool allowed =
      any_ || std::find(origins_.begin(), origins_.end(), verdict.origin) != origins_.end();
  verdict.kind = allowed ? Kind::kAllowed : Kind::kRefused;
  return verdict;
}

void CorsPolicy::AppendResponseHeaders(const Verdict& verdict, std::string* head) const {
  if (!enabled()) return;
  if (verdict.kind == Kind::kAllowed) {
    if (any_) {
      head->append("Access-Control-Allow-Origin: *\r\n");
    } else {
      head->append("Access-Control-Allow-Origin: ");
      head->append(verdict.origin);
      head->append("\r\nAccess-Control-Allow-Credentials: true\r\n");
    }
    if (!verdict.preflight) {
      head->append("Access-Control-Expose-Headers: ");
      head->append(kCorsExposedHeaders);
      head->append("\r\n");
    }
  }
  // Fetch §3.2.5: a response whose CORS headers depend on Origin says so, also when it carries
  // none, so that a cache never hands one origin's answer to another.
  if (!any_) head->append("Vary: Origin\r\n");
}

std::vector<std::pair<std::string, std::string>> CorsPolicy::PreflightHeaders() const {
  return {{"Access-Control-Allow-Methods", kCorsAllowedMethods},
          {"Access-Control-Allow-Headers", kCorsAllowedHeaders},
          {"Access-Control-Max-Age", std::to_string(max_age_s_)}};
}

}  // namespace keepdav::server
