// The HTML page answered to GET on a collection: names escaped, links percent-encoded, streamed.
#pragma once

#include "storage/file_system.h"
#include "webdav/dav_response.h"

namespace keepdav::webdav {

// The 200 page of `dir`, listed while it is sent (not at all for HEAD). `fs` must outlive the
// response.
DavResponse CollectionListing(storage::FileSystem& fs, const storage::ResourcePath& dir);

}  // namespace keepdav::webdav
