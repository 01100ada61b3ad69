#include "server/http_adapter.h"

#include "server/access_log.h"
#include "server/chunked_decoder.h"
#include "server/wire_response_sink.h"
#include "storage/postgres/pg_connection.h"
#include "webdav/dav_response.h"

#include <Poco/Logger.h>
#include <Poco/Timestamp.h>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <vector>

namespace keepdav::server {

namespace {

// Looked up once: Logger::get takes a global mutex and a map lookup (~400 instructions a
// request). Loggers live until Logger::shutdown, after every server thread has stopped.
Poco::Logger& Log() {
  static Poco::Logger& logger = Poco::Logger::get("keepdav.http");
  return logger;
}

// The body stream of a request without a body: one per thread, reused (its state cleared per
// request), since constructing a std::istream costs ~1,000 instructions of locale set-up, as
// much as the rest of the adapter's per-request work. A connection's requests run one at a time
// on its thread, so no two requests share it.
std::istream& EmptyBody() {
  struct Empty : std::streambuf {};  // underflow() is eof: never a byte
  thread_local Empty buf;
  thread_local std::istream stream(&buf);
  stream.clear();
  return stream;
}

// Wraps the request body: sends "100 Continue" before the first read when the client asked for
// it, and remembers whether the body was read to its end. A body with a Content-Length is read in
// large pieces (Poco's stream reads 4 KiB per recv: 262,000 calls for a 1 GiB PUT); a chunked one
// goes through ChunkedDecoder, which, unlike Poco's, does not take a connection closed between
// two chunks for the end of the body. A body that ends early or is malformed sets badbit on the
// istream reading it (the streambuf throws; std::istream turns that into badbit).
class BodyStreamBuf : public std::streambuf {
 public:
  enum class Kind { kNone, kLength, kChunked };

  BodyStreamBuf(Kind kind, WireBodySource& source, bool expect_continue, int64_t length)
      : kind_(kind),
        source_(source),
        expect_continue_(expect_continue),
        chunked_(source),
        remaining_(length) {}

  bool continue_sent() const { return continue_sent_; }
  bool at_end() const { return at_end_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (buf_.empty()) buf_.resize(16 * 1024);  // only for byte-wise reads; large ones bypass it
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
      continue_sent_ = true;
      if (!source_.SendContinue()) {
        failed_ = true;
        return -1;
      }
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
  WireBodySource& source_;
  bool expect_continue_;
  ChunkedDecoder chunked_;
  int64_t remaining_;
  bool continue_sent_ = false;
  bool at_end_ = false;
  bool failed_ = false;
  std::vector<char> buf_;
};

// A request refused before its body was read (a 423 to a PUT, say) closes the connection. If it
// closed with the body still arriving, the kernel would answer with a reset, and a client still
// sending (Windows and Office send whole bodies without Expect: 100-continue) would see the
// reset instead of the answer. So: stop writing, then read and drop what still comes, for a
// bounded time and amount (Apache's "lingering close"), before the socket is closed. Over TLS
// the sending side ends with a close_notify (Wire::ShutdownSend); what is dropped is read raw.
void LingeringClose(Wire& wire) {
  constexpr int kMaxMillis = 2000;
  constexpr size_t kMaxBytes = 256u << 20;
  const int fd = wire.fd();
  wire.ShutdownSend();
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
bool DrainUnreadBody(const RequestFraming& framing, const webdav::DavRequest& dav,
                     const BodyStreamBuf& body) {
  if (!dav.HasBody() || body.at_end()) return true;
  bool client_waits = framing.expect_continue && !body.continue_sent();
  if (!client_waits && dav.content_length >= 0 && dav.content_length <= 64 * 1024) {
    char buf[4096];
    while (dav.body->read(buf, sizeof buf) || dav.body->gcount() > 0) {
    }
    if (body.at_end()) return true;
  }
  return false;
}

}  // namespace

bool HttpAdapter::Serve(Wire& wire, WireBodySource& source, webdav::DavRequest& dav,
                        const RequestFraming& framing, const AuthDecision* refusal) const {
  Poco::Timestamp started;
  const int64_t db_round_trips_before = storage::PgRoundTripsOnThisThread();
  BodyStreamBuf::Kind kind = !dav.HasBody() ? BodyStreamBuf::Kind::kNone
                             : dav.chunked  ? BodyStreamBuf::Kind::kChunked
                                            : BodyStreamBuf::Kind::kLength;
  BodyStreamBuf body_buf(kind, source, framing.expect_continue && dav.HasBody(),
                         dav.content_length);
  std::optional<std::istream> body;
  if (dav.HasBody()) {
    dav.body = &body.emplace(&body_buf);
  } else {
    dav.body = &EmptyBody();
  }
  webdav::Progress progress;
  dav.progress = &progress;

  std::optional<std::istringstream> whole_body;  // built only when needed (locale set-up)
  std::shared_ptr<InterimGate> gate;             // shared with the watcher of a long operation
  LongOperations::Ticket watch;
  WireResponseSink* sink_ptr = nullptr;
  WireResponseSink sink(wire, framing.keep_alive, dav.http10, dav.method == "HEAD", [&] {
    if (gate) gate->MarkFinal();
    if (!DrainUnreadBody(framing, dav, body_buf)) {
      sink_ptr->set_keep_alive(false);
    }
  });
  sink_ptr = &sink;
  if (long_ops_) {
    // Work that grows with a tree or a file (Progress::BeginLong) is watched from that point on,
    // whether or not the client may get "102 Processing": the watcher also notices a hang-up.
    progress.set_on_begin_long([&] { watch = StartWatching(dav, wire, sink, &whole_body, &gate); });
  }
  CorsPolicy::Verdict cors;
  if (cors_ != nullptr) {
    cors = cors_->Evaluate(dav);
    sink.set_cors(cors_, cors);
  }
  try {
    if (cors.preflight) {
      SendPreflight(dav, cors, sink);
    } else if (refusal != nullptr && refusal->status != 0) {
      SendRefusal(dav, *refusal, sink);
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
    sink.set_keep_alive(false);
  }
  if (watch) LogLongOperation(dav, sink, long_ops_->Finish(watch), started);
  if (access_log_ != nullptr) LogAccess(dav, sink, started);
  if (!sink.keep_alive() && dav.HasBody() && !body_buf.at_end()) {
    LingeringClose(wire);
  }
  if (Log().debug()) {
    // The request's database calls ran on this thread (a long operation's worker thread is not
    // counted: COPY/MOVE/DELETE past the long-operation threshold show only their start).
    std::string db;
    if (log_db_round_trips_) {
      db = " db=" + std::to_string(storage::PgRoundTripsOnThisThread() - db_round_trips_before);
    }
    Log().debug("%s %s %d %Ldus%s", dav.method, dav.target, sink.status(),
                static_cast<Poco::Int64>(started.elapsed()), db);
  }
  return sink.keep_alive();
}

// Runs the handler; a handler that sends nothing still produces a response.
void HttpAdapter::Handle(webdav::DavRequest& dav, WireResponseSink& sink) const {
  handler_.Handle(dav, sink);
  if (!sink.sent()) {
    Log().error("%s %s: handler sent no response", dav.method, dav.target);
    sink.SetStatus(500);
    sink.SendEmpty();
  }
  sink.Finish();
}

void HttpAdapter::SendRefusal(const webdav::DavRequest& dav, const AuthDecision& refusal,
                              WireResponseSink& sink) {
  // Through WriteResponse, the one writer of responses; HEAD and an empty body get none.
  webdav::DavResponse response =
      refusal.body.empty() || sink.head_only()
          ? webdav::DavResponse::Empty(refusal.status)
          : webdav::DavResponse::Text(refusal.status, "text/plain; charset=utf-8", refusal.body);
  if (refusal.status == 429)
    response.AddHeader("Retry-After", std::to_string(refusal.retry_after_s));
  webdav::WriteResponse(dav, std::move(response), sink);
  sink.Finish();
}

// A CORS preflight (cors.h), before authentication: 204 with the Allow-* headers for an allowed
// origin, 403 for another (the sink adds the Allow-Origin group and Vary).
void HttpAdapter::SendPreflight(const webdav::DavRequest& dav, const CorsPolicy::Verdict& verdict,
                                WireResponseSink& sink) const {
  if (verdict.kind != CorsPolicy::Kind::kAllowed) {
    Log().information("CORS preflight %s %s from %s: origin '%s' is not in --cors-origins (403)",
                      dav.method, dav.target, dav.client_address, std::string(verdict.origin));
    webdav::WriteResponse(dav, webdav::DavError::Make(403, "origin not allowed (--cors-origins)"),
                          sink);
  } else {
    webdav::DavResponse response = webdav::DavResponse::Empty(204);
    for (auto& [name, value] : cors_->PreflightHeaders()) response.AddHeader(name, value);
    webdav::WriteResponse(dav, std::move(response), sink);
  }
  sink.Finish();
}

void HttpAdapter::LogAccess(const webdav::DavRequest& dav, const WireResponseSink& sink,
                            const Poco::Timestamp& started) const {
  AccessRecord record;
  record.client = dav.client_address;
  record.user = dav.user;
  record.start_us = started.epochMicroseconds();
  record.method = dav.method;
  record.target = dav.target;
  record.version = dav.http10 ? "HTTP/1.0" : "HTTP/1.1";
  record.status = sink.status();
  record.body_bytes = sink.body_bytes();
  record.referer = dav.Header("Referer");
  record.user_agent = dav.Header("User-Agent");
  record.duration_us = started.elapsed();
  access_log_->Write(record);
}

// Reads the whole (small) body into `out` and points the request at it, so the connection is
// quiet on the reading side before any 102 goes out. False when the body is too large for that;
// the request then runs inline without 102s.
bool HttpAdapter::ReadWholeBody(webdav::DavRequest& dav, std::istringstream* out) const {
  constexpr int64_t kMaxPreRead = 4 << 20;
  if (dav.content_length > kMaxPreRead) return false;
  std::string data;
  char buf[16384];
  while (static_cast<int64_t>(data.size()) <= kMaxPreRead &&
         dav.body->read(buf, sizeof buf).gcount() > 0) {
    data.append(buf, static_cast<size_t>(dav.body->gcount()));
  }
  if (static_cast<int64_t>(data.size()) > kMaxPreRead) {
    // A chunked body of unknown size that turned out large: the part read cannot be given back,
    // so hand the handler the prefix it would reject anyway as oversized XML.
    Log().warning("%s %s: request body over %Ld bytes", dav.method, dav.target,
                  static_cast<Poco::Int64>(kMaxPreRead));
  }
  bool failed = dav.body->bad();
  out->str(std::move(data));
  if (failed) out->setstate(std::ios::badbit);  // the handler answers 400 as it would inline
  dav.body = out;
  return true;
}

LongOperations::Ticket HttpAdapter::StartWatching(webdav::DavRequest& dav, Wire& wire,
                                                  const WireResponseSink& sink,
                                                  std::optional<std::istringstream>* whole_body,
                                                  std::shared_ptr<InterimGate>* gate) const {
  // A 102 must precede the final response; once any of it is out, there is nothing to watch for.
  if (sink.sent()) return nullptr;
  // RFC 2518 §10.1: a 102 only after the complete request, so the rest of the body is read now
  // (the connection is then quiet on the reading side while 102s go out).
  if (dav.HasBody()) {
    whole_body->emplace();
    if (!ReadWholeBody(dav, &**whole_body)) return nullptr;
  }
  *gate = std::make_shared<InterimGate>();
  return long_ops_->Start(*dav.progress, long_ops_->Allowed(dav),
                          LongOperations::CancelOnHangUp(dav.method), wire, *gate);
}

void HttpAdapter::LogLongOperation(const webdav::DavRequest& dav, const WireResponseSink& sink,
                                   const LongOperations::Outcome& outcome,
                                   const Poco::Timestamp& started) const {
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
}

}  // namespace keepdav::server
