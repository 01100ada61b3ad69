// UpdateRange: where a partial upload writes into an existing file, from SabreDAV's
// X-Update-Range (PATCH with Content-Type: application/x-sabredav-partialupdate,
// https://sabre.io/dav/http-patch/) or Apache mod_dav's Content-Range on PUT (RFC 9110 §14.4's
// syntax, which §14.5 leaves to the server for PUT), resolved against the file's size.
//
// X-Update-Range values: "bytes=A-B" (write B-A+1 bytes at A), "bytes=A-" (write at A),
// "append" (write at the end), "bytes=-N" (write at N bytes before the end). Content-Range:
// "bytes A-B/TOTAL" or "bytes A-B/*" (TOTAL, when given, must be above B). Parsing is strict:
// anything else is nullopt (the caller answers 400). Plain values; thread-safe.
//
// Resolve's answers, as SabreDAV's: the write must start at or before the end of the file (no
// holes: 416), and the body must have the length the range names (400); an "append" or "A-"
// takes the body's length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace keepdav::webdav {

struct UpdateRange {
  enum class Kind { kRange, kFrom, kAppend, kFromEnd };
  Kind kind = Kind::kRange;
  uint64_t first = 0;     // kRange, kFrom: the first byte written
  uint64_t last = 0;      // kRange: the last byte written (inclusive)
  uint64_t from_end = 0;  // kFromEnd: how many bytes before the end the write starts
};

// SabreDAV's X-Update-Range.
std::optional<UpdateRange> ParseXUpdateRange(const std::string& value);

// Content-Range on a PUT: always a kRange.
std::optional<UpdateRange> ParseContentRange(const std::string& value);

// Where the write goes in a file of `file_size` bytes with a body of `body_length` bytes.
struct ResolvedWrite {
  int status = 0;         // 0: fine; 400 (the body does not fit the range) or 416 (past the end)
  uint64_t offset = 0;    // where the body goes
  uint64_t new_size = 0;  // the file's size after the write
};
ResolvedWrite Resolve(const UpdateRange& range, uint64_t file_size, uint64_t body_length);

}  // namespace keepdav::webdav
