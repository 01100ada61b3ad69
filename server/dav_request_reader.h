// ReadDavRequest: a request head as Poco's parser left it (Poco::Net::HTTPRequest, read by
// HTTPServerConnection before any keepdav code runs) into a webdav::DavRequest, with the
// refusals that can still be decided at that point (RFC 9112 §2-§7, RFC 9110 §7.2, §10.1.1).
//
// Strict where leniency has been used for request smuggling or silent misreads: whitespace
// before a field's colon, NUL in values, differing or repeated Content-Lengths, Content-Length
// together with Transfer-Encoding, a transfer coding other than "chunked" (501), a missing or
// repeated Host in HTTP/1.1, a malformed method or version (505 for a version other than 1.x),
// an expectation other than 100-continue (417), a head larger than --max-request-head (431).
//
// What Poco decides before this runs (and keepdav cannot change; see the README's Design notes):
// a value over 8,192 bytes, a name over 256, more than 100 fields or a target over 16,384 bytes
// is answered 400 by Poco itself; a Content-Length that is not a number closes the connection
// unanswered; obsolete line folding is merged into the value (no longer refused); a line
// without a colon is skipped; header values containing RFC 2047 encoded words ("=?UTF-8?Q?...?=")
// arrive decoded; an unencoded space in the target leaves a version keepdav refuses (400).
//
// Pure function; thread-safe.
#pragma once

#include <Poco/Net/HTTPRequest.h>

#include <cstddef>
#include <string>

#include "server/http_adapter.h"
#include "webdav/dav_request.h"

namespace keepdav::server {

struct RequestRefusal {
  int status = 0;      // 0: the request may be served
  std::string reason;  // for the log
};

// Fills `*request` (method, raw target, version, Host, scheme, every header; repeated fields
// joined with ", ") and `*framing` from `head`. `secure`: it came over TLS. The head size
// counted against `max_head` is that of the request line and fields as sent (CRLF line ends).
RequestRefusal ReadDavRequest(const Poco::Net::HTTPRequest& head, bool secure, size_t max_head,
                              webdav::DavRequest* request, RequestFraming* framing);

}  // namespace keepdav::server
