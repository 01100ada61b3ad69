// UniqueFd: ownership of one file descriptor (closed on destruction), or a borrowed one (the
// root's) used through the same interface and never closed.
//
// Move-only; not thread-safe.
#pragma once

#include <unistd.h>

#include <utility>

namespace keepdav::storage::posix {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  // A descriptor owned elsewhere (the root's), used through the same interface; never closed.
  static UniqueFd Borrowed(int fd) {
    UniqueFd u(fd);
    u.owned_ = false;
    return u;
  }
  UniqueFd(UniqueFd&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), owned_(std::exchange(o.owned_, true)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
      owned_ = std::exchange(o.owned_, true);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0 && owned_) ::close(fd_);
    fd_ = -1;
    owned_ = true;
  }

 private:
  int fd_ = -1;
  bool owned_ = true;
};

}  // namespace keepdav::storage::posix
