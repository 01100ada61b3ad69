// TlsWire over a real TLS connection: curl handshakes with TLS 1.2 and 1.3 and verifies the
// chain against the test CA; the handshake runs at the first read, not in accept; small writes
// leave as one TLS record; SendFile and large writes arrive intact (sha256); and a certificate
// reload shows the new certificate to new handshakes while an open keep-alive connection keeps
// working; ShutdownSend (the lingering close) sends a close_notify and keeps reading.
#include "server/tls_wire.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>

#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "server/tls_context.h"
#include "tests/server/tls_test_support.h"
#include "tests/time_factor.h"

namespace keepdav::server {
namespace {

using testing::CommandResult;
using testing::ReadFileBytes;
using testing::RunCommand;
using testing::Sha256Hex;
using testing::TlsLib;
using testing::TlsTempDir;
using testing::TlsTestClient;
using testing::TlsTestServer;
using testing::WriteFileBytes;

class TlsWireTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::signal(SIGPIPE, SIG_IGN);  // a client gone: EPIPE, not the end of the test
    certs_ = new TlsTempDir();
    const std::string& dir = certs_->path();
    ASSERT_TRUE(TlsLib("tls_make_ca", {dir}));
    ASSERT_TRUE(TlsLib("tls_make_server_cert", {dir, "server"}));
    ASSERT_TRUE(TlsLib("tls_make_server_cert", {dir, "renewed", "renewed"}));
    ASSERT_TRUE(TlsLib("tls_make_chain_cert", {dir, "chained", "chained"}));
    // 5 MiB and a bit, random: many 64 KiB pieces and a short last one.
    std::mt19937 random(42);
    std::string data(5 * 1024 * 1024 + 4321, '\0');
    for (char& c : data) c = static_cast<char>(random());
    WriteFileBytes(certs_->File("large.bin"), data);
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  static std::string Cert(const std::string& name) { return certs_->File(name + ".pem"); }
  static std::string Key(const std::string& name) { return certs_->File(name + ".key"); }
  static std::string Ca() { return certs_->File("ca.pem"); }
  static std::string LargeFile() { return certs_->File("large.bin"); }

  static std::unique_ptr<TlsContext> MustCreate(const std::string& cert, const std::string& key) {
    auto created = TlsContext::Create(cert, key);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::move(created.value()) : nullptr;
  }

  // curl over https://localhost:port/path trusting only the test CA; -v shows the handshake.
  static CommandResult Curl(uint16_t port, const std::string& path, const std::string& options) {
    return RunCommand("curl -sS -v --cacert '" + Ca() + "' " + options +
                      " https://localhost:" + std::to_string(port) + path);
  }

  static TlsTempDir* certs_;
  TlsTempDir scratch_;
};

TlsTempDir* TlsWireTest::certs_ = nullptr;

TEST_F(TlsWireTest, CurlHandshakesWithTls12AndTls13) {
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  TlsTestServer server(tls->context(), LargeFile());
  CommandResult tls12 = Curl(server.port(), "/hello", "--tlsv1.2 --tls-max 1.2");
  EXPECT_EQ(tls12.exit_code, 0) << tls12.output;
  EXPECT_NE(tls12.output.find("SSL connection using TLSv1.2 / ECDHE-ECDSA-AES"), std::string::npos)
      << tls12.output;
  EXPECT_NE(tls12.output.find("hello over TLS\n"), std::string::npos);
  CommandResult tls13 = Curl(server.port(), "/hello", "--tlsv1.3");
  EXPECT_EQ(tls13.exit_code, 0) << tls13.output;
  EXPECT_NE(tls13.output.find("SSL connection using TLSv1.3 / TLS_"), std::string::npos)
      << tls13.output;
  EXPECT_NE(tls13.output.find("hello over TLS\n"), std::string::npos);
  // Not an artefact of a lax client: without the CA, curl refuses the certificate.
  CommandResult untrusted =
      RunCommand("curl -sS https://localhost:" + std::to_string(server.port()) + "/hello");
  EXPECT_EQ(untrusted.exit_code, 60) << untrusted.output;
}

TEST_F(TlsWireTest, TheCertificateFileSendsItsChain) {
  // The leaf is signed by an intermediate curl does not have: only a server that sends the
  // intermediate (second in chained.pem) can be verified against the root.
  auto tls = MustCreate(Cert("chained"), Key("chained"));
  ASSERT_TRUE(tls);
  TlsTestServer server(tls->context(), LargeFile());
  CommandResult result = Curl(server.port(), "/hello", "");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("subject: CN=chained"), std::string::npos) << result.output;
}

// Where the server side of the handshake finished (SSL_CTX_set_info_callback).
std::atomic<bool> server_handshake_done{false};
std::mutex handshake_mutex;
std::thread::id server_handshake_thread;
void RecordHandshake(const SSL* ssl, int where, int) {
  if ((where & SSL_CB_HANDSHAKE_DONE) != 0 && SSL_is_server(const_cast<SSL*>(ssl)) == 1) {
    std::lock_guard<std::mutex> lock(handshake_mutex);
    server_handshake_thread = std::this_thread::get_id();
    server_handshake_done = true;
  }
}

TEST_F(TlsWireTest, HandshakeRunsAtTheFirstReadNotInAccept) {
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  SSL_CTX_set_info_callback(tls->context()->sslContext(), RecordHandshake);
  server_handshake_done = false;
  Poco::Net::SecureServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0), 8,
                                         tls->context());
  // A TCP client that sends no ClientHello yet: accept must not wait for one.
  Poco::Net::StreamSocket silent(listener.address());
  auto before = std::chrono::steady_clock::now();
  Poco::Net::StreamSocket accepted = listener.acceptConnection();
  auto took = std::chrono::steady_clock::now() - before;
  EXPECT_LT(took, keepdav::test_support::Scaled(std::chrono::milliseconds(500)));
  std::unique_ptr<TlsWire> wire = TlsWire::ForSocket(accepted);
  ASSERT_TRUE(wire);
  EXPECT_TRUE(wire->secure());
  EXPECT_EQ(wire->fd(), static_cast<int>(accepted.impl()->sockfd()));
  EXPECT_FALSE(server_handshake_done);
  // Now the client starts TLS on that connection: the handshake happens inside Read, on this
  // thread, and Read returns the byte the client sends after it.
  // The client stays connected until the server has read (closing with the server's session
  // tickets unread would reset the connection under the server's read).
  std::promise<void> read_done;
  std::thread client([&silent, done = read_done.get_future()] {
    Poco::Net::Context::Ptr trusting = new Poco::Net::Context(
        Poco::Net::Context::TLS_CLIENT_USE, "", "", Ca(), Poco::Net::Context::VERIFY_RELAXED);
    Poco::Net::SecureStreamSocket tls_client =
        Poco::Net::SecureStreamSocket::attach(silent, "localhost", trusting);
    tls_client.sendBytes("x", 1);
    done.wait();
  });
  accepted.setReceiveTimeout(Poco::Timespan(10, 0));
  char byte = 0;
  long n = wire->Read(&byte, 1);
  read_done.set_value();
  client.join();
  EXPECT_EQ(n, 1) << "errno " << errno;
  EXPECT_EQ(byte, 'x');
  EXPECT_TRUE(server_handshake_done);
  std::lock_guard<std::mutex> lock(handshake_mutex);
  EXPECT_EQ(server_handshake_thread, std::this_thread::get_id());
}

// The lingering close over TLS (http_adapter.cc): ShutdownSend sends a close_notify after the
// answer (the client reads the answer, then a clean end: Poco returns 0 rather than throwing
// SSLConnectionUnexpectedlyClosedException for a bare TCP close) and only shuts the sending
// side, so what the client still sends can be read and dropped.
TEST_F(TlsWireTest, ShutdownSendSendsCloseNotifyAndKeepsTheReadingSideOpen) {
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  Poco::Net::SecureServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0), 8,
                                         tls->context());
  std::promise<std::string> client_saw;
  std::promise<void> server_read;
  std::thread client([&, port = listener.address().port()] {
    std::string saw;
    try {
      Poco::Net::Context::Ptr trusting = new Poco::Net::Context(
          Poco::Net::Context::TLS_CLIENT_USE, "", "", Ca(), Poco::Net::Context::VERIFY_RELAXED);
      Poco::Net::SecureStreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port), "localhost",
                                           trusting);
      socket.setReceiveTimeout(Poco::Timespan(10, 0));
      socket.sendBytes("x", 1);
      char buf[64];
      for (int n; (n = socket.receiveBytes(buf, sizeof buf)) > 0;) saw.append(buf, n);
      saw += "|end";
      socket.sendBytes("more body", 9);  // after the server's close_notify: still read
      client_saw.set_value(saw);
      server_read.get_future().wait();
    } catch (const Poco::Exception& e) {
      client_saw.set_value(saw + "|" + e.className());
    }
  });
  Poco::Net::StreamSocket accepted = listener.acceptConnection();
  accepted.setReceiveTimeout(Poco::Timespan(10, 0));
  std::unique_ptr<TlsWire> wire = TlsWire::ForSocket(accepted);
  ASSERT_TRUE(wire);
  char byte = 0;
  ASSERT_EQ(wire->Read(&byte, 1), 1);
  const char answer[] = "answer";
  ::iovec piece = {const_cast<char*>(answer), 6};
  wire->Write(&piece, 1, false);
  wire->ShutdownSend();
  std::string saw = client_saw.get_future().get();
  // The drain reads the raw bytes (a TLS record of the client's body).
  char raw[256];
  ssize_t n = ::recv(wire->fd(), raw, sizeof raw, 0);
  server_read.set_value();
  client.join();
  EXPECT_EQ(saw, "answer|end");
  EXPECT_GT(n, 0) << "errno " << errno;
}

TEST_F(TlsWireTest, APlainSocketGetsNoTlsWire) {
  Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));
  Poco::Net::StreamSocket client(listener.address());
  Poco::Net::StreamSocket accepted = listener.acceptConnection();
  EXPECT_EQ(TlsWire::ForSocket(accepted), nullptr);
}

// Counts the application-data records the server writes (TLS 1.2: after the handshake every
// record of type 23 is application data).
std::atomic<int> application_records{0};
void CountRecords(int write_p, int, int content_type, const void* buf, size_t len, SSL*, void*) {
  if (write_p == 1 && content_type == SSL3_RT_HEADER && len >= 1 &&
      static_cast<const unsigned char*>(buf)[0] == SSL3_RT_APPLICATION_DATA) {
    ++application_records;
  }
}

TEST_F(TlsWireTest, HeadAndSmallBodyLeaveAsOneRecord) {
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  SSL_CTX_set_msg_callback(tls->context()->sslContext(), CountRecords);
  TlsTestServer server(tls->context(), LargeFile());
  application_records = 0;
  CommandResult result = Curl(server.port(), "/hello", "--tlsv1.2 --tls-max 1.2");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(application_records, 1);
  // 100,005 bytes and a head in four pieces: full 16 KiB records, not one per piece.
  application_records = 0;
  std::string out = scratch_.File("write.out");
  result = Curl(server.port(), "/write", "--tlsv1.2 --tls-max 1.2 -o '" + out + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(Sha256Hex(ReadFileBytes(out)), Sha256Hex(TlsTestServer::WriteBody()));
  // The head "HTTP/1.1 200 OK\r\nContent-Length: 100005\r\n\r\n" is 43 bytes.
  EXPECT_EQ(application_records, (43 + 100005 + 16383) / 16384);
}

TEST_F(TlsWireTest, SendFileOfALargeFileArrivesIntact) {
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  TlsTestServer server(tls->context(), LargeFile());
  const std::string whole = scratch_.File("file.out"), part = scratch_.File("part.out");
  // Two requests on one keep-alive connection: the first response ends exactly where it should.
  CommandResult result =
      Curl(server.port(), "/file-part",
           "-o '" + whole + "' https://localhost:" + std::to_string(server.port()) + "/file -o '" +
               part + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("Re-using existing connection"), std::string::npos) << result.output;
  const std::string data = ReadFileBytes(LargeFile());
  EXPECT_EQ(Sha256Hex(ReadFileBytes(whole)), Sha256Hex(data));
  EXPECT_EQ(Sha256Hex(ReadFileBytes(part)), Sha256Hex(data.substr(12345, data.size() - 12352)));
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST_F(TlsWireTest, ReloadShowsTheNewCertificateToNewHandshakesOnly) {
  const std::string cert = scratch_.File("cert.pem"), key = scratch_.File("key.pem");
  WriteFileBytes(cert, ReadFileBytes(Cert("server")));
  WriteFileBytes(key, ReadFileBytes(Key("server")));
  auto tls = MustCreate(cert, key);
  ASSERT_TRUE(tls);
  TlsTestServer server(tls->context(), LargeFile());

  TlsTestClient open_connection(server.port(), Ca());
  EXPECT_EQ(open_connection.Get("/hello"), "hello over TLS\n");
  EXPECT_EQ(open_connection.PeerCommonName(), "localhost");

  WriteFileBytes(cert, ReadFileBytes(Cert("renewed")));
  WriteFileBytes(key, ReadFileBytes(Key("renewed")));
  ASSERT_TRUE(tls->Reload().ok());

  // The open keep-alive connection keeps working, on the certificate it negotiated.
  EXPECT_EQ(open_connection.Get("/hello"), "hello over TLS\n");
  EXPECT_EQ(open_connection.PeerCommonName(), "localhost");
  EXPECT_EQ(server.connections_accepted(), 1);
  // A new handshake shows the new certificate: compare fingerprints with the file's.
  const std::string fingerprint_command =
      "openssl s_client -connect 127.0.0.1:" + std::to_string(server.port()) + " -CAfile '" + Ca() +
      "' -verify_return_error 2>/dev/null | openssl x509 -noout "
      "-fingerprint -sha256";
  CommandResult expected =
      RunCommand("openssl x509 -in '" + Cert("renewed") + "' -noout -fingerprint -sha256");
  CommandResult shown = RunCommand(fingerprint_command);
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_EQ(shown.output, expected.output);
  EXPECT_EQ(TlsTestClient(server.port(), Ca()).PeerCommonName(), "renewed");

  // A bad new file: Reload fails, the renewed pair stays for new handshakes.
  WriteFileBytes(cert, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
  EXPECT_FALSE(tls->Reload().ok());
  EXPECT_EQ(RunCommand(fingerprint_command).output, expected.output);
  EXPECT_EQ(open_connection.Get("/hello"), "hello over TLS\n");
}

}  // namespace
}  // namespace keepdav::server
