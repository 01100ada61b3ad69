// CorsPolicy: --cors-origins=LIST (issue 11), Cross-Origin Resource Sharing for browser,
// Electron and extension clients (KeeWeb, Obsidian Remotely Save, Floccus; Fetch standard §3.2).
//
// LIST is empty (the default: no CORS header is ever sent), "*", or comma-separated exact
// origins ("https://app.keeweb.info,app://obsidian.md,chrome-extension://abcdef"), compared byte
// for byte with the request's Origin header (browsers send it serialised: lower-case scheme and
// host, no path, no trailing slash). "null" is refused as a list item: sandboxed frames and
// file: pages of any site send it.
//
// For a request whose Origin is allowed:
//   - exact list: Access-Control-Allow-Origin echoes the origin, with
//     Access-Control-Allow-Credentials: true (the operator vouched for that origin);
//   - "*": Access-Control-Allow-Origin: *, never with credentials. The brief asked for echoing the
//     origin with credentials when a "*" request carries some; that would let every web page a
//     logged-in user visits read the files with the browser's cached Basic credentials (a plain
//     GET needs no preflight), so it is not done: clients that set Authorization themselves
//     (KeeWeb, the webdav npm client) work with "*", browser-credentialed ones need their origin
//     listed.
//   - Access-Control-Expose-Headers names the response headers keepdav sends that scripts need
//     (kExposedHeaders: ETag, DAV, Lock-Token, Content-Range, ...; Keepdav-Resources-Done/-Total
//     appear on 102 interim responses, which browsers do not show scripts, and are listed for
//     the clients that read them anyway).
// With an exact list every response carries "Vary: Origin" (its CORS headers depend on Origin).
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered by the server
// before authentication: 204 with Access-Control-Allow-Methods (every method keepdav serves),
// -Allow-Headers (kAllowedHeaders, a fixed list: the request headers keepdav reads, plus the
// Cache-Control KeeWeb sends; keeweb/keeweb#378) and -Max-Age. A preflight from an origin not
// allowed is 403 without CORS headers; any other request from it is served as without CORS
// (the browser then hides the answer from the page).
//
// Pure data and functions (no Poco): immutable after Parse; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/status.h"
#include "webdav/dav_request.h"

namespace keepdav::server {

extern const char kCorsExposedHeaders[];
extern const char kCorsAllowedHeaders[];
extern const char kCorsAllowedMethods[];

class CorsPolicy {
 public:
  // `list` as above; kInvalidArgument naming the bad item ("--cors-origins: ...").
  static storage::Status Parse(const std::string& list, CorsPolicy* out);

  bool enabled() const { return any_ || !origins_.empty(); }
  bool any_origin() const { return any_; }
  void set_max_age(int seconds) { max_age_s_ = seconds; }
  int max_age() const { return max_age_s_; }

  enum class Kind {
    kNone,     // no CORS here: CORS off, or no Origin header
    kAllowed,  // an allowed origin
    kRefused,  // an Origin not allowed
  };
  struct Verdict {
    Kind kind = Kind::kNone;
    bool preflight = false;   // OPTIONS with Origin and Access-Control-Request-Method
    std::string_view origin;  // into the request's headers (valid while they are)
  };
  Verdict Evaluate(const webdav::DavRequest& request) const;

  // Appends "Name: value\r\n" lines for a response to a request with `verdict` (nothing when
  // CORS is off): the Allow-Origin group for an allowed origin (Expose-Headers unless it is the
  // preflight's answer), and Vary: Origin with an exact list.
  void AppendResponseHeaders(const Verdict& verdict, std::string* head) const;
  // The headers of an allowed preflight's 204 besides those of AppendResponseHeaders.
  std::vector<std::pair<std::string, std::string>> PreflightHeaders() const;

 private:
  bool any_ = false;
  std::vector<std::string> origins_;
  int max_age_s_ = 3600;
};

}  // namespace keepdav::server
