#include "server/auth_failure_limiter.h"

#include <cstdio>

namespace keepdav::server {

AuthFailureLimiter::AuthFailureLimiter(const storage::Clock& clock, Options options)
    : clock_(clock), options_(options) {
  if (options_.max_failures < 1) options_.max_failures = 1;
  if (options_.window_s < 1) options_.window_s = 1;
  if (options_.max_addresses < 1) options_.max_addresses = 1;
}

void AuthFailureLimiter::DropExpired(std::deque<int64_t>* failures, int64_t now) const {
  // A failure at time t counts while now < t + window_s.
  while (!failures->empty() && failures->front() + options_.window_s <= now) failures->pop_front();
}

std::optional<int64_t> AuthFailureLimiter::RetryAfterSeconds(const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = failures_.find(address);
  if (it == failures_.end()) return std::nullopt;
  const int64_t now = clock_.Now();
  DropExpired(&it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return std::nullopt;
  }
  if (static_cast<int>(it->second.size()) < options_.max_failures) return std::nullopt;
  // Blocked until the oldest counted failure leaves the window.
  int64_t wait = it->second.front() + options_.window_s - now;
  return wait < 1 ? 1 : wait;
}

void AuthFailureLimiter::MakeRoom(int64_t now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    DropExpired(&it->second, now);
    it = it->second.empty() ? failures_.erase(it) : std::next(it);
  }
  while (failures_.size() >= options_.max_addresses && !failures_.empty()) {
    auto stalest = failures_.begin();
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->second.back() < stalest->second.back()) stalest = it;
    }
    failures_.erase(stalest);
  }
}

void AuthFailureLimiter::RecordFailure(const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t now = clock_.Now();
  auto it = failures_.find(address);
  if (it == failures_.end()) {
    if (failures_.size() >= options_.max_addresses) MakeRoom(now);
    it = failures_.emplace(address, std::deque<int64_t>()).first;
  }
  DropExpired(&it->second, now);
  it->second.push_back(now);
  while (static_cast<int>(it->second.size()) > options_.max_failures) it->second.pop_front();
}

size_t AuthFailureLimiter::TrackedAddresses() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failures_.size();
}

std::string AuthFailureLimiter::FailedLoginLogLine(std::string_view user,
                                                   std::string_view address) {
  std::string line = "keepdav: authentication failed for user \"";
  for (char c : user) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", u);
      line += escaped;
    } else {
      line.push_back(c);
    }
  }
  line += "\" from ";
  for (char c : address) {
    // Addresses come from the socket (digits, hex, '.', ':', '[', ']'); keep only those.
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
        c == ':' || c == '[' || c == ']' || c == '%') {
      line.push_back(c);
    } else {
      line.push_back('?');
    }
  }
  return line;
}

}  // namespace keepdav::server
