#include "webdav/update_range.h"

#include <algorithm>

namespace keepdav::webdav {

namespace {

// Decimal digits only, at most 19 (no overflow of uint64_t).
bool ParseNumber(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
  *out = std::stoull(s);
  return true;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

std::optional<UpdateRange> ParseXUpdateRange(const std::string& raw) {
  const std::string value = Trim(raw);
  UpdateRange r;
  if (value == "append") {
    r.kind = UpdateRange::Kind::kAppend;
    return r;
  }
  const std::string prefix = "bytes=";
  if (value.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::string spec = value.substr(prefix.size());
  const size_t dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  if (a.empty()) {
    r.kind = UpdateRange::Kind::kFromEnd;
    if (!ParseNumber(b, &r.from_end) || r.from_end == 0) return std::nullopt;
    return r;
  }
  if (!ParseNumber(a, &r.first)) return std::nullopt;
  if (b.empty()) {
    r.kind = UpdateRange::Kind::kFrom;
    return r;
  }
  r.kind = UpdateRange::Kind::kRange;
  if (!ParseNumber(b, &r.last) || r.last < r.first) return std::nullopt;
  return r;
}

std::optional<UpdateRange> ParseContentRange(const std::string& raw) {
  const std::string value = Trim(raw);
  const std::string prefix = "bytes ";
  if (value.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::string spec = value.substr(prefix.size());
  const size_t dash = spec.find('-'), slash = spec.find('/');
  if (dash == std::string::npos || slash == std::string::npos || slash < dash) {
    return std::nullopt;
  }
  UpdateRange r;
  r.kind = UpdateRange::Kind::kRange;
  if (!ParseNumber(spec.substr(0, dash), &r.first) ||
      !ParseNumber(spec.substr(dash + 1, slash - dash - 1), &r.last) || r.last < r.first) {
    return std::nullopt;
  }
  const std::string total = spec.substr(slash + 1);
  if (total != "*") {
    uint64_t n = 0;
    if (!ParseNumber(total, &n) || n <= r.last) return std::nullopt;
  }
  return r;
}

ResolvedWrite Resolve(const UpdateRange& range, uint64_t file_size, uint64_t body_length) {
  ResolvedWrite w;
  switch (range.kind) {
    case UpdateRange::Kind::kRange:
      if (range.last - range.first + 1 != body_length) {
        w.status = 400;
        return w;
      }
      w.offset = range.first;
      break;
    case UpdateRange::Kind::kFrom:
      w.offset = range.first;
      break;
    case UpdateRange::Kind::kAppend:
      w.offset = file_size;
      break;
    case UpdateRange::Kind::kFromEnd:
      if (range.from_end > file_size) {
        w.status = 416;
        return w;
      }
      w.offset = file_size - range.from_end;
      break;
  }
  if (w.offset > file_size) {  // a write past the end would leave a hole
    w.status = 416;
    return w;
  }
  if (body_length > UINT64_MAX - w.offset) {
    w.status = 400;
    return w;
  }
  w.new_size = std::max(file_size, w.offset + body_length);
  return w;
}

}  // namespace keepdav::webdav
