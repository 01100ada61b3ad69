// DavRequestHandler: Poco's HTTPRequestHandler for every request keepdav serves. Poco has read
// and parsed the head; this turns it into a webdav::DavRequest (dav_request_reader.h), answers a
// refusal at once (before any DAV work, "Connection: close"), and otherwise hands the request to
// the HttpAdapter, with the request's Wire (listener.h: plain TCP or TLS) for the response and a
// WireBodySource for the body. Poco's HTTPServerResponse never writes: keepdav's sink writes the
// whole response, and the handler only tells Poco whether the connection stays open
// (setKeepAlive), which Poco reads after handleRequest returns to decide whether to wait for
// another request. handleRequest never throws (Poco would answer a second time with a 500).
//
// At most `slots` requests run at once (--threads): more wait here, holding their connection's
// thread. One handler per request (DavHandlerFactory makes them); not thread-safe itself.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Semaphore.h>

#include <cstddef>

#include "server/client_connection_limit.h"
#include "server/forwarded.h"
#include "server/http_adapter.h"

namespace keepdav::server {

class DavRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  // `trusted` and `connections` (may be null) outlive the handler (the factory's).
  DavRequestHandler(const HttpAdapter& adapter, Poco::Semaphore& slots, size_t max_request_head,
                    const TrustedProxies& trusted, ClientConnectionLimit* connections = nullptr)
      : adapter_(adapter),
        slots_(slots),
        max_request_head_(max_request_head),
        trusted_(trusted),
        connections_(connections) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override;

 private:
  const HttpAdapter& adapter_;
  Poco::Semaphore& slots_;
  size_t max_request_head_;
  const TrustedProxies& trusted_;
  ClientConnectionLimit* const connections_;
};

}  // namespace keepdav::server
