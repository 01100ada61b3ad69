#include "server/plain_server_socket.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocketImpl.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <optional>

#include "server/tsan_annotations.h"

namespace keepdav::server {

namespace {

// One accepted connection: Poco's StreamSocketImpl with a cheaper poll and remembered addresses.
class AcceptedSocketImpl : public Poco::Net::StreamSocketImpl {
 public:
  AcceptedSocketImpl(poco_socket_t fd, const Poco::Net::SocketAddress& peer)
      : StreamSocketImpl(fd), peer_(peer) {}

  bool poll(const Poco::Timespan& timeout, int mode) override {
    struct pollfd p = {sockfd(), 0, 0};
    if (mode & SELECT_READ) p.events |= POLLIN;
    if (mode & SELECT_WRITE) p.events |= POLLOUT;
    if (mode & SELECT_ERROR) p.events |= POLLPRI;
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::microseconds(timeout.totalMicroseconds());
    // The connection's thread drops its reference after its last poll; ClientConnectionLimit
    // deletes the impl on the acceptor thread (tsan_annotations.h).
    TsanRelease(Base());
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
      if (n >= 0) return n > 0;  // POLLHUP/POLLERR count as ready: the next read tells
      if (errno != EINTR) error();
    }
  }
  Poco::Net::SocketAddress peerAddress() override {
    Poco::Net::SocketAddress peer = peer_;
    TsanRelease(Base());
    return peer;
  }
  Poco::Net::SocketAddress address() override {
    if (!local_) local_ = StreamSocketImpl::address();
    Poco::Net::SocketAddress local = *local_;
    TsanRelease(Base());
    return local;
  }

 private:
  // The address ClientConnectionLimit acquires before it deletes the impl.
  const void* Base() const { return static_cast<const Poco::Net::SocketImpl*>(this); }

  const Poco::Net::SocketAddress peer_;
  std::optional<Poco::Net::SocketAddress> local_;  // used by the connection's thread only
};

class PlainServerSocketImpl : public Poco::Net::ServerSocketImpl {
 public:
  Poco::Net::SocketImpl* acceptConnection(Poco::Net::SocketAddress& client) override {
    struct sockaddr_storage addr = {};
    socklen_t len = sizeof addr;
    int fd;
    do {
      len = sizeof addr;
      fd = ::accept4(sockfd(), reinterpret_cast<struct sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) error();  // throws, as Poco's own acceptConnection does
    client = Poco::Net::SocketAddress(reinterpret_cast<struct sockaddr*>(&addr), len);
    return new AcceptedSocketImpl(fd, client);
  }
};

}  // namespace

PlainServerSocket::PlainServerSocket() : ServerSocket(new PlainServerSocketImpl, true) {}

}  // namespace keepdav::server
