#include "tests/integration/test_server.h"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keepdav::testing {

TestServer::TestServer(webdav::DavSettings settings,
                       std::function<void(server::ServerConfig&)> customize)
    : settings_(settings), customize_(std::move(customize)) {
  char tmpl[] = "/tmp/keepdav-it-XXXXXX";
  char* d = mkdtemp(tmpl);
  if (!d) std::abort();
  dir_ = d;
  root_ = dir_ + "/root";
  std::filesystem::create_directories(root_);
  Restart();
}

TestServer::~TestServer() {
  server_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void TestServer::Restart() {
  server_.reset();
  server::ServerConfig config;
  config.root = root_;
  config.db_path = dir_ + "/keepdav.sqlite";
  config.port = 0;
  config.threads = 8;
  config.dav = settings_;
  if (customize_) customize_(config);
  auto created = server::DavServer::Create(config);
  if (!created.ok()) {
    ADD_FAILURE() << "cannot create server: " << created.status().ToString();
    std::abort();
  }
  server_ = std::move(created.value());
  server_->Start();
}

HttpResult TestServer::Request(const std::string& method, const std::string& target,
                               const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port());
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : headers) request.set(k, v);
  if (!body.empty() || method == "PUT" || method == "PROPPATCH") {
    request.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  std::ostream& os = session.sendRequest(request);
  os << body;
  Poco::Net::HTTPResponse response;
  std::istream& is = session.receiveResponse(response);
  HttpResult result;
  result.status = response.getStatus();
  for (const auto& [k, v] : response) {
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    result.headers[lower] = v;
  }
  std::ostringstream ss;
  Poco::StreamCopier::copyStream(is, ss);
  result.body = ss.str();
  return result;
}

std::string TestServer::Raw(const std::string& raw, int timeout_ms, bool half_close) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port()));
  socket.setReceiveTimeout(Poco::Timespan(0, timeout_ms * 1000));
  socket.sendBytes(raw.data(), static_cast<int>(raw.size()));
  if (half_close) socket.shutdownSend();
  std::string out;
  char buf[65536];
  try {
    for (;;) {
      int n = socket.receiveBytes(buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  } catch (const Poco::TimeoutException&) {
  }
  return out;
}

size_t ParseResponse(const std::string& raw, HttpResult* out) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  *out = HttpResult();
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  if (line.size() < 12) return 0;
  out->status = std::atoi(line.c_str() + 9);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    out->headers[name] = value;
  }
  size_t pos = end + 4;
  if (out->status < 200 || out->status == 204 || out->status == 304) {
    out->raw = raw.substr(0, pos);
    return pos;
  }
  auto te = out->headers.find("transfer-encoding");
  if (te != out->headers.end() && te->second == "chunked") {
    for (;;) {
      size_t eol = raw.find("\r\n", pos);
      if (eol == std::string::npos) return 0;
      size_t n = std::strtoul(raw.c_str() + pos, nullptr, 16);
      pos = eol + 2;
      if (n == 0) {
        if (raw.size() < pos + 2) return 0;
        pos += 2;
        break;
      }
      if (raw.size() < pos + n + 2) return 0;
      out->body.append(raw, pos, n);
      pos += n + 2;
    }
  } else {
    auto cl = out->headers.find("content-length");
    size_t n =
        cl == out->headers.end() ? raw.size() - pos : std::strtoul(cl->second.c_str(), nullptr, 10);
    if (raw.size() < pos + n) return 0;
    out->body = raw.substr(pos, n);
    pos += n;
  }
  out->raw = raw.substr(0, pos);
  return pos;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace keepdav::testing
