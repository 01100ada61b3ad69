#include "server/dav_request_handler.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timestamp.h>

#include <sys/socket.h>

#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "server/access_log.h"
#include "server/authenticator.h"
#include "server/dav_request_reader.h"
#include "server/listener.h"
#include "server/plain_wire.h"
#include "server/wire_body_source.h"
#include "webdav/dav_error.h"

namespace keepdav::server {

namespace {

Poco::Logger& Log() {
  static Poco::Logger& logger = Poco::Logger::get("keepdav.http");  // looked up once
  return logger;
}

// The peer's numeric address as forwarded.h prints it (an IPv4-mapped IPv6 address unmapped),
// kept for the thread's last peer. Formatting it costs ~3,000 instructions a request (Poco's
// IPAddress::toString, then ResolveClientOrigin's parse and inet_ntop), and a keep-alive
// connection holds its pool thread for its whole life: its requests all find their peer here.
// The key is the whole socket address, so a cached string is always that address's.
const std::string& PeerAddress(const Poco::Net::SocketAddress& peer) {
  struct Cache {
    socklen_t length = 0;
    sockaddr_storage address{};
    std::string text;
  };
  thread_local Cache cache;
  if (peer.length() > sizeof cache.address || peer.length() != cache.length ||
      std::memcmp(peer.addr(), &cache.address, peer.length()) != 0) {
    static const webdav::HeaderMap kNoHeaders;
    static const TrustedProxies kNobody;
    cache.text = ResolveClientOrigin(peer.host().toString(), false, kNoHeaders, kNobody).address;
    cache.length = peer.length() <= sizeof cache.address ? peer.length() : 0;
    std::memcpy(&cache.address, peer.addr(), cache.length);
  }
  return cache.text;
}

// Answers a refused head; the connection closes after it.
void SendRefusal(Wire& wire, const RequestRefusal& refusal) {
  Log().information("bad request head: %s (%d)", refusal.reason, refusal.status);
  std::string answer = "HTTP/1.1 " + std::to_string(refusal.status) + " " +
                       webdav::ReasonPhrase(refusal.status) +
                       "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  struct iovec iov = {answer.data(), answer.size()};
  try {
    wire.Write(&iov, 1, /*more=*/false);
  } catch (const std::exception&) {
    // The client is gone; nothing to tell it.
  }
}

// The access log's line for a refused head: the connection's peer (forwarding headers are not
// read from a head that was refused), the request line as Poco parsed it.
void LogRefusal(AccessLog& log, const Poco::Net::HTTPServerRequest& request,
                const RequestRefusal& refusal, const Poco::Timestamp& started) {
  std::string client = request.clientAddress().host().toString();
  AccessRecord record;
  record.client = client;
  record.start_us = started.epochMicroseconds();
  record.method = request.getMethod();
  record.target = request.getURI();
  record.version = request.getVersion();
  record.status = refusal.status;
  auto referer = request.find("Referer");
  if (referer != request.end()) record.referer = &referer->second;
  auto agent = request.find("User-Agent");
  if (agent != request.end()) record.user_agent = &agent->second;
  record.duration_us = started.elapsed();
  log.Write(record);
}

// Holds one of the --threads request slots.
class Slot {
 public:
  explicit Slot(Poco::Semaphore& slots) : slots_(slots) { slots_.wait(); }
  ~Slot() { slots_.set(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  Poco::Semaphore& slots_;
};

// Marks the connection as serving a request for the handler's life
// (ClientConnectionLimit::BeginRequest), unless the server is stopping.
class Serving {
 public:
  Serving(ClientConnectionLimit* connections, const Poco::Net::StreamSocket& socket)
      : connections_(connections),
        socket_(socket),
        admitted_(connections == nullptr || connections->BeginRequest(socket)) {}
  ~Serving() {
    if (connections_ != nullptr && admitted_) connections_->EndRequest(socket_);
  }
  Serving(const Serving&) = delete;
  Serving& operator=(const Serving&) = delete;
  bool admitted() const { return admitted_; }

 private:
  ClientConnectionLimit* const connections_;
  const Poco::Net::StreamSocket& socket_;
  const bool admitted_;
};

}  // namespace

void DavRequestHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                      Poco::Net::HTTPServerResponse& response) {
  bool keep_alive = false;
  Poco::Timestamp started;
  try {
    // HTTPServerConnection makes no other kind of request; the session holds the bytes Poco
    // has read past the head.
    auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
    Serving serving(connections_, impl.socket());
    if (!serving.admitted()) {
      Log().information("%s %s: dropped unanswered, the server is stopping", request.getMethod(),
                        request.getURI());
      response.setKeepAlive(false);
      return;
    }
    // A plain connection's wire lives on the stack: MakeWire's dynamic_cast and heap allocation
    // cost ~650 instructions a request, and only a TLS socket needs what it decides.
    std::optional<PlainWire> plain;
    std::unique_ptr<Wire> tls;
    Wire* wire = impl.socket().secure()
                     ? (tls = MakeWire(impl.socket())).get()
                     : &plain.emplace(static_cast<int>(impl.socket().impl()->sockfd()));
    webdav::DavRequest dav;
    RequestFraming framing;
    RequestRefusal refusal =
        ReadDavRequest(request, request.secure(), max_request_head_, &dav, &framing);
    ClientOrigin origin;
    if (refusal.status == 0) {
      const std::string& peer = PeerAddress(request.clientAddress());
      if (trusted_.empty()) {  // what ResolveClientOrigin gives when no proxy is trusted
        origin.address = peer;
        origin.secure = request.secure();
      } else {
        origin = ResolveClientOrigin(peer, request.secure(), dav.headers, trusted_);
      }
      ApplyClientOrigin(origin, &dav);
    }
    if (refusal.status != 0) {
      SendRefusal(*wire, refusal);
      if (AccessLog* log = adapter_.access_log()) LogRefusal(*log, request, refusal, started);
    } else {
      AuthDecision auth;
      Authenticator* authenticator = adapter_.authenticator();
      if (authenticator != nullptr && !adapter_.IsCorsPreflight(dav)) {
        auth = authenticator->Authenticate(dav.method, dav.Header("Authorization"), origin);
        dav.user = auth.user;
      }
      WireBodySource body(impl.session(), *wire);
      Slot slot(slots_);
      keep_alive = adapter_.Serve(*wire, body, dav, framing, &auth);
    }
  } catch (const std::exception& e) {
    Log().error("%s %s: %s", request.getMethod(), request.getURI(), std::string(e.what()));
  }
  response.setKeepAlive(keep_alive);
}

}  // namespace keepdav::server
