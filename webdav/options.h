// OPTIONS (RFC 9110 §9.3.7, RFC 4918 §10.1): what keepdav announces about itself. Constants only;
// thread-safe.
#pragma once

#include "webdav/dav_request.h"

namespace keepdav::webdav {

// The value of the Allow header (OPTIONS, and 405 / 501 responses).
const char* AllowedMethods();

// Writes the 200 answer to OPTIONS: DAV class "1, 2", Allow, MS-Author-Via, Accept-Ranges.
void WriteOptionsResponse(ResponseSink& sink);

}  // namespace keepdav::webdav
