#include "server/listener.h"

#include <Poco/Net/SocketAddress.h>

#include <algorithm>

#include "server/plain_server_socket.h"
#include "server/plain_wire.h"

namespace keepdav::server {

Poco::Net::ServerSocket MakeListener(const ServerConfig& config) {
  // HTTPS (--tls-cert) will return a Poco::Net::SecureServerSocket here (helper C, issue 10).
  PlainServerSocket socket;
  socket.bind(Poco::Net::SocketAddress(config.bind, config.port), /*reuseAddress=*/true);
  // Connections past the threads wait in Poco's queue, not in the backlog; the backlog only has
  // to absorb bursts of connects between two accepts.
  socket.listen(std::clamp(config.max_connections, 128, 4096));
  return std::move(socket);
}

std::unique_ptr<Wire> MakeWire(Poco::Net::StreamSocket& socket) {
  // The TLS case is helper C's TlsWire:
  //   if (dynamic_cast<Poco::Net::SecureStreamSocketImpl*>(socket.impl()))
  //     return std::make_unique<TlsWire>(socket);
  return std::make_unique<PlainWire>(socket.impl()->sockfd());
}

}  // namespace keepdav::server
