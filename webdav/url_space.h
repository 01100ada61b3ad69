// UrlSpace: how one request's URLs map to paths below --root, and back to hrefs.
//
// A request's URL space is `base` (--base-path, "" or e.g. "/dav") followed by a path in the
// user's view, which lives below `root` (the user's root inside --root, AccessPolicy::RootOf):
//   URL /dav/x/y  ->  view /x/y  ->  storage root + /x/y.
// Every storage path built from a request goes through ToStorage (request_target.cc), so "..",
// encoded slashes and symlinks cannot leave the user's root (ResourcePath has no "..", and the
// file system never follows symlinks); every href written goes through Href, so responses speak
// the user's view. A path outside `root` (a lock rooted above it) is named as the view's "/".
//
// Value type; thread-compatible.
#pragma once

#include <string>
#include <string_view>

#include "storage/resource_path.h"

namespace keepdav::webdav {

struct UrlSpace {
  std::string base;  // "" or "/seg[/seg...]": unreserved characters only, no slash at the end
  storage::ResourcePath root;  // the user's root below --root

  // The whole root with no base: what a request has before DavHandler resolves it.
  static const UrlSpace& Whole();

  // True when `p` is the user's "/".
  bool IsViewRoot(const storage::ResourcePath& p) const { return p == root; }
  // The decoded path `p` has in the user's view: a view into p.str(), "/" for the root and for
  // anything outside it.
  std::string_view ViewOf(const storage::ResourcePath& p) const;
  storage::ResourcePath ViewPath(const storage::ResourcePath& p) const;
  // Removes `base` from the front of a decoded URL path ("/dav/x" -> "/x", "/dav" -> "/").
  // False, with `path` untouched, when the path is not under `base`.
  bool StripBase(std::string* path) const;
  // The storage path of a view path.
  storage::ResourcePath ToStorage(const storage::ResourcePath& view) const;
  // The href of `p`: base + the percent-encoded view path, with a trailing slash for a
  // collection other than the view's root (href.h).
  std::string Href(const storage::ResourcePath& p, bool is_collection) const;
};

// Checks and normalises a --base-path value: "" or "/" give "", else "/a/b" (a trailing slash is
// dropped). Segments may hold only RFC 3986 unreserved characters and are not "." or "..".
// False with `error` set otherwise.
bool ParseBasePath(std::string_view text, std::string* out, std::string* error);

}  // namespace keepdav::webdav
