// DavConnectionFactory: makes the connection objects of keepdav's Poco TCPServer. Each is Poco's
// own HTTPServerConnection (its request loop, head parser and keep-alive handling), as
// Poco::Net::HTTPServer would make it. DavServer runs it on a Poco::Net::TCPServer, which is all
// that HTTPServer is, because HTTPServer's constructor builds its own connection factory, which
// has no hook for a connection's end (the per-client count needs one). This factory adds:
//   - the socket's send and receive timeouts (--timeout) are set on the socket itself, so they
//     bound keepdav's own reads and writes through the Wire as well as Poco's (a client that
//     stops halfway through a head or a body is dropped after that time);
//   - the connection hands its address back to the ClientConnectionLimit when it ends;
//   - StopAll (shutdown) reaches every open connection: one serving a request finishes it, then
//     closes; an idle one closes at once (HTTPServerConnection::onServerStopped(false)).
//
// Thread-safe: createConnection runs on Poco's pool threads, StopAll on the stopping thread.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <condition_variable>
#include <mutex>
#include <set>

#include "server/client_connection_limit.h"

namespace keepdav::server {

class DavConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  DavConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                       Poco::Net::HTTPRequestHandlerFactory::Ptr handlers,
                       ClientConnectionLimit::Ptr limit);
  ~DavConnectionFactory() override;

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override;

  // Lets every request in progress finish and closes every connection after it (idle ones at
  // once), then waits until all of them have ended. Call after TCPServer::stop (no new ones).
  void StopAll();

 private:
  class Tracked;
  void Add(Tracked* c);
  void Remove(Tracked* c);

  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
  ClientConnectionLimit::Ptr limit_;
  std::mutex mu_;
  std::condition_variable gone_;
  std::set<Tracked*> open_;  // guarded by mu_
};

}  // namespace keepdav::server
