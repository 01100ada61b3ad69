// The HTML page answered to GET on a collection: names escaped, links percent-encoded, streamed.
#pragma once

#include <functional>

#include "storage/file_system.h"
#include "webdav/dav_response.h"

namespace keepdav::webdav {

// The 200 page of `dir`, listed while it is sent (not at all for HEAD). `fs` must outlive the
// response.
// `space` names the links (url_space.h); members for which `hidden` returns true are left out (a
// subtree the user may not read: authorisation.h), `hidden` may be empty.
using HiddenMember = std::function<bool(const storage::ResourcePath&)>;
DavResponse CollectionListing(storage::FileSystem& fs, const storage::ResourcePath& dir,
                              const UrlSpace& space, HiddenMember hidden);

}  // namespace keepdav::webdav
