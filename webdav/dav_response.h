// DavResponse: what a handler answers, as a value; WriteResponse: the one place that writes any
// response to a ResponseSink.
//
// A response is a status, headers and one body: none; a small text (its Content-Type given, sent
// with Content-Length: XML 207s of PROPPATCH, LOCK bodies, error bodies); a range of an open file
// (sent with ResponseSink::SendFileRange, zero-copy where the file has a descriptor); or a
// streamed body, a callable that writes to the body stream (sent chunked, so a PROPFIND over a
// huge tree streams with bounded memory). A DavError converts to a response (implicitly, so a
// handler may `return err;`): WriteResponse turns it into the error body (error_response.h).
//
// Handlers do all their work, and call Progress::BeginLong when it is long, before they return:
// nothing is written until WriteResponse runs. A streamed body's writer runs inside
// WriteResponse, on the handler's thread, while the request is still alive (it may refer to the
// request and the handler). Move-only (it may own an open file). Not thread-safe; WriteResponse
// is stateless.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "storage/file_system.h"
#include "webdav/dav_error.h"
#include "webdav/dav_request.h"

namespace keepdav::webdav {

class DavResponse {
 public:
  // Writes a streamed body. `out` fails once the client went away: writers should stop then.
  using BodyWriter = std::function<void(std::ostream& out)>;
  enum class Body { kNone, kText, kFileRange, kStreamed };

  // An error: its status, and the error body WriteResponse builds for it. Implicit on purpose.
  DavResponse(DavError error);  // NOLINT(google-explicit-constructor)

  // Status and headers only ("Content-Length: 0"): 201, 204, 304, 416...
  static DavResponse Empty(int status);
  // A body held in memory, sent with its Content-Length.
  static DavResponse Text(int status, std::string content_type, std::string body);
  // `length` bytes of `file` from `offset`. Content-Type and the other headers are the caller's.
  static DavResponse FileRange(int status, std::unique_ptr<storage::ReadableFile> file,
                               uint64_t offset, uint64_t length);
  // A body produced while it is sent (chunked; for HTTP/1.0 until the connection closes).
  static DavResponse Streamed(int status, std::string content_type, BodyWriter writer);

  DavResponse(DavResponse&&) = default;
  DavResponse& operator=(DavResponse&&) = default;

  // Adds a header (kept in order; also sent with an error body).
  DavResponse& AddHeader(std::string name, std::string value);

  int status() const { return status_; }
  bool is_error() const { return error_.status != 0; }
  // The error this response answers; ok() for a success.
  const DavError& error() const { return error_; }
  Body body() const { return body_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  // The text body (kText).
  const std::string& text() const { return text_; }

 private:
  friend void WriteResponse(const DavRequest& req, DavResponse response, ResponseSink& sink);
  DavResponse() = default;

  int status_ = 0;
  DavError error_;
  std::vector<std::pair<std::string, std::string>> headers_;
  Body body_ = Body::kNone;
  std::string text_;
  std::unique_ptr<storage::ReadableFile> file_;
  uint64_t offset_ = 0;
  uint64_t length_ = 0;
  BodyWriter writer_;
};

// Writes `response` to `sink`, once: an error becomes its error body (no body for HEAD and 304);
// a text body goes out with its Content-Length; a file range with SendFileRange (or read in
// 64 KiB pieces when the file has no descriptor; a short file gives a short body and the server
// closes the connection); a streamed body chunked. For HEAD the sink discards the body, and
// neither a file nor a streamed body is read. REQUIRES: nothing was sent on `sink` yet.
void WriteResponse(const DavRequest& req, DavResponse response, ResponseSink& sink);

}  // namespace keepdav::webdav
