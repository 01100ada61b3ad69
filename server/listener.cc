#include "server/listener.h"

#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <algorithm>

#include "server/plain_server_socket.h"
#include "server/plain_wire.h"
#include "server/tls_context.h"
#include "server/tls_wire.h"

namespace keepdav::server {

namespace {

template <typename Socket>
Poco::Net::ServerSocket BindAndListen(Socket socket, const ServerConfig& config) {
  socket.bind(Poco::Net::SocketAddress(config.bind, config.port), /*reuseAddress=*/true);
  // Connections past the threads wait in Poco's queue, not in the backlog; the backlog only has
  // to absorb bursts of connects between two accepts.
  socket.listen(std::clamp(config.max_connections, 128, 4096));
  return std::move(socket);
}

}  // namespace

Poco::Net::ServerSocket MakeListener(const ServerConfig& config, const TlsContext* tls) {
  // The TLS handshake is not run by accept(): Poco's secure socket runs it lazily at the first
  // read, on the connection's pool thread, so a slow handshake never holds the acceptor.
  if (tls) return BindAndListen(Poco::Net::SecureServerSocket(tls->context()), config);
  return BindAndListen(PlainServerSocket(), config);
}

std::unique_ptr<Wire> MakeWire(Poco::Net::StreamSocket& socket) {
  if (std::unique_ptr<TlsWire> tls = TlsWire::ForSocket(socket)) return tls;
  return std::make_unique<PlainWire>(socket.impl()->sockfd());
}

}  // namespace keepdav::server
