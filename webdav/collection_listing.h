// The HTML page answered to GET on a collection: names escaped, links percent-encoded, streamed.
#pragma once

#include "storage/file_system.h"
#include "webdav/dav_error.h"
#include "webdav/dav_request.h"

namespace keepdav::webdav {

DavError WriteCollectionListing(storage::FileSystem& fs, const storage::ResourcePath& dir,
                                const DavRequest& req, ResponseSink& sink);

}  // namespace keepdav::webdav
