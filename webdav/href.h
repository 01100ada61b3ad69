// Hrefs: how keepdav names a resource in a response (DAV:href in a 207, DAV:lockroot, DAV:error,
// links of a collection listing).
//
// The one rule: the decoded path, percent-encoded (RFC 3986 unreserved characters and '/' stay),
// with a trailing slash for a collection (RFC 4918 §5.2), except the root, which already is "/".
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "storage/resource_path.h"

namespace keepdav::webdav {

// Percent-encodes a decoded path or segment (segments keep their "/"), without any slash rule.
std::string EncodeHrefPath(std::string_view decoded_path);

// Appends the href of `decoded_path` (a path, or one segment) to `out`: percent-encoded, and
// with a trailing slash when `is_collection` and it does not end in one already.
void AppendHref(std::string* out, std::string_view decoded_path, bool is_collection);

// The href of `path`: percent-encoded, with a trailing slash for a collection other than the root.
std::string HrefFor(const storage::ResourcePath& path, bool is_collection);

}  // namespace keepdav::webdav
