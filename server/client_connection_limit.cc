#include "server/client_connection_limit.h"

#include <Poco/Logger.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>

#include "server/tsan_annotations.h"

namespace keepdav::server {

ClientConnectionLimit::ClientConnectionLimit(int per_client, int total,
                                             std::set<std::string> exempt, Poco::Timespan timeout,
                                             TrustedProxies trusted)
    : per_client_(per_client),
      total_(total),
      exempt_(std::move(exempt)),
      trusted_(std::move(trusted)),
      timeout_(timeout) {}

void ClientConnectionLimit::PruneEnded() {
  for (auto it = per_address_.begin(); it != per_address_.end();) {
    std::vector<Poco::Net::StreamSocket>& sockets = it->second;
    const size_t before = sockets.size();
    // Only this copy left: the connection object (and Poco's queue entry) is gone. Destroying
    // the copy closes the descriptor if nobody closed it.
    sockets.erase(std::remove_if(sockets.begin(), sockets.end(),
                                 [](const Poco::Net::StreamSocket& s) {
                                   if (s.impl()->referenceCount() != 1) return false;
                                   // The count fell to 1 in libPocoNet, which TSan does not
                                   // see: order the connection thread's uses before the
                                   // delete (tsan_annotations.h; no-op in other builds).
                                   TsanAcquire(s.impl());
                                   return true;
                                 }),
                  sockets.end());
    open_ -= static_cast<int>(before - sockets.size());
    if (sockets.empty()) {
      it = per_address_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ClientConnectionLimit::accept(const Poco::Net::StreamSocket& socket) {
  std::string host;
  try {
    host = socket.peerAddress().host().toString();
  } catch (const std::exception&) {
    return false;  // gone already
  }
  std::lock_guard<std::mutex> lock(mu_);
  PruneEnded();
  if (open_ >= total_) {
    Poco::Logger::get("keepdav.http")
        .warning("refused a connection from %s: %d connections open or waiting", host, open_);
    return false;
  }
  std::vector<Poco::Net::StreamSocket>& mine = per_address_[host];
  if (static_cast<int>(mine.size()) >= per_client_ && exempt_.count(host) == 0 &&
      !trusted_.Contains(host)) {
    Poco::Logger::get("keepdav.http")
        .warning("refused a connection from %s: it has %d open (--max-connections-per-client)",
                 host, static_cast<int>(mine.size()));
    return false;
  }
  try {
    Poco::Net::StreamSocket copy(socket);
    copy.setReceiveTimeout(timeout_);
    copy.setSendTimeout(timeout_);
    mine.push_back(std::move(copy));
  } catch (const std::exception&) {
    if (mine.empty()) per_address_.erase(host);
    return false;  // the client is already gone
  }
  ++open_;
  return true;
}

int ClientConnectionLimit::open() {
  std::lock_guard<std::mutex> lock(mu_);
  PruneEnded();
  return open_;
}

void ClientConnectionLimit::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  per_address_.clear();
  open_ = 0;
}

bool ClientConnectionLimit::BeginRequest(const Poco::Net::StreamSocket& socket) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  serving_.insert(socket.impl());
  return true;
}

void ClientConnectionLimit::EndRequest(const Poco::Net::StreamSocket& socket) {
  std::lock_guard<std::mutex> lock(mu_);
  serving_.erase(socket.impl());
}

void ClientConnectionLimit::EndWaitingConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  PruneEnded();
  for (const auto& [host, sockets] : per_address_) {
    for (const Poco::Net::StreamSocket& s : sockets) {
      if (serving_.count(s.impl()) != 0) continue;
      // The kept copy holds the impl, so its descriptor is still this connection's (Poco closes
      // a connection's socket only by releasing it). A waiting connection's thread is blocked in
      // poll or recv on it and wakes with end-of-file; a socket never served (Poco's queue) is
      // closed by Clear.
      const poco_socket_t fd = s.impl()->sockfd();
      if (fd != POCO_INVALID_SOCKET) ::shutdown(fd, SHUT_RDWR);
    }
  }
}

}  // namespace keepdav::server
