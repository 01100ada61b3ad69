// Test support for the HTTPS pieces (server/tls_context.h, server/tls_wire.h), with no other part
// of keepdav: certificates from tests/interop/tls_lib.sh, a tiny TLS server that answers a few
// fixed GETs through TlsWire, a keep-alive TLS client, and running openssl/curl as clients.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace keepdav::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TlsTempDir {
 public:
  TlsTempDir();
  ~TlsTempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` with /bin/sh, stdin from /dev/null.
CommandResult RunCommand(const std::string& command);

// Runs a tls_lib.sh function (tests/interop/tls_lib.sh): e.g. TlsLib("tls_make_ca", {dir}).
// Fails the test (ADD_FAILURE) when it exits non-zero.
bool TlsLib(const std::string& function, const std::vector<std::string>& args);

// Hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);
std::string ReadFileBytes(const std::string& path);
void WriteFileBytes(const std::string& path, const std::string& data);

// Serves on 127.0.0.1 (ephemeral port) over TLS with `context`: one acceptor thread, one
// thread per connection, every byte after accept through a TlsWire. Requests are GETs (heads
// only, keep-alive); answers:
//   /hello      200 "hello over TLS\n" (head and body as two iovec pieces in one Write)
//   /write      200, a 100,005-byte body written from memory as three iovec pieces
//   /file       200, the whole of `file` through SendFile
//   /file-part  200, `file` from byte 12,345 to 7 bytes before its end, through SendFile
//   else        404
class TlsTestServer {
 public:
  TlsTestServer(Poco::Net::Context::Ptr context, std::string file);
  ~TlsTestServer();  // stops accepting, ends every connection, joins the threads
  uint16_t port() const { return port_; }
  int connections_accepted() const { return accepted_; }
  // The body /write sends.
  static std::string WriteBody();

 private:
  void Accept();
  void Serve(Poco::Net::StreamSocket connection);
  void ServeRequests(Poco::Net::StreamSocket& connection);
  Poco::Net::SecureServerSocket listener_;
  std::string file_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

// `openssl s_server -accept 127.0.0.1:0 -www ARGS...` in the background (output to `log`), for
// showing that a client command succeeds against a permissive server. Killed on destruction.
class OpensslServer {
 public:
  OpensslServer(const std::vector<std::string>& args, const std::string& log);
  ~OpensslServer();
  uint16_t port() const { return port_; }

 private:
  std::string log_;
  int pid_ = -1;
  uint16_t port_ = 0;
};

// A TLS client on one keep-alive connection to 127.0.0.1:port, trusting only `ca_file`.
class TlsTestClient {
 public:
  TlsTestClient(uint16_t port, const std::string& ca_file);
  // GET `path` on this connection: the body of a 200, or "" (and a test failure) otherwise.
  std::string Get(const std::string& path);
  // The subject common name of the certificate this connection's handshake showed.
  std::string PeerCommonName();

 private:
  Poco::Net::SecureStreamSocket socket_;
  std::string pending_;
};

}  // namespace keepdav::testing
