// An in-process keepdav on 127.0.0.1 and an ephemeral port, over a fresh temporary directory,
// for integration tests (the model is Poco's own HTTPServerTest). Also a raw HTTP client, so tests
// can send exactly the bytes a hostile or quirky client would.
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "server/dav_server.h"

namespace keepdav::testing {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string raw;  // everything received
};

class TestServer {
 public:
  // Creates <tmp>/root (served) and <tmp>/keepdav.sqlite, and starts the server.
  explicit TestServer(webdav::DavSettings settings = webdav::DavSettings(),
                      std::function<void(server::ServerConfig&)> customize = nullptr);
  ~TestServer();

  uint16_t port() const { return server_->port(); }
  const std::string& root() const { return root_; }
  const std::string& dir() const { return dir_; }
  // Absolute path of a file below the root.
  std::string Disk(const std::string& relative) const { return root_ + "/" + relative; }

  // One request on a new connection with Poco's client.
  HttpResult Request(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {});
  // Sends `raw` bytes on a new connection and reads until the server closes it (or `timeout_ms`).
  // `half_close`: shut down the sending side after `raw`, as a client that went away mid-request
  // would, while still reading what comes back.
  std::string Raw(const std::string& raw, int timeout_ms = 5000, bool half_close = false);

  void Restart();

  server::DavServer& server() { return *server_; }

 private:
  std::string dir_;
  std::string root_;
  webdav::DavSettings settings_;
  std::function<void(server::ServerConfig&)> customize_;
  std::unique_ptr<server::DavServer> server_;
};

// Parses one HTTP response (status line, headers, Content-Length or chunked body) from the front
// of `raw`; returns the number of bytes consumed, 0 if incomplete.
size_t ParseResponse(const std::string& raw, HttpResult* out);

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
bool Exists(const std::string& path);

}  // namespace keepdav::testing
