#include "server/dav_handler_factory.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <algorithm>

#include "server/dav_request_handler.h"

namespace keepdav::server {

DavHandlerFactory::DavHandlerFactory(const HttpAdapter& adapter, int request_slots,
                                     size_t max_request_head, TrustedProxies trusted,
                                     ClientConnectionLimit* connections)
    : adapter_(adapter),
      slots_(std::max(1, request_slots), std::max(1, request_slots)),
      max_request_head_(max_request_head),
      trusted_(std::move(trusted)),
      connections_(connections) {}

Poco::Net::HTTPRequestHandler* DavHandlerFactory::createRequestHandler(
    const Poco::Net::HTTPServerRequest& request) {
  // Not 200: Poco then leaves "100 Continue" to keepdav (see the header).
  request.response().setStatus(Poco::Net::HTTPResponse::HTTP_EXPECTATION_FAILED);
  return new DavRequestHandler(adapter_, slots_, max_request_head_, trusted_, connections_);
}

}  // namespace keepdav::server
