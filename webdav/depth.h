// Depth: the value of the Depth request header (RFC 4918 §10.2), parsed once per request.
//
// Not to be confused with ResourcePath::SegmentCount() (how far a path lies below the root) or
// with DavSettings::max_tree_depth (the recursion limit of tree walks). Plain values; thread-safe.
#pragma once

#include <optional>
#include <string>

namespace keepdav::webdav {

enum class Depth { kZero, kOne, kInfinity };

// "0", "1" or "infinity" (case-insensitive).
const char* DepthName(Depth depth);

// The Depth header as the request sent it.
class DepthHeader {
 public:
  // Parses `value` (null when the header is absent).
  static DepthHeader Parse(const std::string* value);

  // The depth the request asks for, `fallback` when the header is absent; nullopt when its value
  // is none of "0", "1", "infinity" (each method answers that with its own 400).
  std::optional<Depth> Or(Depth fallback) const;

 private:
  enum class State { kAbsent, kValid, kInvalid };
  State state_ = State::kAbsent;
  Depth value_ = Depth::kInfinity;
};

}  // namespace keepdav::webdav
