// Entity-tag comparison helpers shared by the HTTP conditional headers (conditional.h) and the
// WebDAV If header (if_header.h). Pure functions; thread-safe.
#pragma once

#include <string_view>

namespace keepdav::webdav {

// An entity tag without its weakness indicator: `W/"x"` and `"x"` both give `"x"` (quotes kept).
// Two tags match weakly (RFC 9110 §8.8.3.2) when their opaque parts are equal.
inline std::string_view EntityTagOpaque(std::string_view tag) {
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  return tag;
}

}  // namespace keepdav::webdav
