// Authentication wired into the server (issue 11): the Authenticator pipeline in front of DAV
// dispatch, against an in-process server with a real htpasswd file (bcrypt made by Apache's
// htpasswd -B -C 4, so the tests stay fast).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "server/basic_credentials.h"
#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

// htpasswd -nbB -C 4 alice secret-a / alice newpass / bob secret-b
const char kAliceOld[] = "alice:$2y$04$UfCvnMXjUANS3umhpWTqTuIbSAcRYj4unV9tlw6H56iX7GH6MiEZa\n";
const char kAliceNew[] = "alice:$2y$04$jTCN.sYBldz4eS9fA6sfnOagibeWkELz7aRTdwK3OlrUZbHGKtPFe\n";
const char kBob[] = "bob:$2y$04$RZWXfMzFPmkOb7NMLTWfb.eml5UTnRO/0KiCdMCLGQttJ/Q25l6v6\n";
const char kChallenge[] = "Basic realm=\"keepdav\", charset=\"UTF-8\"";

std::string Base64(const std::string& in) {
  static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v =
        (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += table[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::map<std::string, std::string> BasicAuth(const std::string& user, const std::string& pass) {
  return {{"Authorization", "Basic " + Base64(user + ":" + pass)}};
}

// Writes `content` to `path` through a rename, as editors and htpasswd do (a new inode).
void ReplaceFile(const std::string& path, const std::string& content) {
  WriteFile(path + ".new", content);
  ASSERT_EQ(0, std::rename((path + ".new").c_str(), path.c_str()));
}

class AuthenticationTest : public ::testing::Test {
 protected:
  void Start(std::function<void(server::ServerConfig&)> more = nullptr) {
    char tmpl[] = "/tmp/keepdav-auth-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    users_dir_ = tmpl;
    users_ = users_dir_ + "/users";
    WriteFile(users_, std::string(kAliceOld) + kBob);
    server_ = std::make_unique<TestServer>(webdav::DavSettings(), [&](server::ServerConfig& c) {
      c.auth.users_file = users_;
      if (more) more(c);
    });
  }
  void TearDown() override {
    server_.reset();
    if (!users_dir_.empty()) std::system(("rm -rf " + users_dir_).c_str());
  }

  // One request from source address `from` (127.0.0.2 is another loopback address, so another
  // client for the limiter).
  HttpResult From(const std::string& from, const std::string& method, const std::string& target,
                  const std::map<std::string, std::string>& headers) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    EXPECT_EQ(0, ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local));
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(server_->port());
    ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    EXPECT_EQ(0, ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote));
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    for (const auto& [n, v] : headers) request += n + ": " + v + "\r\n";
    request += "Content-Length: 0\r\n\r\n";
    EXPECT_EQ(static_cast<ssize_t>(request.size()), ::send(fd, request.data(), request.size(), 0));
    std::string raw;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
    ::close(fd);
    HttpResult result;
    EXPECT_GT(ParseResponse(raw, &result), 0u) << raw;
    return result;
  }

  std::string users_dir_;
  std::string users_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(AuthenticationTest, NoCredentialsGets401WithChallenge) {
  Start();
  HttpResult r = server_->Request("PROPFIND", "/", "", {{"Depth", "0"}});
  EXPECT_EQ(401, r.status);
  EXPECT_EQ(kChallenge, r.headers["www-authenticate"]);
  r = server_->Request("GET", "/");
  EXPECT_EQ(401, r.status);
  EXPECT_EQ(kChallenge, r.headers["www-authenticate"]);
}

TEST_F(AuthenticationTest, OptionsAnsweredWithoutCredentials) {
  Start();
  HttpResult r = server_->Request("OPTIONS", "/");
  EXPECT_EQ(200, r.status);
  EXPECT_NE(std::string::npos, r.headers["dav"].find("1")) << r.raw;
  EXPECT_EQ(0u, r.headers.count("www-authenticate"));
}

TEST_F(AuthenticationTest, RightPasswordServesAndPutLandsOnDisk) {
  Start();
  EXPECT_EQ(207, server_
                     ->Request("PROPFIND", "/", "",
                               [] {
                                 auto h = BasicAuth("alice", "secret-a");
                                 h["Depth"] = "0";
                                 return h;
                               }())
                     .status);
  EXPECT_EQ(201, server_->Request("PUT", "/a.txt", "hello", BasicAuth("bob", "secret-b")).status);
  EXPECT_EQ("hello", ReadFile(server_->Disk("a.txt")));
}

TEST_F(AuthenticationTest, WrongPasswordAndUnknownUserGet401) {
  Start();
  HttpResult r = server_->Request("PUT", "/x.txt", "no", BasicAuth("alice", "secret-b"));
  EXPECT_EQ(401, r.status);
  EXPECT_EQ(kChallenge, r.headers["www-authenticate"]);
  EXPECT_FALSE(Exists(server_->Disk("x.txt")));
  r = server_->Request("GET", "/", "", BasicAuth("mallory", "secret-a"));
  EXPECT_EQ(401, r.status);
  EXPECT_EQ(kChallenge, r.headers["www-authenticate"]);
}

TEST_F(AuthenticationTest, MalformedHeadersGet401WithChallenge) {
  Start();
  for (const std::string& value :
       {std::string("Basic"), std::string("Basic !!!!"), std::string("Basic ") + Base64("nocolon"),
        std::string("Bearer abc"), std::string("Basic ") + Base64(":secret-a"),
        std::string("Basic ") + Base64("alice:secret-a").substr(1)}) {
    HttpResult r = server_->Request("GET", "/", "", {{"Authorization", value}});
    EXPECT_EQ(401, r.status) << value;
    EXPECT_EQ(kChallenge, r.headers["www-authenticate"]) << value;
  }
}

TEST_F(AuthenticationTest, CacheHitSkipsVerification) {
  Start();
  server::Authenticator& auth = server_->server().authenticator();
  uint64_t before = auth.verify_calls();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("alice", "secret-a")).status);
  }
  EXPECT_EQ(before + 1, auth.verify_calls());
  // A wrong password is never a cache hit.
  EXPECT_EQ(401, server_->Request("GET", "/", "", BasicAuth("alice", "secret-x")).status);
  EXPECT_EQ(before + 2, auth.verify_calls());
}

TEST_F(AuthenticationTest, CacheDisabledVerifiesEveryTime) {
  Start([](server::ServerConfig& c) { c.auth.cache_seconds = 0; });
  server::Authenticator& auth = server_->server().authenticator();
  uint64_t before = auth.verify_calls();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("alice", "secret-a")).status);
  }
  EXPECT_EQ(before + 3, auth.verify_calls());
}

// What SIGHUP runs (KeepdavApp registers Authenticator::Reload as a hang-up action; the signal
// loop itself is tested in tests/server/tls_reload_signal_test.cc).
TEST_F(AuthenticationTest, ReloadSwitchesPasswordsAtOnce) {
  Start();
  EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("alice", "secret-a")).status);
  WriteFile(users_, std::string(kAliceNew) + kBob);
  ASSERT_TRUE(server_->server().authenticator().Reload().ok());
  // The old password was cached: the reload cleared the cache, so it stops working at once.
  EXPECT_EQ(401, server_->Request("GET", "/", "", BasicAuth("alice", "secret-a")).status);
  EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("alice", "newpass")).status);
}

TEST_F(AuthenticationTest, ChangedFileIsPickedUpWithoutSignal) {
  Start();
  EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("alice", "secret-a")).status);
  ReplaceFile(users_, std::string(kAliceNew) + kBob);
  std::this_thread::sleep_for(server::Authenticator::kReloadCheckInterval +
                              std::chrono::milliseconds(300));
  EXPECT_EQ(401, server_->Request("GET", "/", "", BasicAuth("alice", "secret-a")).status);
  EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("alice", "newpass")).status);
}

TEST_F(AuthenticationTest, BadNewFileKeepsOldUsers) {
  Start();
  ReplaceFile(users_, std::string(kAliceNew) + "carol:plaintext\n");
  EXPECT_FALSE(server_->server().authenticator().Reload().ok());
  std::this_thread::sleep_for(server::Authenticator::kReloadCheckInterval +
                              std::chrono::milliseconds(300));
  EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("alice", "secret-a")).status);
  EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("bob", "secret-b")).status);
  EXPECT_EQ(401, server_->Request("GET", "/", "", BasicAuth("alice", "newpass")).status);
}

TEST_F(AuthenticationTest, EleventhFailureGets429WhileAnotherAddressLogsIn) {
  Start();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(401, From("127.0.0.1", "GET", "/", BasicAuth("alice", "guess")).status) << i;
  }
  HttpResult r = From("127.0.0.1", "GET", "/", BasicAuth("alice", "secret-a"));
  EXPECT_EQ(429, r.status);
  ASSERT_EQ(1u, r.headers.count("retry-after"));
  int retry = std::atoi(r.headers["retry-after"].c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(200, From("127.0.0.2", "GET", "/", BasicAuth("alice", "secret-a")).status);
}

TEST_F(AuthenticationTest, FailLimitIsAnOption) {
  Start([](server::ServerConfig& c) { c.auth.fail_limit = 2; });
  EXPECT_EQ(401, From("127.0.0.1", "GET", "/", BasicAuth("bob", "x")).status);
  EXPECT_EQ(401, From("127.0.0.1", "GET", "/", BasicAuth("bob", "y")).status);
  EXPECT_EQ(429, From("127.0.0.1", "GET", "/", BasicAuth("bob", "secret-b")).status);
}

TEST_F(AuthenticationTest, BasicOverPlainHttpFromRemoteClientIs403) {
  // The test seam: loopback addresses count as remote, as a LAN client would be.
  Start([](server::ServerConfig& c) { c.auth.loopback_is_local = false; });
  HttpResult r = server_->Request("PUT", "/y.txt", "data", BasicAuth("alice", "secret-a"));
  EXPECT_EQ(403, r.status);
  EXPECT_NE(std::string::npos, r.body.find("plain HTTP")) << r.body;
  EXPECT_FALSE(Exists(server_->Disk("y.txt")));
  // OPTIONS still needs nothing.
  EXPECT_EQ(200, server_->Request("OPTIONS", "/").status);
}

TEST_F(AuthenticationTest, AllowBasicOverHttpLetsRemoteClientsIn) {
  Start([](server::ServerConfig& c) {
    c.auth.loopback_is_local = false;
    c.auth.allow_basic_over_http = true;
  });
  EXPECT_EQ(200, server_->Request("GET", "/", "", BasicAuth("alice", "secret-a")).status);
}

TEST(AuthenticationStartTest, BadUsersFileStopsStartWithLine) {
  char tmpl[] = "/tmp/keepdav-auth-XXXXXX";
  ASSERT_NE(nullptr, mkdtemp(tmpl));
  std::string dir = tmpl;
  ASSERT_EQ(0, ::mkdir((dir + "/root").c_str(), 0700));
  WriteFile(dir + "/users", std::string(kBob) + "carol:plaintext\n");
  server::ServerConfig config;
  config.root = dir + "/root";
  config.db_path = dir + "/db.sqlite";
  config.port = 0;
  config.auth.users_file = dir + "/users";
  auto server = server::DavServer::Create(config);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(std::string::npos, server.status().message().find("users:2"))
      << server.status().message();
  std::system(("rm -rf " + dir).c_str());
}

TEST(AuthenticationLoopbackTest, LoopbackSet) {
  EXPECT_TRUE(server::IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(server::IsLoopbackAddress("127.0.0.2"));
  EXPECT_TRUE(server::IsLoopbackAddress("127.255.1.9"));
  EXPECT_TRUE(server::IsLoopbackAddress("::1"));
  EXPECT_TRUE(server::IsLoopbackAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(server::IsLoopbackAddress("128.0.0.1"));
  EXPECT_FALSE(server::IsLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(server::IsLoopbackAddress("::ffff:10.0.0.1"));
  EXPECT_FALSE(server::IsLoopbackAddress("fe80::1"));
  EXPECT_FALSE(server::IsLoopbackAddress("nonsense"));
}

}  // namespace
}  // namespace keepdav::testing
