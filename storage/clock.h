// Clock: injected wall-clock time, so that lock expiry can be tested exactly.
//
// Whole seconds since the Unix epoch are enough: WebDAV lock timeouts are given in seconds
// (RFC 4918 §10.7). Implementations must be thread-safe; SystemClock is.
#pragma once

#include <cstdint>
#include <ctime>

namespace keepdav::storage {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual int64_t Now() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t Now() const override { return static_cast<int64_t>(std::time(nullptr)); }
};

}  // namespace keepdav::storage
