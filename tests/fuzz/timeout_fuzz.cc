// Fuzz target: the Timeout header of LOCK (ParseTimeoutHeader, webdav/lock_manager.h).
//
// Invariants: the answer is Infinite, none, or a number of seconds in [1, 2^32 - 1] (RFC 4918
// §10.7's maximum; larger values are clamped, "Second-0" asks for the least); it is the first
// comma-separated value (surrounding whitespace ignored) that is "Infinite" or "Second-" with
// only digits, in any letter case, computed here independently without overflow.
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "webdav/lock_manager.h"

namespace {

constexpr int64_t kMax = 4294967295;  // 2^32 - 1

bool IsWhite(char c) {
  return c == ' ' || c == '\t';
}  // OWS (RFC 9110 §5.6.3)

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int64_t Model(std::string_view value) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(start, comma - start);
    start = comma + 1;
    while (!item.empty() && IsWhite(item.front())) item.remove_prefix(1);
    while (!item.empty() && IsWhite(item.back())) item.remove_suffix(1);
    std::string lower = Lower(item);
    if (lower == "infinite") return keepdav::webdav::kInfiniteTimeout;
    if (lower.rfind("second-", 0) != 0 || lower.size() == 7) continue;
    std::string digits = lower.substr(7);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    size_t first = digits.find_first_not_of('0');
    if (first == std::string::npos) return 1;
    digits = digits.substr(first);
    if (digits.size() > 10) return kMax;
    int64_t n = std::stoll(digits);
    return n > kMax ? kMax : n;
  }
  return keepdav::webdav::kNoTimeout;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  std::string_view value(reinterpret_cast<const char*>(data), size);
  int64_t got = keepdav::webdav::ParseTimeoutHeader(value);
  FUZZ_CHECK(got == keepdav::webdav::kInfiniteTimeout || got == keepdav::webdav::kNoTimeout ||
                 (got >= 1 && got <= kMax),
             "out of range: " + std::to_string(got) + " for " + Printable(value));
  int64_t expected = Model(value);
  FUZZ_CHECK(got == expected, "Timeout " + Printable(value) + " gave " + std::to_string(got) +
                                  ", expected " + std::to_string(expected));
  return 0;
}
