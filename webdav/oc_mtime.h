// OcMtime: the X-OC-Mtime request header of ownCloud/Nextcloud clients (rclone's owncloud and
// nextcloud vendors, the ownCloud/Nextcloud desktop clients, DAVx5): the modification time a PUT
// should give the file, in seconds since the epoch. Answered with `X-OC-MTime: accepted`.
//
// Format: decimal seconds, optionally with a fraction ("1700000000", "1700000000.25": pyocclient
// sends Python's st_mtime, the iOS client a Double). Nextcloud's MtimeSanitizer refuses anything
// that is not numeric, and hexadecimal, with 400 ("X-OC-MTime header must be an integer"), and so
// does keepdav: a client that asks for a time and silently does not get it would re-upload the
// file on every sync. Refused too: negative values, exponents, and values beyond year 2262 (out
// of the int64 nanosecond range). Plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keepdav::webdav {

// The header's value as ns since the epoch (fraction truncated to ns); nullopt when invalid.
std::optional<int64_t> ParseOcMtime(const std::string& value);

}  // namespace keepdav::webdav
