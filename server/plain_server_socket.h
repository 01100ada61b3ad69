// PlainServerSocket: the listening socket of plain HTTP, a Poco::Net::ServerSocket whose
// accepted connections save Poco 1.11 four system calls per request (measured with strace -c on
// keep-alive GETs of a 4 KiB file: 10 calls per request with Poco's own socket classes, 6 with
// these):
//   - HTTPServerSession waits for each next request with SocketImpl::poll, which in 1.11 creates,
//     arms, waits on and closes an epoll instance every time; here it is one poll(2);
//   - HTTPServerRequestImpl asks the socket for the client's and its own address for every
//     request (getpeername, getsockname); here the client's address comes from accept() and the
//     local one is looked up once per connection.
// Everything else is Poco's StreamSocketImpl. HTTPS uses Poco's SecureServerSocket instead
// (listener.cc).
//
// Thread safety: as Poco's socket classes (the acceptor thread accepts; each connection's
// socket is used by its connection's thread, and by the 102 watcher only through Wire::Write).
#pragma once

#include <Poco/Net/ServerSocket.h>

namespace keepdav::server {

class PlainServerSocket : public Poco::Net::ServerSocket {
 public:
  // An unbound socket; bind and listen as with a ServerSocket.
  PlainServerSocket();
};

}  // namespace keepdav::server
