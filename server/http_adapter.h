// The HTTP adapter: turns a Poco::Net request into a webdav::DavRequest, gives the handler a
// ResponseSink over the Poco response, and makes sure every exception is caught, answered with
// 500 (when nothing was sent yet) and logged.
//
// It also owns the HTTP details the WebDAV layer should not know about: "100 Continue" is sent
// lazily, the first time the handler reads the body (so a PUT that is refused early never asks
// the client for its body), and a body left unread closes the connection instead of corrupting
// the next request on it.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include "webdav/dav_handler.h"

namespace keepdav::server {

class DavRequestHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit DavRequestHandlerFactory(webdav::DavHandler& handler) : handler_(handler) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  webdav::DavHandler& handler_;
};

}  // namespace keepdav::server
