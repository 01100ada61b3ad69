#include "server/plain_wire.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace keepdav::server {

namespace {

// sendfile() pieces: large enough for few calls, small enough that poll() keeps the socket full.
constexpr uint64_t kSendfileChunk = 256 * 1024;

// The socket's send timeout in milliseconds (-1: none), so that a non-blocking sendfile waits no
// longer than a blocking send would.
int SendTimeoutMs(int fd) {
  struct timeval tv = {0, 0};
  socklen_t len = sizeof tv;
  ::getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len);
  if (tv.tv_sec == 0 && tv.tv_usec == 0) return -1;
  return static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

}  // namespace

void PlainWire::Write(const ::iovec* iov_in, int count, bool more) {
  // A copy, advanced as sendmsg takes part of it; on the stack for the usual few pieces (a
  // vector was a heap allocation per response).
  struct iovec local[8];
  std::vector<struct iovec> large;
  struct iovec* iov = local;
  if (count > static_cast<int>(sizeof local / sizeof local[0])) {
    large.assign(iov_in, iov_in + count);
    iov = large.data();
  } else {
    std::copy(iov_in, iov_in + count, local);
  }
  int first = 0;
  const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  while (first < count) {
    struct msghdr msg = {};
    msg.msg_iov = iov + first;
    msg.msg_iovlen = static_cast<size_t>(count - first);
    ssize_t n = ::sendmsg(fd_, &msg, flags);  // bounded by the socket's send timeout
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    size_t left = static_cast<size_t>(n);
    while (first < count && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
}

bool PlainWire::SendFile(int file_fd, uint64_t offset, uint64_t length) {
  const int wait_ms = SendTimeoutMs(fd_);
  const int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  struct Restore {
    int fd, flags;
    ~Restore() { ::fcntl(fd, F_SETFL, flags); }
  } restore{fd_, flags};
  off_t off = static_cast<off_t>(offset);
  uint64_t left = length;
  while (left > 0) {
    ssize_t n = ::sendfile(fd_, file_fd, &off, std::min<uint64_t>(left, kSendfileChunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {fd_, POLLOUT, 0};
      if (::poll(&p, 1, wait_ms) > 0) continue;
    }
    if (n <= 0) return false;  // the client went away or stopped reading, or the file shrank
    left -= static_cast<uint64_t>(n);
  }
  return true;
}

long PlainWire::Read(char* dst, size_t max) {
  ssize_t n;
  do {
    n = ::recv(fd_, dst, max, 0);  // bounded by the socket's receive timeout
  } while (n < 0 && errno == EINTR);
  return static_cast<long>(n);
}

void PlainWire::ShutdownSend() {
  ::shutdown(fd_, SHUT_WR);
}

}  // namespace keepdav::server
