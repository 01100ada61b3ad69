// Fuzz target: the byte ranges: GET's Range (webdav/byte_range.h), SabreDAV's X-Update-Range
// and PUT's Content-Range with their resolution against a file (webdav/update_range.h).
//
// Input: byte 0 picks the parser (mod 3), bytes 1-8 a file size and 9-16 a body length (little
// endian; the size mod 2^40 so that ranges can reach it), the rest is the header value.
// Invariants:
//   Range: a kRange is non-empty and inside the file; kUnsatisfiable only when the first byte
//   is at or past the end (or a suffix range of an empty file); the range written back as
//   "bytes=A-B" parses to the same range; a value with a ',' is never a range.
//   X-Update-Range / Content-Range: the range written back in its canonical form parses to the
//   same range; a kRange has first <= last. Resolve: status 0, 400 or 416; when 0, the write
//   starts at or before the end of the file (no hole), the new size is max(size, offset + body)
//   without overflow, a kRange's body has exactly its length and starts at its first byte.
#include <algorithm>
#include <cstring>
#include <string>

#include "tests/fuzz/fuzz_check.h"
#include "webdav/byte_range.h"
#include "webdav/update_range.h"

namespace {

using keepdav::webdav::ByteRange;
using keepdav::webdav::RangeResult;
using keepdav::webdav::UpdateRange;

uint64_t Read64(const uint8_t* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);  // the byte order does not matter to the fuzzer
  return v;
}

bool Same(const UpdateRange& a, const UpdateRange& b) {
  return a.kind == b.kind && a.first == b.first && a.last == b.last && a.from_end == b.from_end;
}

std::string RenderXUpdateRange(const UpdateRange& r) {
  switch (r.kind) {
    case UpdateRange::Kind::kRange:
      return "bytes=" + std::to_string(r.first) + "-" + std::to_string(r.last);
    case UpdateRange::Kind::kFrom:
      return "bytes=" + std::to_string(r.first) + "-";
    case UpdateRange::Kind::kAppend:
      return "append";
    case UpdateRange::Kind::kFromEnd:
      return "bytes=-" + std::to_string(r.from_end);
  }
  return "";
}

void CheckGetRange(const std::string& value, uint64_t size) {
  using namespace keepdav::fuzz;
  ByteRange range;
  RangeResult result = keepdav::webdav::ParseByteRange(value, size, &range);
  std::string where = " for " + Printable(value) + " on " + std::to_string(size) + " bytes";
  if (value.find(',') != std::string::npos) {
    FUZZ_CHECK(result == RangeResult::kNone, "a list of ranges was not ignored" + where);
  }
  if (result == RangeResult::kUnsatisfiable) {
    FUZZ_CHECK(size == 0 || value.find("-") != std::string::npos, "416 without a range" + where);
    return;
  }
  if (result != RangeResult::kRange) return;
  if (!FUZZ_CHECK(range.length >= 1 && range.first < size && range.length <= size - range.first,
                  "range outside the file: " + std::to_string(range.first) + "+" +
                      std::to_string(range.length) + where)) {
    return;
  }
  ByteRange again;
  std::string canonical =
      "bytes=" + std::to_string(range.first) + "-" + std::to_string(range.first + range.length - 1);
  FUZZ_CHECK(keepdav::webdav::ParseByteRange(canonical, size, &again) == RangeResult::kRange &&
                 again.first == range.first && again.length == range.length,
             "written back as " + canonical + " it parses differently" + where);
}

void CheckResolve(const UpdateRange& r, uint64_t size, uint64_t body, const std::string& where) {
  using namespace keepdav::fuzz;
  keepdav::webdav::ResolvedWrite w = keepdav::webdav::Resolve(r, size, body);
  std::string what = where + " on " + std::to_string(size) + " bytes, body " + std::to_string(body);
  FUZZ_CHECK(w.status == 0 || w.status == 400 || w.status == 416, "status" + what);
  if (w.status != 0) return;
  FUZZ_CHECK(w.offset <= size, "a hole" + what);
  FUZZ_CHECK(body <= UINT64_MAX - w.offset, "overflow" + what);
  FUZZ_CHECK(w.new_size == std::max(size, w.offset + body), "new size" + what);
  if (r.kind == UpdateRange::Kind::kRange) {
    FUZZ_CHECK(w.offset == r.first && r.last - r.first + 1 == body, "range length" + what);
  }
  if (r.kind == UpdateRange::Kind::kAppend) FUZZ_CHECK(w.offset == size, "append" + what);
  if (r.kind == UpdateRange::Kind::kFromEnd) {
    FUZZ_CHECK(w.offset == size - r.from_end, "from end" + what);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  if (size < 17) return 0;
  const int which = data[0] % 3;
  const uint64_t file_size = Read64(data + 1) & ((uint64_t{1} << 40) - 1);
  const uint64_t body = Read64(data + 9);
  const std::string value(reinterpret_cast<const char*>(data) + 17, size - 17);
  if (which == 0) {
    CheckGetRange(value, file_size);
    return 0;
  }
  std::optional<UpdateRange> r = which == 1 ? keepdav::webdav::ParseXUpdateRange(value)
                                            : keepdav::webdav::ParseContentRange(value);
  if (!r) return 0;
  std::string where = (which == 1 ? " X-Update-Range " : " Content-Range ") + Printable(value);
  if (which == 2) {
    FUZZ_CHECK(r->kind == UpdateRange::Kind::kRange, "Content-Range not a range" + where);
  }
  if (r->kind == UpdateRange::Kind::kRange) FUZZ_CHECK(r->first <= r->last, "first > last" + where);
  std::string canonical =
      which == 1 ? RenderXUpdateRange(*r)
                 : "bytes " + std::to_string(r->first) + "-" + std::to_string(r->last) + "/*";
  std::optional<UpdateRange> again = which == 1 ? keepdav::webdav::ParseXUpdateRange(canonical)
                                                : keepdav::webdav::ParseContentRange(canonical);
  FUZZ_CHECK(again && Same(*again, *r),
             "written back as " + canonical + " it parses differently" + where);
  CheckResolve(*r, file_size, body, where);
  // The body a client would send for it: the range's own length.
  if (r->kind == UpdateRange::Kind::kRange && r->last - r->first < UINT64_MAX) {
    CheckResolve(*r, file_size, r->last - r->first + 1, where);
  }
  return 0;
}
