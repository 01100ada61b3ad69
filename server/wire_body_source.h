// WireBodySource: the bytes of a request body as they arrive on one connection, for the
// ChunkedDecoder and the Content-Length reader of the HTTP adapter.
//
// Poco's HTTPServerSession reads the request head through a 4 KiB buffer, so the first bytes of
// the body (and, when the client pipelines, of the requests behind it) may already sit there.
// This source takes bytes from that buffer first and reads through the Wire only once it is
// empty, and never asks for more than the caller wants: bytes past the body stay in Poco's
// buffer for the next request on the connection. (HTTPSession::drainBuffer would take the whole
// buffer, a pipelined request included, and Poco offers no way to put bytes back; its buffered()
// and read() are protected, so the .cc reaches them through a member pointer.)
//
// Bodies are never read through HTTPServerRequest::stream(): Poco 1.11's HTTPChunkedStreamBuf
// takes a connection closed where a chunk-size line should be, inside one, or inside chunk data
// for a normal end of body (fixed only in 1.15.0, pocoproject/poco PR #5112), and its
// fixed-length stream ends a short body silently as well.
//
// Not thread-safe; one per request, used by the request's thread only. Holds references only.
#pragma once

#include <Poco/Net/HTTPSession.h>

#include "server/chunked_decoder.h"
#include "server/wire.h"

namespace keepdav::server {

class WireBodySource : public ChunkedDecoder::Source {
 public:
  WireBodySource(Poco::Net::HTTPSession& session, Wire& wire) : session_(session), wire_(wire) {}

  // ChunkedDecoder::Source. Blocking, bounded by the socket's receive timeout; -1 / <= 0 when
  // the client closed the connection, the timeout passed or the connection failed.
  int Get() override;
  long Read(char* dst, size_t max) override;

  // Writes "HTTP/1.1 100 Continue" through the Wire. False when the client is gone.
  bool SendContinue();

 private:
  Poco::Net::HTTPSession& session_;
  Wire& wire_;
};

}  // namespace keepdav::server
