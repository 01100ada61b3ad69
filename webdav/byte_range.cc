#include "webdav/byte_range.h"

#include <algorithm>

#include "storage/ascii.h"

namespace keepdav::webdav {

namespace {

// Decimal digits only, at most 19 (no overflow of uint64_t).
bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

RangeResult ParseByteRange(std::string_view header, uint64_t size, ByteRange* out) {
  constexpr std::string_view kUnit = "bytes=";
  header = TrimBlanks(header);
  if (header.size() < kUnit.size() ||
      !storage::ascii::EqualsIgnoreCase(header.substr(0, kUnit.size()), kUnit)) {
    return RangeResult::kNone;
  }
  // Blanks around the range are OWS of the list syntax (§5.6.1); inside a number they are not
  // (the old parser removed every space, so "bytes=1 2-30" read as 12-30).
  std::string_view spec = TrimBlanks(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return RangeResult::kNone;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::kNone;
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (a.empty()) {  // suffix range: the last N bytes
    uint64_t n = 0;
    if (!ParseNumber(b, &n)) return RangeResult::kNone;
    if (n == 0 || size == 0) return RangeResult::kUnsatisfiable;
    n = std::min(n, size);
    *out = {size - n, n};
    return RangeResult::kRange;
  }
  if (!ParseNumber(a, &first) || (!b.empty() && !ParseNumber(b, &last))) return RangeResult::kNone;
  if (!b.empty() && last < first) return RangeResult::kNone;
  if (first >= size) return RangeResult::kUnsatisfiable;
  last = b.empty() ? size - 1 : std::min(last, size - 1);
  *out = {first, last - first + 1};
  return RangeResult::kRange;
}

}  // namespace keepdav::webdav
