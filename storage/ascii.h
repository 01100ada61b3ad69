// ASCII text helpers for protocol text — HTTP field values, SQL, option values: trimming and
// case-insensitive comparison. ASCII only and independent of the locale (std::isspace and
// strcasecmp follow the C locale, which a protocol must not). Header-only; it lives in storage/,
// the bottom layer, so that every layer can use it.
//
// Pure functions on views of the caller's bytes: no ownership (a returned view points into the
// argument, also when empty: SQLite takes an empty statement's pointer), no errors, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace keepdav::storage::ascii {

// HTTP's optional whitespace, OWS (RFC 9110 §5.6.3).
inline constexpr std::string_view kSpaceOrTab = " \t";
// Also line ends: SQL text, XML character data.
inline constexpr std::string_view kWhitespace = " \t\r\n";

inline std::string_view TrimLeading(std::string_view s, std::string_view chars = kSpaceOrTab) {
  size_t first = s.find_first_not_of(chars);
  return s.substr(first == std::string_view::npos ? s.size() : first);
}

inline std::string_view TrimTrailing(std::string_view s, std::string_view chars = kSpaceOrTab) {
  size_t last = s.find_last_not_of(chars);
  return s.substr(0, last == std::string_view::npos ? 0 : last + 1);
}

// `s` without leading and trailing `chars` (spaces and tabs unless told).
inline std::string_view Trim(std::string_view s, std::string_view chars = kSpaceOrTab) {
  return TrimTrailing(TrimLeading(s, chars), chars);
}

inline char ToLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

inline std::string ToLower(std::string s) {
  for (char& c : s) c = ToLower(c);
  return s;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

}  // namespace keepdav::storage::ascii
