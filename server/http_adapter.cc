#include "server/http_adapter.h"

#include "server/chunked_decoder.h"
#include "server/socket_response.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timestamp.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <vector>

namespace keepdav::server {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

Poco::Logger& Log() {
  return Poco::Logger::get("keepdav.http");
}

// Access to protected members of Poco's HTTPSession: how many bytes it has buffered past the
// request head, and reading them. A pointer to a protected member formed through a derived
// class may be applied to any object of the base class.
struct SessionAccess : Poco::Net::HTTPSession {
  static int Buffered(Poco::Net::HTTPSession& s) { return (s.*(&SessionAccess::buffered))(); }
  static int Read(Poco::Net::HTTPSession& s, char* dst, std::streamsize n) {
    return (s.*(&SessionAccess::read))(dst, n);
  }
  static int Get(Poco::Net::HTTPSession& s) { return (s.*(&SessionAccess::get))(); }
};

// The raw bytes of a request body: first what Poco's session buffered behind the request head,
// then straight from the socket. Reads never ask for more than the caller wants, so nothing past
// the body is consumed (the session buffer keeps a pipelined next request).
class SessionSource : public ChunkedDecoder::Source {
 public:
  SessionSource(Poco::Net::HTTPSession& session, int fd) : session_(session), fd_(fd) {}

  // Byte by byte, for chunk-size lines: through the session's buffer, refilled as Poco does.
  int Get() override {
    try {
      int c = SessionAccess::Get(session_);
      return c == std::char_traits<char>::eof() ? -1 : c;
    } catch (const Poco::Exception&) {
      return -1;  // the receive timed out or failed
    }
  }

  long Read(char* dst, size_t max) override {
    int buffered = SessionAccess::Buffered(session_);
    if (buffered > 0) {
      return SessionAccess::Read(session_, dst,
                                 static_cast<std::streamsize>(std::min<size_t>(max, buffered)));
    }
    ssize_t n;
    do {
      n = ::recv(fd_, dst, max, 0);  // the socket's receive timeout bounds the wait
    } while (n < 0 && errno == EINTR);
    return static_cast<long>(n);
  }

 private:
  Poco::Net::HTTPSession& session_;
  int fd_;
};

// Wraps the request body: sends "100 Continue" before the first read when the client asked for
// it, and remembers whether the body was read to its end. A body with a Content-Length is read in
// large pieces (Poco's stream reads 4 KiB per recv: 262,000 calls for a 1 GiB PUT); a chunked one
// goes through ChunkedDecoder, which, unlike Poco's, does not take a connection closed between
// two chunks for the end of the body. A body that ends early or is malformed sets badbit on the
// istream reading it (the streambuf throws; std::istream turns that into badbit).
class BodyStreamBuf : public std::streambuf {
 public:
  enum class Kind { kNone, kLength, kChunked };

  BodyStreamBuf(Kind kind, HTTPServerResponse& response, bool expect_continue,
                Poco::Net::HTTPSession& session, int fd, int64_t length)
      : kind_(kind),
        response_(response),
        expect_continue_(expect_continue),
        source_(session, fd),
        chunked_(source_),
        remaining_(length) {}

  bool continue_sent() const { return continue_sent_; }
  bool at_end() const { return at_end_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    std::streamsize n = ReadSome(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    if (n < 0) throw BodyError();
    if (n == 0) return traits_type::eof();
    setg(buf_.data(), buf_.data(), buf_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

  std::streamsize xsgetn(char* s, std::streamsize count) override {
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
      // Large reads go straight into the caller's buffer.
      std::streamsize n = ReadSome(s + done, count - done);
      // Even with bytes already copied: a short count alone would read as the end of the body
      // (eofbit), and a caller would never look again to find the error.
      if (n < 0) throw BodyError();
      if (n == 0) break;
      done += n;
    }
    return done;
  }

 private:
  struct BodyError : std::runtime_error {
    BodyError() : std::runtime_error("request body cut off or malformed") {}
  };

  // Up to `max` body bytes into `dst`: > 0 read, 0 at the end, -1 on an error (the client went
  // away or timed out before the body was complete, or a malformed chunked coding).
  std::streamsize ReadSome(char* dst, std::streamsize max) {
    if (failed_) return -1;
    if (kind_ == Kind::kNone || at_end_) {
      at_end_ = true;
      return 0;
    }
    if (expect_continue_ && !continue_sent_) {
      response_.sendContinue();
      continue_sent_ = true;
    }
    long n;
    if (kind_ == Kind::kChunked) {
      n = chunked_.Read(dst, static_cast<size_t>(max));
      if (n == 0) at_end_ = true;
      if (n < 0) Log().information("request body: %s", chunked_.error());
    } else {
      if (remaining_ <= 0) {
        at_end_ = true;
        return 0;
      }
      n = source_.Read(dst, static_cast<size_t>(std::min<int64_t>(max, remaining_)));
      if (n <= 0) n = -1;  // EOF before Content-Length, an error, or the receive timeout
      if (n > 0) {
        remaining_ -= n;
        if (remaining_ == 0) at_end_ = true;
      }
    }
    if (n < 0) failed_ = true;
    return n;
  }

  Kind kind_;
  HTTPServerResponse& response_;
  bool expect_continue_;
  SessionSource source_;
  ChunkedDecoder chunked_;
  int64_t remaining_;
  bool continue_sent_ = false;
  bool at_end_ = false;
  bool failed_ = false;
  std::vector<char> buf_ = std::vector<char>(64 * 1024);
};

// A request refused before its body was read (a 423 to a PUT, say) closes the connection. If it
// closed with the body still arriving, the kernel would answer with a reset, and a client still
// sending (Windows and Office send whole bodies without Expect: 100-continue) would see the
// reset instead of the answer. So: stop writing, then read and drop what still comes, for a
// bounded time and amount (Apache's "lingering close"), before Poco closes the socket.
void LingeringClose(int fd) {
  constexpr int kMaxMillis = 2000;
  constexpr size_t kMaxBytes = 256u << 20;
  ::shutdown(fd, SHUT_WR);
  std::vector<char> sink(64 * 1024);
  size_t dropped = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kMaxMillis);
  while (dropped < kMaxBytes) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    ssize_t n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    dropped += static_cast<size_t>(n);
  }
}

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
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version. Poco splits the line
    // on whitespace and does not check the version, so a client that left a space unencoded
    // ("MKCOL /New folder HTTP/1.1") would have keepdav act on "/New". Refuse it (§3: 400).
    if (request.getVersion() != Poco::Net::HTTPMessage::HTTP_1_1 &&
        request.getVersion() != Poco::Net::HTTPMessage::HTTP_1_0) {
      Log().information("%s %s: malformed request line (HTTP version '%s')", request.getMethod(),
                        request.getURI(), request.getVersion());
      response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);  // Poco would echo the bad one
      response.setStatusAndReason(HTTPResponse::HTTP_BAD_REQUEST);
      response.setKeepAlive(false);
      response.setContentLength(0);
      response.send();
      return;
    }
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
    // would otherwise read such a body until the connection closes. Poco's own body stream is
    // never used: BodyStreamBuf reads the session directly.
    auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
    BodyStreamBuf::Kind kind = !dav.HasBody() ? BodyStreamBuf::Kind::kNone
                               : dav.chunked  ? BodyStreamBuf::Kind::kChunked
                                              : BodyStreamBuf::Kind::kLength;
    BodyStreamBuf body_buf(kind, response, request.getExpectContinue() && dav.HasBody(),
                           impl.session(), impl.socket().impl()->sockfd(), dav.content_length);
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
    if (!response.getKeepAlive() && dav.HasBody() && !body_buf.at_end()) {
      LingeringClose(impl.socket().impl()->sockfd());
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
    bool failed = dav.body->bad();
    out->str(std::move(data));
    if (failed) out->setstate(std::ios::badbit);  // the handler answers 400 as it would inline
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
