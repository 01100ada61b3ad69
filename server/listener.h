// The two places where plain HTTP and HTTPS part ways: the listening socket DavServer serves on,
// and the Wire (wire.h) a request's body and response go through. Everything else — Poco's
// HTTPServer machinery, the DAV request handler, the response sink, the 102 watcher — is shared.
//
// Thread-safe (no state).
#pragma once

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <memory>

#include "server/dav_server.h"
#include "server/wire.h"

namespace keepdav::server {

class TlsContext;

// Binds and listens on config.bind:config.port (a numeric address or a name; port 0: an
// ephemeral one): a Poco::Net::SecureServerSocket over `tls` when it is not null (HTTPS), else
// keepdav's PlainServerSocket. Throws Poco::Exception when the address cannot be bound.
Poco::Net::ServerSocket MakeListener(const ServerConfig& config, const TlsContext* tls);

// The Wire over a request's connection: a TlsWire over a secure socket, else a PlainWire. The
// socket must outlive the Wire.
std::unique_ptr<Wire> MakeWire(Poco::Net::StreamSocket& socket);

}  // namespace keepdav::server
