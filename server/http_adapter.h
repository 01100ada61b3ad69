// The HTTP adapter: turns a Poco::Net request into a webdav::DavRequest, gives the handler a
// ResponseSink over the Poco response, and makes sure every exception is caught, answered with
// 500 (when nothing was sent yet) and logged.
//
// It also owns the HTTP details the WebDAV layer should not know about: "100 Continue" is sent
// lazily, the first time the handler reads the body (so a PUT that is refused early never asks
// the client for its body), and a body left unread closes the connection instead of corrupting
// the next request on it.
//
// Requests that may run long (DavHandler::MayRunLong) run on a LongOperations worker, whether or
// not the client may get "102 Processing": the connection's thread then also watches for a
// hang-up and logs the operation. Their whole body is read first (RFC 2518 §10.1: a 102 only
// after the complete request), and the sink closes the InterimGate before the final status line.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "server/long_operations.h"
#include "webdav/dav_handler.h"

namespace keepdav::server {

class DavRequestHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  // `long_ops` may be null: then everything runs on the connection's thread.
  DavRequestHandlerFactory(webdav::DavHandler& handler, LongOperations* long_ops)
      : handler_(handler), long_ops_(long_ops) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  webdav::DavHandler& handler_;
  LongOperations* long_ops_;
};

}  // namespace keepdav::server
