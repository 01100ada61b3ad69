// OPTIONS (RFC 9110 §9.3.7, RFC 4918 §10.1): what keepdav announces about itself. Constants only;
// thread-safe.
#pragma once

#include "webdav/dav_response.h"

namespace keepdav::webdav {

// The value of the Allow header (OPTIONS, and 405 / 501 responses).
const char* AllowedMethods();

// The 200 answer to OPTIONS: DAV class "1, 2" (plus "sabredav-partialupdate" when
// `partial_updates`), Allow, MS-Author-Via, Accept-Ranges.
DavResponse OptionsResponse(bool partial_updates);

}  // namespace keepdav::webdav
