// The HTTP adapter: serves one parsed request (a webdav::DavRequest built by DavRequestHandler
// from Poco's HTTPServerRequest) with the DavHandler, gives the handler a ResponseSink over the
// connection's Wire, and makes sure
// every exception is caught, answered with 500 (when nothing was sent yet) and logged.
//
// It also owns the HTTP details the WebDAV layer should not know about: the request body is
// framed here (Content-Length or chunked), "100 Continue" is sent lazily, the first time the
// handler reads the body (so a PUT that is refused early never asks the client for its body), and
// a body left unread closes the connection instead of corrupting the next request on it.
//
// A request whose handler announces long work (webdav::Progress::BeginLong: a COPY of a tree, say)
// is watched by LongOperations from that point on, whether or not the client may get "102
// Processing": its watcher also notices a hang-up, and the operation is logged. Its whole body is
// read at that point, before any 102 (RFC 2518 §10.1: a 102 only after the complete request), and
// the sink closes the InterimGate before the final status line. webdav/ never hears of 102.
//
// Thread-safe: Serve runs on many connection threads at once.
#pragma once

#include <memory>
#include <optional>
#include <sstream>

#include "server/authenticator.h"
#include "server/cors.h"
#include "server/long_operations.h"
#include "server/wire.h"
#include "server/wire_body_source.h"
#include "webdav/dav_handler.h"

namespace Poco {
class Timestamp;
}

namespace keepdav::server {

class AccessLog;
class WireResponseSink;

// What the adapter needs to know of a request beyond the DavRequest fields.
struct RequestFraming {
  bool keep_alive = true;        // after this request (Connection header and version)
  bool expect_continue = false;  // "Expect: 100-continue"
};

class HttpAdapter {
 public:
  // `long_ops` may be null: then long operations run unwatched (no 102s, no hang-up detection).
  // `authenticator` may be null (no authentication at all, as in unit tests).
  HttpAdapter(webdav::DavHandler& handler, LongOperations* long_ops,
              Authenticator* authenticator = nullptr)
      : handler_(handler), long_ops_(long_ops), authenticator_(authenticator) {}

  Authenticator* authenticator() const { return authenticator_; }

  // --access-log (null: none) and --cors-origins (null or disabled: no CORS). Not owned; set
  // before serving starts.
  void set_access_log(AccessLog* log) { access_log_ = log; }
  AccessLog* access_log() const { return access_log_; }
  // With PostgreSQL: the debug line of each request ends with " db=N", the database round trips
  // it made (bench/ reads them per method).
  void set_log_db_round_trips(bool on) { log_db_round_trips_ = on; }
  void set_cors(const CorsPolicy* cors) {
    cors_ = cors != nullptr && cors->enabled() ? cors : nullptr;
  }
  // True for a CORS preflight when CORS is on: Serve answers it itself, so the caller does not
  // authenticate it (a preflight never carries credentials).
  bool IsCorsPreflight(const webdav::DavRequest& request) const {
    return cors_ != nullptr && cors_->Evaluate(request).preflight;
  }

  // Serves one request: reads its body from `body` and writes the whole response through
  // `wire`. Returns whether the connection may stay open (the caller tells Poco). Never throws.
  // `refusal`: when non-null with a status, the authenticator's answer (401, 403, 429) is sent
  // instead of dispatching to the DAV handler (the unread body is handled as for any refusal).
  bool Serve(Wire& wire, WireBodySource& body, webdav::DavRequest& request,
             const RequestFraming& framing, const AuthDecision* refusal = nullptr) const;

 private:
  void Handle(webdav::DavRequest& dav, WireResponseSink& sink) const;
  static void SendRefusal(const webdav::DavRequest& dav, const AuthDecision& refusal,
                          WireResponseSink& sink);
  void SendPreflight(const webdav::DavRequest& dav, const CorsPolicy::Verdict& verdict,
                     WireResponseSink& sink) const;
  void LogAccess(const webdav::DavRequest& dav, const WireResponseSink& sink,
                 const Poco::Timestamp& started) const;
  bool ReadWholeBody(webdav::DavRequest& dav, std::istringstream* out) const;
  // Called from Progress::BeginLong on the handler's thread: reads the rest of the body and
  // starts watching. Null when it cannot (a response already started, a body too large to read
  // ahead); the operation then runs unwatched.
  LongOperations::Ticket StartWatching(webdav::DavRequest& dav, Wire& wire,
                                       const WireResponseSink& sink,
                                       std::optional<std::istringstream>* whole_body,
                                       std::shared_ptr<InterimGate>* gate) const;
  void LogLongOperation(const webdav::DavRequest& dav, const WireResponseSink& sink,
                        const LongOperations::Outcome& outcome,
                        const Poco::Timestamp& started) const;

  webdav::DavHandler& handler_;
  LongOperations* long_ops_;
  Authenticator* authenticator_;
  AccessLog* access_log_ = nullptr;
  const CorsPolicy* cors_ = nullptr;
  bool log_db_round_trips_ = false;
};

}  // namespace keepdav::server
