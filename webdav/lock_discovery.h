// The XML of WebDAV lock state: DAV:supportedlock (RFC 4918 §15.10) and DAV:activelock elements
// of DAV:lockdiscovery (§15.8, §14.1), used by PROPFIND and by the LOCK response body.
#pragma once

#include <cstdint>
#include <string>

#include "storage/lock_store.h"

namespace keepdav::webdav {

// Inner XML of DAV:supportedlock: exclusive and shared write locks, on every resource.
const std::string& SupportedLockXml();

// Appends one <D:activelock>: type, scope, depth, the owner element verbatim, the time left
// (at least Second-1) as of `now`, the token, and `root_href` as DAV:lockroot.
void AppendActiveLock(std::string* out, const storage::LockRecord& lock,
                      const std::string& root_href, int64_t now);

}  // namespace keepdav::webdav
