#include "server/http_adapter.h"

#include "server/socket_response.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timestamp.h>

#include <sys/sendfile.h>

#include <cerrno>
#include <sstream>
#include <streambuf>

namespace keepdav::server {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

Poco::Logger& Log() {
  return Poco::Logger::get("keepdav.http");
}

// Wraps the request body: sends "100 Continue" before the first read when the client asked for
// it, and remembers whether the body was read to its end.
class BodyStreamBuf : public std::streambuf {
 public:
  BodyStreamBuf(std::istream* in, HTTPServerResponse& response, bool expect_continue)
      : in_(in), response_(response), expect_continue_(expect_continue) {}

  bool continue_sent() const { return continue_sent_; }
  bool at_end() const { return at_end_; }
  bool touched() const { return touched_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    touched_ = true;
    if (!in_) {
      at_end_ = true;
      return traits_type::eof();
    }
    if (expect_continue_ && !continue_sent_) {
      response_.sendContinue();
      continue_sent_ = true;
    }
    in_->read(buf_, sizeof buf_);
    std::streamsize n = in_->gcount();
    if (n <= 0) {
      at_end_ = !in_->bad();
      return traits_type::eof();
    }
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

  std::streamsize xsgetn(char* s, std::streamsize count) override {
    // Large reads bypass our buffer.
    std::streamsize done = 0;
    while (done < count) {
      std::streamsize avail = egptr() - gptr();
      if (avail > 0) {
        std::streamsize n = std::min(avail, count - done);
        std::copy(gptr(), gptr() + n, s + done);
        gbump(static_cast<int>(n));
        done += n;
        continue;
      }
      if (count - done >= static_cast<std::streamsize>(sizeof buf_) && in_ &&
          (!expect_continue_ || continue_sent_)) {
        touched_ = true;
        in_->read(s + done, count - done);
        std::streamsize n = in_->gcount();
        if (n <= 0) {
          at_end_ = !in_->bad();
          break;
        }
        done += n;
        continue;
      }
      if (traits_type::eq_int_type(underflow(), traits_type::eof())) break;
    }
    return done;
  }

 private:
  std::istream* in_;
  HTTPServerResponse& response_;
  bool expect_continue_;
  bool continue_sent_ = false;
  bool at_end_ = false;
  bool touched_ = false;
  char buf_[16384];
};

// A body the handler did not read must not be parsed as the next request: a small one is read
// and dropped, otherwise the connection closes after the response. Returns whether it may stay
// open.
bool DrainUnreadBody(const HTTPServerRequest& request, const webdav::DavRequest& dav,
                     const BodyStreamBuf& body) {
  if (!dav.HasBody() || body.at_end()) return true;
  bool client_waits = request.getExpectContinue() && !body.continue_sent();
  if (!client_waits && dav.content_length >= 0 && dav.content_length <= 64 * 1024) {
    char buf[4096];
    while (dav.body->read(buf, sizeof buf) || dav.body->gcount() > 0) {
    }
    if (body.at_end()) return true;
  }
  return false;
}

class DavRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  DavRequestHandler(webdav::DavHandler& handler, LongOperations* long_ops)
      : handler_(handler), long_ops_(long_ops) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    Poco::Timestamp started;
    webdav::DavRequest dav;
    dav.method = request.getMethod();
    dav.target = request.getURI();
    dav.http10 = request.getVersion() == Poco::Net::HTTPMessage::HTTP_1_0;
    dav.host = request.has("Host") ? request.get("Host") : std::string();
    for (const auto& [name, value] : request) {
      auto it = dav.headers.find(name);
      if (it == dav.headers.end()) {
        dav.headers.emplace(name, value);
      } else {
        it->second += ", " + value;
      }
    }
    dav.chunked = request.getChunkedTransferEncoding();
    dav.content_length = request.hasContentLength() ? request.getContentLength64() : -1;
    // RFC 9110 §6.4.1: a request without Content-Length or chunked encoding has no body; Poco
    // would otherwise read such a body until the connection closes.
    std::istream* source = dav.HasBody() ? &request.stream() : nullptr;
    BodyStreamBuf body_buf(source, response, request.getExpectContinue() && dav.HasBody());
    std::istream body(&body_buf);
    dav.body = &body;
    webdav::Progress progress;
    dav.progress = &progress;

    // Requests whose work grows with a tree run on a worker, so that the client can get 102s
    // and a hang-up is noticed; everything else runs on this thread.
    bool long_running = long_ops_ && handler_.MayRunLong(dav);
    int allowed = long_running ? long_ops_->Allowed(dav) : 0;
    std::istringstream whole_body;
    if (long_running && dav.HasBody() && !ReadWholeBody(dav, &whole_body)) long_running = false;
    InterimGate gate;
    auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
    SocketResponseSink* sink_ptr = nullptr;
    SocketResponseSink sink(socket.impl()->sockfd(), response, dav.http10, dav.method == "HEAD",
                            [&, long_running] {
                              if (long_running) gate.MarkFinal();
                              if (!DrainUnreadBody(request, dav, body_buf)) {
                                sink_ptr->set_keep_alive(false);
                              }
                            });
    sink_ptr = &sink;
    try {
      if (long_running) {
        RunLong(dav, request, sink, gate, allowed, started);
      } else {
        Handle(dav, sink);
      }
    } catch (const std::exception& e) {
      // A write failed (the client is gone) or something unexpected escaped the handler.
      Log().warning("%s %s: %s", dav.method, dav.target, std::string(e.what()));
      if (!sink.sent()) {
        try {
          sink.SetStatus(500);
          sink.SendEmpty();
        } catch (...) {
        }
      }
      response.setKeepAlive(false);
    }
    if (Log().debug()) {
      Log().debug("%s %s %d %Ldus", dav.method, dav.target, sink.status(),
                  static_cast<Poco::Int64>(started.elapsed()));
    }
  }

 private:
  // Runs the handler; a handler that sends nothing still produces a response.
  void Handle(const webdav::DavRequest& dav, SocketResponseSink& sink) {
    handler_.Handle(dav, sink);
    if (!sink.sent()) {
      Log().error("%s %s: handler sent no response", dav.method, dav.target);
      sink.SetStatus(500);
      sink.SendEmpty();
    }
    sink.Finish();
  }

  // Reads the whole (small) body into `out` and points the request at it, so the connection is
  // quiet on the reading side before any 102 goes out. False when the body is too large for
  // that; the request then runs inline without 102s.
  bool ReadWholeBody(webdav::DavRequest& dav, std::istringstream* out) {
    constexpr int64_t kMaxPreRead = 4 << 20;
    if (dav.content_length > kMaxPreRead) return false;
    std::string data;
    char buf[16384];
    while (static_cast<int64_t>(data.size()) <= kMaxPreRead &&
           dav.body->read(buf, sizeof buf).gcount() > 0) {
      data.append(buf, static_cast<size_t>(dav.body->gcount()));
    }
    if (static_cast<int64_t>(data.size()) > kMaxPreRead) {
      // A chunked body of unknown size that turned out large: the part read cannot be given
      // back, so hand the handler the prefix it would reject anyway as oversized XML.
      Log().warning("%s %s: request body over %Ld bytes", dav.method, dav.target,
                    static_cast<Poco::Int64>(kMaxPreRead));
    }
    out->str(std::move(data));
    dav.body = out;
    return true;
  }

  void RunLong(const webdav::DavRequest& dav, HTTPServerRequest& request, SocketResponseSink& sink,
               InterimGate& gate, int allowed, const Poco::Timestamp& started) {
    auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
    std::exception_ptr failure;
    LongOperations::Outcome outcome = long_ops_->Run(
        [&] {
          try {
            Handle(dav, sink);
          } catch (...) {
            failure = std::current_exception();
          }
        },
        *dav.progress, allowed, LongOperations::CancelOnHangUp(dav.method), socket, gate);
    double seconds = static_cast<double>(started.elapsed()) / 1e6;
    if (seconds >= 1.0 || outcome.interim_sent > 0 || outcome.client_gone) {
      Log().information("long %s %s: %Lu resources, %.3f s, %d x 102, status %d%s", dav.method,
                        dav.target, static_cast<Poco::UInt64>(dav.progress->done()), seconds,
                        outcome.interim_sent, sink.status(),
                        std::string(!outcome.client_gone ? ""
                                    : LongOperations::CancelOnHangUp(dav.method)
                                        ? ", client hung up (cancelled)"
                                        : ", client hung up (finished anyway)"));
    }
    if (failure) std::rethrow_exception(failure);
  }

  webdav::DavHandler& handler_;
  LongOperations* long_ops_;
};

}  // namespace

Poco::Net::HTTPRequestHandler* DavRequestHandlerFactory::createRequestHandler(
    const HTTPServerRequest& request) {
  // Poco's connection sends "100 Continue" by itself right after this call whenever the response
  // status is still 200. We send it lazily (BodyStreamBuf) so that a request refused before its
  // body is read never asks for the body; a status other than 200 here stops Poco's eager one.
  // Every handler sets the real status before responding.
  if (request.getExpectContinue()) {
    request.response().setStatus(HTTPResponse::HTTP_CONTINUE);
  }
  return new DavRequestHandler(handler_, long_ops_);
}

}  // namespace keepdav::server
