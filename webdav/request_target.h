// Request-target and Destination resolution: from the URLs a client sends (the request line, the
// Destination header, an If header's Resource-Tag) to the ResourcePath they name.
//
// One resolver (ResolveUrl) with three callers, which differ only in how they answer a problem:
//   ResolveRequestTarget: 400 for a fragment, a malformed URL, a path that is not absolute or can
//     never be valid ("..", NUL); 404 for a reserved name (ResourcePath::IsReservedName). The
//     authority of an absolute-form target is not checked (RFC 9112 §3.2.2: it is this server).
//   ResolveDestination: 400 when missing, malformed or not an absolute path; 502 for an absolute
//     URI naming another host or port (RFC 4918 §9.8.4, §9.9.4); 403 for a reserved name.
//   ResolveHeaderUrl: nullopt for anything that names no resource of this server.
// "This server" is the request's Host header and scheme (default ports 80 and 443). Pure
// functions of the request; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "storage/resource_path.h"
#include "webdav/dav_error.h"
#include "webdav/dav_request.h"

namespace keepdav::webdav {

struct ResolvedUrl {
  enum class Problem {
    kNone,
    kMalformed,        // not a URI at all (Poco::URI refused it); `detail` says why
    kOtherServer,      // an absolute URI whose authority is not this server's
    kNotAbsolutePath,  // the path part is empty or relative
    kInvalidPath,      // ResourcePath::Parse refused it ("..", NUL...); `detail` says why
    kReservedName,     // a name keepdav keeps for itself; `detail` says which
    kOutsideBase,      // the path is not under --base-path
  };
  Problem problem = Problem::kNone;
  std::string detail;
  storage::ResourcePath path;  // when problem == kNone: the storage path, inside req.space.root
};

// Decodes `url` (a path or an absolute URI) to a ResourcePath: the decoded path must lie under
// req.space.base (kOutsideBase), the rest is a path in the user's view, mapped into
// req.space.root (url_space.h). With `check_authority`, an absolute URI must name this server
// (the request's Host and scheme). Request-target outside the base path: 404; a Destination: 403.
ResolvedUrl ResolveUrl(const DavRequest& req, const std::string& url, bool check_authority);

DavError ResolveRequestTarget(const DavRequest& req, storage::ResourcePath* out);
DavError ResolveDestination(const DavRequest& req, storage::ResourcePath* out);
std::optional<storage::ResourcePath> ResolveHeaderUrl(const DavRequest& req,
                                                      const std::string& url);

}  // namespace keepdav::webdav
