// TlsWire: the Wire of an HTTPS connection, over the Poco::Net::SecureStreamSocket that Poco's
// server accepted from a SecureServerSocket (TlsContext). The HTTP engine parses the request
// head through the same socket; this is what keepdav reads and writes after that.
//
// Handshake: Poco's SecureServerSocket only sets the accepted socket to accept state; the TLS
// handshake runs lazily at the first read or write, i.e. on the pool thread that serves the
// connection, never on the acceptor thread (tests/server/tls_wire_test.cc checks this).
//
// Write sends the iovec pieces as few TLS records as cheaply possible: pieces are gathered into
// one 16 KiB buffer (a record's payload) so that the response head and the first body bytes go
// in one record and one send, and whole 16 KiB records of a large piece go straight to SSL_write
// from the caller's memory (a Write makes at most one record more than its size needs). SendFile
// reads the file with pread in pieces of at most 64 KiB and writes each (never the whole file
// in memory; the buffer lives only during the call, so idle connections hold none).
//
// Errors follow wire.h: Write throws std::runtime_error (client gone, TLS error, send timeout),
// SendFile returns false, Read returns 0 at the end of the stream (close_notify, or the TCP
// connection closed without one, as most clients do) and -1 with errno set otherwise (EAGAIN on
// the receive timeout, ECONNRESET on a TLS error). No Poco exception leaves this class.
// Ending a connection: Poco's socket sends a close_notify itself when it closes (SSL_shutdown once,
// then TCP shutdown: Connection: close, the keep-alive timeout, server stop). The one end Poco
// cannot do is the lingering close (http_adapter.cc): close_notify and SHUT_WR only, with the
// reading side kept open to drop an unread body; Poco's shutdown() would also shut the reading
// side, and it exposes no SSL*. So ShutdownSend finds the connection's SSL* through
// TrackConnections, which TlsContext installs on its SSL_CTX (an info callback records each
// handshake's SSL* by descriptor; an ex_data free callback forgets it when Poco frees it).
// tests/interop/tls_https.sh checks every one of these endings with a strict client.
// Thread safety: as Wire (one caller at a time; the InterimGate serialises the 102 watcher and
// the request's thread, which share one SSL*).
#pragma once

#include <Poco/Net/SecureStreamSocket.h>

#include <memory>

#include "server/wire.h"

namespace Poco::Net {
class Socket;
}
struct ssl_ctx_st;

namespace keepdav::server {

class TlsWire : public Wire {
 public:
  // Largest piece SendFile reads and writes at once.
  static constexpr size_t kFilePieceBytes = 64 * 1024;
  // Writes up to this size are gathered into one TLS record.
  static constexpr size_t kRecordBytes = 16 * 1024;

  // The TLS wire of `socket` if its implementation is a TLS one (accepted from a
  // SecureServerSocket), else null: the caller then uses a plain wire.
  static std::unique_ptr<TlsWire> ForSocket(const Poco::Net::Socket& socket);

  explicit TlsWire(Poco::Net::SecureStreamSocket socket);

  int fd() const override;
  void Write(const ::iovec* iov, int count, bool more) override;
  bool SendFile(int file_fd, uint64_t offset, uint64_t length) override;
  long Read(char* dst, size_t max) override;
  void ShutdownSend() override;
  bool secure() const override { return true; }

  // Records the SSL* of every handshake on `ctx` by descriptor, for ShutdownSend. Call once per
  // SSL_CTX, before it serves. Thread-safe.
  static void TrackConnections(ssl_ctx_st* ctx);

 private:
  // sendBytes until all of [data, data + size) is sent. Throws std::runtime_error.
  void SendAll(const char* data, size_t size);
  Poco::Net::SecureStreamSocket socket_;
};

}  // namespace keepdav::server
