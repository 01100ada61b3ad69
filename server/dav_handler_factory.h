// DavHandlerFactory: Poco's HTTPRequestHandlerFactory for keepdav; every method goes to the DAV
// layer through a DavRequestHandler.
//
// It also keeps Poco from answering "Expect: 100-continue" itself: HTTPServerConnection sends
// "100 Continue" before the handler runs whenever the response status is still 200. keepdav sends
// it only when the handler first reads the body (a PUT refused early never asks for its body;
// HttpTest.RefusedPutWithExpectContinueNeverAsksForBody), so the factory sets another status on
// Poco's response object, which keepdav never sends.
//
// Owns the --threads request slots. Thread-safe: createRequestHandler runs on many connection
// threads at once.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Semaphore.h>

#include <cstddef>

#include "server/client_connection_limit.h"
#include "server/forwarded.h"
#include "server/http_adapter.h"

namespace keepdav::server {

class DavHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  // `request_slots`: requests served at once (at least 1).
  // `trusted`: the --trusted-proxies, whose forwarding headers are believed. `connections`
  // (may be null; else outlives the factory): the server's filter, told which connections are
  // serving a request (ClientConnectionLimit::BeginRequest).
  DavHandlerFactory(const HttpAdapter& adapter, int request_slots, size_t max_request_head,
                    TrustedProxies trusted = {}, ClientConnectionLimit* connections = nullptr);

  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  const HttpAdapter& adapter_;
  Poco::Semaphore slots_;
  size_t max_request_head_;
  const TrustedProxies trusted_;
  ClientConnectionLimit* const connections_;
};

}  // namespace keepdav::server
