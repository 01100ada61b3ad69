// ChunkedDecoder: the request side of HTTP/1.1 chunked transfer coding (RFC 9112 §7.1).
//
// Poco 1.11's chunked stream takes a connection that closes between two chunks for the end of
// the body, so an upload cut off on a chunk boundary would be stored as if it were complete. This
// decoder only reports the end after the last chunk ("0" CRLF) and the trailer section's empty
// line; anything else that ends the input is an error. It reads the chunk-size lines and the
// trailer byte by byte and the chunk data in pieces no larger than the chunk, so it never reads
// past the body (a pipelined request behind it stays where it is).
//
// Thread-compatible: one instance per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace keepdav::server {

class ChunkedDecoder {
 public:
  // Where the encoded bytes come from.
  class Source {
   public:
    virtual ~Source() = default;
    // The next byte (0-255), or -1 when the input ended or failed.
    virtual int Get() = 0;
    // Up to `max` (> 0) bytes into `dst`: the count, or <= 0 when the input ended or failed.
    virtual long Read(char* dst, size_t max) = 0;
  };

  // Limits against hostile input: a chunk-size line with its extensions, and the whole trailer.
  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kMaxTrailer = 64 * 1024;

  explicit ChunkedDecoder(Source& source) : source_(source) {}

  // Up to `max` (> 0) decoded bytes into `dst`: > 0 read, 0 at the end of the body, -1 on an
  // error (malformed coding, or the input ended before the last chunk). After 0 or -1 every
  // further call returns the same.
  long Read(char* dst, size_t max);

  bool done() const { return state_ == State::kDone; }
  // Why the body failed, for the log; empty unless Read returned -1.
  const std::string& error() const { return error_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone, kFailed };

  // Reads one line without its CRLF (a bare LF is accepted); false on end of input or overlong.
  bool ReadLine(std::string* line, size_t max);
  bool ReadSizeLine();
  bool ReadTrailer();
  long Fail(const std::string& why);

  Source& source_;
  State state_ = State::kSize;
  uint64_t chunk_left_ = 0;
  std::string error_;
};

}  // namespace keepdav::server
