// AuthFailureLimiter: counts failed logins per client address in a sliding window (default: 10
// failures in 60 s). An address that reached the limit is refused — the caller answers 429 Too
// Many Requests with `Retry-After: <RetryAfterSeconds>` — until enough of its failures have left
// the window; other addresses are unaffected. A success does NOT clear the count (an attacker who
// knows one password must not be able to reset its budget for guessing others).
//
// Memory is bounded: per address at most `max_failures` timestamps are kept, and at most
// `max_addresses` addresses; when that table is full, addresses whose failures have all left the
// window are dropped first, then the address whose last failure is the oldest. (An attacker with
// more than max_addresses source addresses can push out a blocked address; fail2ban on the log
// line below is the defence against a distributed attack.)
//
// The failed-login log line (matched by scripts/fail2ban/keepdav.conf; keep the two in step):
//     keepdav: authentication failed for user "<user>" from <address>
// <user> has '"', '\' and bytes outside printable ASCII escaped as \xHH, so that a crafted user
// name can neither end the quoted part nor forge a line.
//
// Wired by server/authenticator.h (issue 11), which runs the whole pipeline per request.
//
// Options below 1 are raised to 1. Thread-safe (one mutex); the Clock must outlive the limiter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/clock.h"

namespace keepdav::server {

class AuthFailureLimiter {
 public:
  struct Options {
    int max_failures = 10;         // failures within the window that block the address
    int64_t window_s = 60;         // the sliding window
    size_t max_addresses = 10000;  // addresses tracked at once
  };

  AuthFailureLimiter(const storage::Clock& clock, Options options);

  // Seconds until the address may try again (>= 1), or nullopt when it is not blocked.
  std::optional<int64_t> RetryAfterSeconds(const std::string& address);

  // Counts one failed login from the address.
  void RecordFailure(const std::string& address);

  // Number of addresses currently tracked (for tests and statistics).
  size_t TrackedAddresses() const;

  // The log line above, without a trailing newline.
  static std::string FailedLoginLogLine(std::string_view user, std::string_view address);

 private:
  void DropExpired(std::deque<int64_t>* failures, int64_t now) const;
  void MakeRoom(int64_t now);

  const storage::Clock& clock_;
  Options options_;  // clamped to at least 1 each
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::deque<int64_t>> failures_;  // oldest first
};

}  // namespace keepdav::server
