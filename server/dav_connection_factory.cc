#include "server/dav_connection_factory.h"

#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <exception>
#include <string>

namespace keepdav::server {

// One client connection: Poco's HTTPServerConnection, registered with the factory for its life.
class DavConnectionFactory::Tracked : public Poco::Net::HTTPServerConnection {
 public:
  Tracked(const Poco::Net::StreamSocket& socket, DavConnectionFactory& owner)
      : HTTPServerConnection(socket, owner.params_, owner.handlers_), owner_(owner) {
    try {
      host_ = socket.peerAddress().host().toString();
      // Poco's HTTPServerSession applies --timeout to its own reads as well; set on the socket
      // here, it also bounds keepdav's reads and writes through the Wire (which bypass Poco's
      // session), whatever Poco has done first.
      this->socket().setReceiveTimeout(owner.params_->getTimeout());
      this->socket().setSendTimeout(owner.params_->getTimeout());
    } catch (const std::exception&) {
      // The client is already gone: Poco's first read fails and the connection ends.
    }
    owner_.Add(this);
  }
  ~Tracked() override {
    owner_.Remove(this);
    owner_.limit_->Release(host_);
  }
  // REQUIRES: the factory's lock held (the connection cannot end meanwhile). Once only.
  void StopAfterCurrentRequest() {
    if (stop_requested_) return;
    stop_requested_ = true;
    onServerStopped(false);
  }

 private:
  bool stop_requested_ = false;  // guarded by the factory's lock
  DavConnectionFactory& owner_;
  std::string host_;
};

DavConnectionFactory::DavConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                                           Poco::Net::HTTPRequestHandlerFactory::Ptr handlers,
                                           ClientConnectionLimit::Ptr limit)
    : params_(std::move(params)), handlers_(std::move(handlers)), limit_(std::move(limit)) {}

DavConnectionFactory::~DavConnectionFactory() = default;

Poco::Net::TCPServerConnection* DavConnectionFactory::createConnection(
    const Poco::Net::StreamSocket& socket) {
  return new Tracked(socket, *this);
}

void DavConnectionFactory::Add(Tracked* c) {
  std::lock_guard<std::mutex> lock(mu_);
  open_.insert(c);
}

void DavConnectionFactory::Remove(Tracked* c) {
  std::lock_guard<std::mutex> lock(mu_);
  open_.erase(c);
  gone_.notify_all();
}

void DavConnectionFactory::StopAll() {
  std::unique_lock<std::mutex> lock(mu_);
  // onServerStopped(false) waits for the request the connection is serving (Poco holds the
  // connection's mutex for each request), then shuts the socket down. The connections cannot
  // end meanwhile: their destructors wait for mu_.
  // A connection Poco's dispatcher took from its queue just before TCPServer::stop may still
  // register: it is stopped on the next round.
  while (!open_.empty()) {
    for (Tracked* c : open_) c->StopAfterCurrentRequest();
    gone_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

}  // namespace keepdav::server
