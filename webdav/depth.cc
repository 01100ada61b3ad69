#include "webdav/depth.h"

#include <strings.h>

namespace keepdav::webdav {

const char* DepthName(Depth depth) {
  switch (depth) {
    case Depth::kZero:
      return "0";
    case Depth::kOne:
      return "1";
    case Depth::kInfinity:
      return "infinity";
  }
  return "infinity";
}

DepthHeader DepthHeader::Parse(const std::string* value) {
  DepthHeader h;
  if (!value) return h;
  h.state_ = State::kValid;
  if (*value == "0") {
    h.value_ = Depth::kZero;
  } else if (*value == "1") {
    h.value_ = Depth::kOne;
  } else if (strcasecmp(value->c_str(), "infinity") == 0 &&
             value->find('\0') == std::string::npos) {
    h.value_ = Depth::kInfinity;
  } else {
    h.state_ = State::kInvalid;
  }
  return h;
}

std::optional<Depth> DepthHeader::Or(Depth fallback) const {
  switch (state_) {
    case State::kAbsent:
      return fallback;
    case State::kValid:
      return value_;
    case State::kInvalid:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace keepdav::webdav
