#include "webdav/oc_mtime.h"

#include <cctype>

namespace keepdav::webdav {

std::optional<int64_t> ParseOcMtime(const std::string& value) {
  size_t begin = 0, end = value.size();
  while (begin < end && (value[begin] == ' ' || value[begin] == '\t')) ++begin;
  while (end > begin && (value[end - 1] == ' ' || value[end - 1] == '\t')) --end;
  // int64 ns reach 9223372036.854775807 s: at most 10 integer digits, checked below.
  constexpr int64_t kMaxSeconds = 9223372035;
  int64_t seconds = 0;
  size_t i = begin;
  size_t digits = 0;
  while (i < end && std::isdigit(static_cast<unsigned char>(value[i]))) {
    if (++digits > 10) return std::nullopt;
    seconds = seconds * 10 + (value[i] - '0');
    ++i;
  }
  if (digits == 0 || seconds > kMaxSeconds) return std::nullopt;
  int64_t fraction_ns = 0;
  if (i < end && value[i] == '.') {
    ++i;
    int64_t scale = 100000000;
    while (i < end && std::isdigit(static_cast<unsigned char>(value[i]))) {  // "5." is fine too
      fraction_ns += (value[i] - '0') * scale;  // digits past the ninth add 0
      scale /= 10;
      ++i;
    }
  }
  if (i != end) return std::nullopt;
  return seconds * 1000000000 + fraction_ns;
}

}  // namespace keepdav::webdav
