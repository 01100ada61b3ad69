#include "server/client_connection_limit.h"

#include <Poco/Logger.h>
#include <Poco/Net/StreamSocket.h>

#include <exception>

namespace keepdav::server {

ClientConnectionLimit::ClientConnectionLimit(int per_client, int total,
                                             std::set<std::string> exempt)
    : per_client_(per_client), total_(total), exempt_(std::move(exempt)) {}

bool ClientConnectionLimit::accept(const Poco::Net::StreamSocket& socket) {
  std::string host;
  try {
    host = socket.peerAddress().host().toString();
  } catch (const std::exception&) {
    return false;  // gone already
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ >= total_) {
    Poco::Logger::get("keepdav.http")
        .warning("refused a connection from %s: %d connections open or waiting", host, open_);
    return false;
  }
  int& mine = per_address_[host];
  if (mine >= per_client_ && exempt_.count(host) == 0) {
    Poco::Logger::get("keepdav.http")
        .warning("refused a connection from %s: it has %d open (--max-connections-per-client)",
                 host, mine);
    return false;
  }
  ++mine;
  ++open_;
  return true;
}

void ClientConnectionLimit::Release(const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_address_.find(host);
  if (it == per_address_.end()) return;
  --open_;
  if (--it->second <= 0) per_address_.erase(it);
}

int ClientConnectionLimit::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

}  // namespace keepdav::server
