// The icon answered to "GET /favicon.ico" when the root holds no such file: browsers ask every
// server for it, and a logged 404 per page view said nothing. A 16x16 folder drawn for keepdav
// (favicon.cc holds the drawing and the bytes), compiled in. Constants only; thread-safe.
#pragma once

#include <cstddef>

#include "storage/resource_path.h"
#include "webdav/dav_response.h"

namespace keepdav::webdav {

// True for the root's "favicon.ico" (a file of that name in the root wins: the caller asks only
// when the path does not exist).
bool IsFaviconPath(const storage::ResourcePath& path);

// 200, image/vnd.microsoft.icon, cacheable for a day.
DavResponse FaviconResponse();

// The ICO file's bytes (for tests).
const unsigned char* FaviconBytes();
size_t FaviconSize();

}  // namespace keepdav::webdav
