#include "tests/server/tls_test_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/Crypto/X509Certificate.h>
#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timespan.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/tls_wire.h"

#ifndef KEEPDAV_TLS_LIB
#error "KEEPDAV_TLS_LIB: the path of tests/interop/tls_lib.sh"
#endif

namespace keepdav::testing {

TlsTempDir::TlsTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/keepdav-tls.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern;
  path_ = pattern;
}

TlsTempDir::~TlsTempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(("exec </dev/null 2>&1; " + command).c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

bool TlsLib(const std::string& function, const std::vector<std::string>& args) {
  std::string command = std::string("bash '") + KEEPDAV_TLS_LIB + "' " + function;
  for (const std::string& arg : args) command += " '" + arg + "'";
  CommandResult result = RunCommand(command);
  EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.output;
  return result.exit_code == 0;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFileBytes(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

TlsTestServer::TlsTestServer(Poco::Net::Context::Ptr context, std::string file)
    : listener_(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context), file_(std::move(file)) {
  port_ = listener_.address().port();
  acceptor_ = std::thread([this] { Accept(); });
}

TlsTestServer::~TlsTestServer() {
  stopping_ = true;
  acceptor_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::thread& connection : connections_) connection.join();
}

std::string TlsTestServer::WriteBody() {
  std::string body(100000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i * 7 % 26);
  return body + "tail\n";
}

void TlsTestServer::Accept() {
  while (!stopping_) {
    if (!listener_.poll(Poco::Timespan(0, 50 * 1000), Poco::Net::Socket::SELECT_READ)) continue;
    Poco::Net::StreamSocket connection = listener_.acceptConnection();
    ++accepted_;
    std::lock_guard<std::mutex> lock(mutex_);
    connections_.emplace_back([this, connection] { Serve(connection); });
  }
}

namespace {

std::string Head(int status, const char* reason, uint64_t length) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

::iovec Piece(const std::string& text) {
  return ::iovec{const_cast<char*>(text.data()), text.size()};
}

}  // namespace

void TlsTestServer::Serve(Poco::Net::StreamSocket connection) {
  ServeRequests(connection);
  // As Poco's HTTPServerConnection does when a session ends: close() sends close_notify, and
  // only a session closed that way stays in OpenSSL's cache for resumption.
  try {
    connection.close();
  } catch (const Poco::Exception&) {
  }
}

void TlsTestServer::ServeRequests(Poco::Net::StreamSocket& connection) {
  // Short receive timeout: the thread looks at stopping_ between reads.
  connection.setReceiveTimeout(Poco::Timespan(0, 100 * 1000));
  connection.setSendTimeout(Poco::Timespan(10, 0));
  std::unique_ptr<server::TlsWire> wire = server::TlsWire::ForSocket(connection);
  if (!wire) {
    ADD_FAILURE() << "TlsWire::ForSocket: not a TLS socket";
    return;
  }
  std::string received;
  char buffer[4096];
  try {
    while (!stopping_) {
      size_t end = received.find("\r\n\r\n");
      if (end == std::string::npos) {
        long n = wire->Read(buffer, sizeof buffer);
        if (n == 0) return;
        if (n < 0 && errno == EAGAIN) continue;
        if (n < 0) return;
        received.append(buffer, static_cast<size_t>(n));
        continue;
      }
      std::string request = received.substr(0, end);
      received.erase(0, end + 4);
      std::string path = request.substr(4, request.find(' ', 4) - 4);
      if (path == "/hello") {
        std::string body = "hello over TLS\n", head = Head(200, "OK", body.size());
        ::iovec pieces[] = {Piece(head), Piece(body)};
        wire->Write(pieces, 2, false);
      } else if (path == "/write") {
        std::string body = WriteBody();
        std::string head = Head(200, "OK", body.size());
        std::string first = body.substr(0, 3), middle = body.substr(3, body.size() - 8),
                    last = body.substr(body.size() - 5);
        ::iovec pieces[] = {Piece(head), Piece(first), Piece(middle), Piece(last)};
        wire->Write(pieces, 4, false);
      } else if (path == "/file" || path == "/file-part") {
        int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
        uint64_t size = std::filesystem::file_size(file_);
        uint64_t offset = path == "/file" ? 0 : 12345;
        uint64_t length = path == "/file" ? size : size - 12345 - 7;
        std::string head = Head(200, "OK", length);
        ::iovec pieces[] = {Piece(head)};
        wire->Write(pieces, 1, true);
        bool sent = wire->SendFile(fd, offset, length);
        ::close(fd);
        if (!sent) return;
      } else {
        std::string head = Head(404, "Not Found", 0);
        ::iovec pieces[] = {Piece(head)};
        wire->Write(pieces, 1, false);
      }
    }
  } catch (const std::runtime_error&) {
    // The client went away: the connection ends.
  }
}

TlsTestClient::TlsTestClient(uint16_t port, const std::string& ca_file)
    : socket_(Poco::Net::SocketAddress("127.0.0.1", port), "localhost",
              new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", ca_file,
                                     Poco::Net::Context::VERIFY_RELAXED)) {
  socket_.setReceiveTimeout(Poco::Timespan(10, 0));
}

std::string TlsTestClient::Get(const std::string& path) {
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  socket_.sendBytes(request.data(), static_cast<int>(request.size()));
  char buffer[16384];
  size_t end = std::string::npos;
  while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
    int n = socket_.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) {
      ADD_FAILURE() << "connection closed before the response head";
      return "";
    }
    pending_.append(buffer, static_cast<size_t>(n));
  }
  std::string head = pending_.substr(0, end);
  pending_.erase(0, end + 4);
  size_t at = head.find("Content-Length: ");
  size_t length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
  while (pending_.size() < length) {
    int n = socket_.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) {
      ADD_FAILURE() << "connection closed inside the body";
      return "";
    }
    pending_.append(buffer, static_cast<size_t>(n));
  }
  std::string body = pending_.substr(0, length);
  pending_.erase(0, length);
  EXPECT_EQ(head.substr(0, 15), "HTTP/1.1 200 OK") << head;
  return body;
}

OpensslServer::OpensslServer(const std::vector<std::string>& args, const std::string& log)
    : log_(log) {
  std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-www"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (std::string& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (posix_spawnp(&pid_, "openssl", &actions, nullptr, pointers.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  // "ACCEPT 127.0.0.1:PORT" once it listens.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pid_ > 0 && port_ == 0 && std::chrono::steady_clock::now() < deadline) {
    std::string text = ReadFileBytes(log);
    size_t at = text.find("ACCEPT 127.0.0.1:");
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      port_ = static_cast<uint16_t>(std::stoi(text.substr(at + 17)));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_NE(port_, 0) << "openssl s_server did not start:\n" << ReadFileBytes(log);
}

OpensslServer::~OpensslServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

std::string TlsTestClient::PeerCommonName() {
  return socket_.peerCertificate().commonName();
}

}  // namespace keepdav::testing
