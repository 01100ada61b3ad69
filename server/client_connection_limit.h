// ClientConnectionLimit: the TCPServerConnectionFilter of keepdav's Poco::Net::HTTPServer. Poco
// serves every connection on a pool thread of its own for its whole life, idle keep-alive time
// included, so a single client opening connections could take every thread; this filter refuses
// a connection (Poco closes it unanswered, before any byte is read) when its address already has
// `per_client` open, or when `total` connections are open or waiting for a thread.
//
// Addresses in `exempt` (the trusted proxies of --trusted-proxies: every connection through a
// proxy comes from its address) have no per-address cap. The total cap keeps Poco's dispatcher
// queue from overflowing (Poco closes connections past maxQueued unanswered).
//
// HTTPServer has no hook for a connection's end, so the filter keeps a copy of every socket it
// lets in (a StreamSocket shares its reference-counted impl). A connection has ended when the
// filter's copy is the only reference left (the connection object and Poco's queue entry are
// gone): accept() drops those first, on every call, for every address (no system call: the
// reference count is atomic), then counts. Releasing the last copy closes the descriptor, which
// also closes a connection Poco's dispatcher dropped unserved. This works for any socket impl
// (plain or Poco NetSSL's SecureStreamSocketImpl).
//
// accept() also sets the socket's send and receive timeouts to `timeout`: they bound keepdav's
// own reads and writes through the Wire (which bypass Poco's session) as well as Poco's.
//
// The kept sockets also end a stop: Poco's HTTPServer::stopAll(false) waits, per connection, for
// the mutex its thread holds while it reads a request head, and it reads the TLS handshake and
// the head within that lock. A client that connected and sent nothing, or half a head, held a
// SIGTERM for the whole --timeout (60 s; 120 s for a head sent in two halves), plain or HTTPS.
// BeginRequest/EndRequest mark the connections serving a request; EndWaitingConnections shuts
// down the TCP side of every other one, so their threads wake at once.
//
// accept() runs on Poco's acceptor thread, the rest on any thread. Thread-safe.
#pragma once

#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Timespan.h>

#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/forwarded.h"

namespace keepdav::server {

class ClientConnectionLimit : public Poco::Net::TCPServerConnectionFilter {
 public:
  using Ptr = Poco::AutoPtr<ClientConnectionLimit>;

  // `exempt`: numeric addresses as Poco prints them ("127.0.0.1", "::1"); `trusted`: the
  // --trusted-proxies, also exempt.
  ClientConnectionLimit(int per_client, int total, std::set<std::string> exempt,
                        Poco::Timespan timeout, TrustedProxies trusted = {});

  // Counts the connection (and keeps its socket) if it is let in.
  bool accept(const Poco::Net::StreamSocket& socket) override;

  // Connections let in that had not ended at the last accept() or open() call (ended ones are
  // dropped first).
  int open();

  // Drops every kept socket (closing those no connection holds any more). For shutdown, after
  // the server has stopped accepting.
  void Clear();

  // The request whose head was just read on `socket` is being served: EndWaitingConnections
  // leaves its connection alone until EndRequest. False once the server is stopping (the
  // connection may already be shut down): the caller drops the request unanswered, as if the
  // connection had closed just before it arrived (the client retries it, on another server).
  bool BeginRequest(const Poco::Net::StreamSocket& socket);
  void EndRequest(const Poco::Net::StreamSocket& socket);

  // For the stop, after the server stopped accepting: from now on BeginRequest refuses, and
  // every kept connection not serving a request (waiting for its TLS handshake, a request head
  // or its next keep-alive request) has its TCP side shut down (SHUT_RDWR: Poco's own
  // SecureStreamSocket::shutdown sends only TLS's close_notify, and would race the connection
  // thread's SSL*). Call again until the connections are gone: one that finished its request
  // since is shut down then.
  void EndWaitingConnections();

 private:
  // REQUIRES: mu_ held.
  void PruneEnded();

  const int per_client_;
  const int total_;
  const std::set<std::string> exempt_;
  const TrustedProxies trusted_;
  const Poco::Timespan timeout_;
  std::mutex mu_;
  int open_ = 0;  // guarded by mu_
  // The sockets let in, by numeric address. Guarded by mu_.
  std::unordered_map<std::string, std::vector<Poco::Net::StreamSocket>> per_address_;
  // The connections serving a request (BeginRequest to EndRequest), by socket impl. Guarded by
  // mu_.
  std::unordered_set<const Poco::Net::SocketImpl*> serving_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace keepdav::server
