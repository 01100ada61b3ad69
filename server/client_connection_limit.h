// ClientConnectionLimit: the TCPServerConnectionFilter of keepdav's HTTPServer. Poco serves every
// connection on a pool thread of its own for its whole life, idle keep-alive time included, so
// a single client opening connections could take every thread; this filter refuses a connection
// (Poco closes it unanswered, before any byte is read) when its address already has
// `per_client` open, or when `total` connections are open or waiting for a thread.
//
// Addresses in `exempt` (the trusted proxies of --trusted-proxies: every connection through a
// proxy comes from its address) have no per-address cap. The total cap keeps Poco's dispatcher
// queue from overflowing: Poco closes connections past maxQueued silently, and this count would
// never hear of it.
//
// accept() runs on Poco's acceptor thread; Release on the connection's thread when it ends.
// Thread-safe.
#pragma once

#include <Poco/Net/TCPServer.h>

#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace keepdav::server {

class ClientConnectionLimit : public Poco::Net::TCPServerConnectionFilter {
 public:
  using Ptr = Poco::AutoPtr<ClientConnectionLimit>;

  // `exempt`: numeric addresses as Poco prints them ("127.0.0.1", "::1").
  ClientConnectionLimit(int per_client, int total, std::set<std::string> exempt);

  // Counts the connection if it is let in.
  bool accept(const Poco::Net::StreamSocket& socket) override;
  // A connection let in from `host` (its numeric address) has closed.
  void Release(const std::string& host);

  // Connections let in and not yet released.
  int open() const;

 private:
  const int per_client_;
  const int total_;
  const std::set<std::string> exempt_;
  mutable std::mutex mu_;
  int open_ = 0;                                      // guarded by mu_
  std::unordered_map<std::string, int> per_address_;  // guarded by mu_
};

}  // namespace keepdav::server
