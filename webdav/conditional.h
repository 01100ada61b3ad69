// HTTP validators and conditional requests (RFC 9110 §8.8, §13).
//
// ETags are strong and derived from inode, size and modification time, so any change made on
// disk (not only through keepdav) changes them. Evaluation follows the order of RFC 9110 §13.2.2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "storage/file_system.h"
#include "webdav/dav_request.h"

namespace keepdav::webdav {

// "\"<inode>-<size>-<mtime_ns>\"" in hex, quotes included.
std::string ETagFor(const storage::FileInfo& info);
// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate(int64_t unix_seconds);
// RFC 3339, e.g. "1994-11-06T08:49:37Z" (creationdate).
std::string Iso8601Date(int64_t unix_seconds);
// The same three, appended to `out` (PROPFIND: no temporary string per member).
void AppendETag(std::string* out, const storage::FileInfo& info);
void AppendHttpDate(std::string* out, int64_t unix_seconds);
void AppendIso8601Date(std::string* out, int64_t unix_seconds);
// Accepts the three formats of RFC 9110 §5.6.7. nullopt when unparseable.
std::optional<int64_t> ParseHttpDate(const std::string& text);

enum class Condition { kProceed, kNotModified, kPreconditionFailed };

// Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since against the
// resource (`info` null when it does not exist). `read_method` is true for GET and HEAD, where a
// matching If-None-Match / unmodified If-Modified-Since means 304 rather than 412.
Condition EvaluateConditionalHeaders(const DavRequest& req, const storage::FileInfo* info,
                                     bool read_method);

}  // namespace keepdav::webdav
