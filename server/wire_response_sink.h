// WireResponseSink: writes a response straight to the connection's Wire (wire.h), plain or TLS.
//
// Poco's response streams write through 4 KiB buffers (one send() per 4 KiB of a 207, headers
// and a small file's body in separate sends). This sink formats the status line and headers
// itself and sends them together with the first 64 KiB of body (one Wire::Write), frames chunked
// bodies in 64 KiB chunks with one Wire::Write each, and sends files with Wire::SendFile right
// behind the headers (sendfile(2) on plain TCP).
// Whether the connection stays open after the response is decided here too (keep_alive()); the
// request handler passes that on to Poco (HTTPServerResponse::setKeepAlive), which decides from it
// whether to read another request. Poco's own response object never writes anything.
//
// Framing: a length >= 0 gives Content-Length; -1 gives chunked encoding, or for HTTP/1.0 a body
// that ends when the connection closes. A fixed-length body that comes out short closes the
// connection (the client would otherwise wait for bytes that never come).
//
// Write errors throw std::runtime_error (the client is gone); the adapter then closes.
// Not thread-safe; one per request. Does not own the Wire.
#pragma once

#include <sys/uio.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "server/cors.h"
#include "server/wire.h"
#include "webdav/dav_request.h"

namespace keepdav::server {

class WireResponseSink : public webdav::ResponseSink {
 public:
  // `before_send` runs right before the status line goes out (the 102 gate, draining an unread
  // request body); it may call set_keep_alive(false).
  // `keep_alive`: whether the request allows the connection to stay open.
  WireResponseSink(Wire& wire, bool keep_alive, bool http10, bool head_only,
                   std::function<void()> before_send);
  ~WireResponseSink() override;

  void SetStatus(int code) override { status_ = code; }
  void SetHeader(const std::string& name, const std::string& value) override;
  // Takes `headers` as they are when none was set before (the usual case: WriteResponse).
  void SetHeaders(std::vector<std::pair<std::string, std::string>>&& headers) override;
  // Headers and file without a body stream: a GET builds neither the std::ostream (its locale
  // set-up alone costs ~1,000 instructions) nor the body buffer.
  bool SendFile(int fd, uint64_t offset, uint64_t length) override;
  void SendEmpty() override;
  std::ostream& SendBody(int64_t length) override;
  bool SendFileRange(int fd, uint64_t offset, uint64_t length) override;
  bool sent() const override { return sent_; }
  bool head_only() const override { return head_only_; }

  // Completes the response: flushes the body and ends a chunked one. Call once the handler has
  // returned; safe to call when nothing was sent.
  void Finish();

  int status() const { return status_; }
  // Body bytes sent so far (not headers or chunk framing; 0 for HEAD): the access log's bytes.
  int64_t body_bytes() const { return body_sent_; }
  // The CORS headers of this response come from `policy` (not owned; null: none) and `verdict`.
  void set_cors(const CorsPolicy* policy, const CorsPolicy::Verdict& verdict) {
    cors_ = policy;
    cors_verdict_ = verdict;
  }
  void set_keep_alive(bool keep) { keep_alive_ = keep; }
  // Whether the connection may serve another request after this response.
  bool keep_alive() const { return keep_alive_; }

 private:
  class BodyBuf;
  enum class Framing { kNone, kLength, kChunked, kUntilClose };
  void Begin(Framing framing, int64_t length);
  bool HasHeader(const std::string& name) const;
  // Sends pending header bytes plus `data` (framed as a chunk when chunked).
  void SendOut(const char* data, size_t len);
  void WriteAll(const ::iovec* iov, int count, bool more = false);
  // The body of SendFileRange and SendFile: REQUIRES Begin(kLength, ...) and no body byte sent.
  bool SendFileBytes(int fd, uint64_t offset, uint64_t length);

  Wire& wire_;
  bool http10_;
  bool head_only_;
  std::function<void()> before_send_;
  int status_ = 200;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool sent_ = false;
  bool finished_ = false;
  bool keep_alive_ = true;
  Framing framing_ = Framing::kNone;
  int64_t length_ = 0;
  int64_t body_sent_ = 0;
  const CorsPolicy* cors_ = nullptr;
  CorsPolicy::Verdict cors_verdict_;
  std::string pending_;  // status line and headers not yet on the wire
  std::unique_ptr<BodyBuf> body_buf_;
  std::unique_ptr<std::ostream> body_;
};

}  // namespace keepdav::server
