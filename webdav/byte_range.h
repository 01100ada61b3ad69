// ByteRange: the Range header of a GET (RFC 9110 §14.2), resolved against the file's size.
//
// One range only: "bytes=A-B", "bytes=A-" or "bytes=-N" (the last N bytes), blanks allowed
// around the range but not inside it, the unit case-insensitive (§14.1). A list of ranges and
// anything else are kNone: the whole representation is sent, which §14.2 allows. A range that
// starts at or past the end (or a suffix range of an empty file) is kUnsatisfiable (416). Split
// out of file_methods.cc so that the fuzz target can check it. Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace keepdav::webdav {

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

enum class RangeResult { kNone, kRange, kUnsatisfiable };

// On kRange, `*out` is non-empty and lies inside the file: first + length <= size.
RangeResult ParseByteRange(std::string_view header, uint64_t size, ByteRange* out);

}  // namespace keepdav::webdav
