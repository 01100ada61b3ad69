// Parsing of an HTTP/1.x request head (RFC 9112 §2-§7, RFC 9110 §7.2, §10.1.1) into a
// webdav::DavRequest.
//
// Strict where leniency has been used for request smuggling or silent misreads: whitespace
// before a field's colon, obsolete line folding, NUL/CR in values, differing Content-Lengths,
// Content-Length together with Transfer-Encoding, a transfer coding other than "chunked", a
// missing or repeated Host in HTTP/1.1 — each is an error with the status RFC 9112 names, after
// which the connection closes. Lenient where the RFC allows it: empty lines before the request
// line and a bare LF as line end.
//
// Pure functions on bytes; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "webdav/dav_request.h"

namespace keepdav::server {

// What the connection layer needs beyond the DavRequest fields.
struct RequestFraming {
  bool keep_alive = true;        // after this request (Connection header and version)
  bool expect_continue = false;  // "Expect: 100-continue"
};

struct HeadParse {
  enum class Outcome { kIncomplete, kComplete, kError };
  Outcome outcome = Outcome::kIncomplete;
  size_t head_size = 0;  // kComplete: bytes of the head, including its empty line
  int status = 0;        // kError: the status to answer with (400, 431, 501, 505, 417)
  std::string reason;    // kError: for the log
};

// Looks for the end of a head in `data` (at most `max_head` bytes of it count) and parses it.
// kIncomplete when more bytes are needed; kError with 431 when the head would exceed `max_head`.
// `*scan_from` remembers where the search for the head's end may resume on the next call with
// the same (grown) data; start it at 0.
HeadParse ParseRequestHead(std::string_view data, size_t max_head, size_t* scan_from,
                           webdav::DavRequest* request, RequestFraming* framing);

}  // namespace keepdav::server
