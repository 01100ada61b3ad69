// Operators (issue 11) through the real server: the access log (--access-log), CORS
// (--cors-origins) and re-reading --access, against an in-process server with a real htpasswd
// file (bcrypt -C 4, as authentication_test.cc).
#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/access_log.h"
#include "server/authenticator.h"
#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

// htpasswd -nbB -C 4 alice secret-a
const char kAlice[] = "alice:$2y$04$UfCvnMXjUANS3umhpWTqTuIbSAcRYj4unV9tlw6H56iX7GH6MiEZa\n";
const char kAliceAuth[] = "Basic YWxpY2U6c2VjcmV0LWE=";  // alice:secret-a
const char kWrongAuth[] = "Basic YWxpY2U6d3Jvbmc=";      // alice:wrong
const char kKeeWeb[] = "https://app.keeweb.info";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// Collects what a Poco logger says (the start-up warnings and refusal lines).
class CapturingChannel : public Poco::Channel {
 public:
  void log(const Poco::Message& msg) override {
    std::lock_guard<std::mutex> lock(mu_);
    messages_.push_back(msg.getText());
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string all;
    for (const auto& m : messages_) all += m + "\n";
    return all;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> messages_;
};

class OperatorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    channel_ = new CapturingChannel;
    for (const char* name : {"keepdav.server", "keepdav.http"}) {
      Poco::Logger::get(name).setChannel(channel_);
      Poco::Logger::get(name).setLevel("information");
    }
  }
  void TearDown() override {
    server_.reset();
    for (const char* name : {"keepdav.server", "keepdav.http"}) {
      Poco::Logger::get(name).setChannel(nullptr);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // A server with alice in --users, the access log in a file, and `more` on top.
  void Start(std::function<void(server::ServerConfig&)> more = nullptr) {
    char tmpl[] = "/tmp/keepdav-ops-XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    log_ = dir_ + "/access.log";
    WriteFile(dir_ + "/users", kAlice);
    server_ = std::make_unique<TestServer>(webdav::DavSettings(), [&](server::ServerConfig& c) {
      c.auth.users_file = dir_ + "/users";
      c.access_log = log_;
      if (more) more(c);
    });
  }
  std::vector<std::string> LogLines() { return Lines(ReadFile(log_)); }
  // The line of a request is written after its response, so a client can read the log before
  // it is there: waits (up to 5 s) until the log holds `n` lines.
  std::vector<std::string> WaitForLines(size_t n) {
    for (int i = 0; i < 500 && LogLines().size() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return LogLines();
  }
  // The one line for `request_line` ("GET /f HTTP/1.1"); fails unless there is exactly one.
  std::string LineFor(const std::string& request_line) {
    WaitForLines(1);
    std::string found;
    int n = 0;
    // Every earlier request's line is out once this one is: the tests send one at a time.
    for (int i = 0; i < 500 && ReadFile(log_).find("\"" + request_line + "\"") == std::string::npos;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (const std::string& line : LogLines()) {
      if (line.find("\"" + request_line + "\"") != std::string::npos) {
        found = line;
        ++n;
      }
    }
    EXPECT_EQ(n, 1) << request_line << " in\n" << ReadFile(log_);
    return found;
  }

  Poco::AutoPtr<CapturingChannel> channel_;
  std::string dir_;
  std::string log_;
  std::unique_ptr<TestServer> server_;
};

// "127.0.0.1 - alice [..] "PUT /f HTTP/1.1" 201 - "-" "UA" 123": the fields after the time.
std::string AfterTime(const std::string& line) {
  size_t end = line.find("] ");
  return end == std::string::npos ? line : line.substr(end + 2);
}

TEST_F(OperatorsTest, AccessLogHasOneLinePerRequestWithUserStatusAndBytes) {
  Start();
  WriteFile(server_->Disk("f"), "hello");
  HttpResult put =
      server_->Request("PUT", "/new.txt", "12345678",
                       {{"Authorization", kAliceAuth}, {"User-Agent", "rclone/v1.60"}});
  ASSERT_EQ(put.status, 201);
  WaitForLines(1);  // each line before the next request: the order below is the requests'
  HttpResult get =
      server_->Request("GET", "/f", "", {{"Authorization", kAliceAuth}, {"Referer", "https://x/"}});
  ASSERT_EQ(get.status, 200);
  WaitForLines(2);
  ASSERT_EQ(server_->Request("GET", "/f").status, 401);  // anonymous
  WaitForLines(3);
  ASSERT_EQ(server_->Request("GET", "/f", "", {{"Authorization", kWrongAuth}}).status, 401);
  WaitForLines(4);
  ASSERT_EQ(server_->Request("OPTIONS", "/").status, 200);

  std::vector<std::string> lines = WaitForLines(5);
  ASSERT_EQ(lines.size(), 5u) << ReadFile(log_);
  // 127.0.0.1 - alice [02/Dec/2026:15:20:47 +0000] "PUT ...
  EXPECT_EQ(lines[0].substr(0, 18), "127.0.0.1 - alice ");
  EXPECT_EQ(lines[0][18], '[');
  EXPECT_NE(lines[0].find(" +0000] "), std::string::npos);
  EXPECT_EQ(AfterTime(lines[0]).substr(0, 46),
            "\"PUT /new.txt HTTP/1.1\" 201 - \"-\" \"rclone/v1.6");
  EXPECT_EQ(AfterTime(lines[1]).substr(0, 40), "\"GET /f HTTP/1.1\" 200 5 \"https://x/\" \"-\"");
  EXPECT_EQ(lines[2].substr(0, 14), "127.0.0.1 - - ");
  EXPECT_NE(lines[2].find("\"GET /f HTTP/1.1\" 401 "), std::string::npos);
  EXPECT_EQ(lines[3].substr(0, 14), "127.0.0.1 - - ");  // a refused password is nobody
  EXPECT_NE(lines[3].find("\"GET /f HTTP/1.1\" 401 "), std::string::npos);
  EXPECT_NE(lines[4].find("\"OPTIONS / HTTP/1.1\" 200 "), std::string::npos);
  // The last field is the duration in microseconds: a number.
  for (const std::string& line : lines) {
    std::string last = line.substr(line.rfind(' ') + 1);
    ASSERT_FALSE(last.empty());
    EXPECT_EQ(last.find_first_not_of("0123456789"), std::string::npos) << line;
  }
}

TEST_F(OperatorsTest, RateLimitedAndBadHeadRequestsAreLogged) {
  Start([](server::ServerConfig& c) { c.auth.fail_limit = 2; });
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(server_->Request("GET", "/", "", {{"Authorization", kWrongAuth}}).status, 401);
  }
  ASSERT_EQ(server_->Request("PROPFIND", "/x", "", {{"Authorization", kWrongAuth}}).status, 429);
  EXPECT_NE(LineFor("PROPFIND /x HTTP/1.1").find("\" 429 "), std::string::npos);
  // Refused by keepdav's head checks (two Content-Lengths): 400, logged with the request line.
  std::string raw = server_->Raw(
      "PUT /smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
  ASSERT_EQ(raw.substr(0, 12), "HTTP/1.1 400");
  EXPECT_NE(LineFor("PUT /smuggle HTTP/1.1").find("\" 400 - "), std::string::npos);
}

TEST_F(OperatorsTest, HostileBytesStayInsideTheirFields) {
  Start();
  // A User-Agent with a quote, a DEL and UTF-8, and a target with an encoded newline. (Poco
  // drops a 0xff byte from a header value before keepdav sees it, so none is sent here.)
  std::string raw = server_->Raw(
      "GET /a%0Ab HTTP/1.1\r\nHost: x\r\nUser-Agent: x\" 200 \x7f\xc3\xa9 end\r\nConnection: "
      "close\r\n\r\n");
  ASSERT_EQ(raw.substr(0, 12), "HTTP/1.1 401");
  std::vector<std::string> lines = WaitForLines(1);
  ASSERT_EQ(lines.size(), 1u) << ReadFile(log_);
  EXPECT_NE(lines[0].find("\"GET /a%0Ab HTTP/1.1\" 401 "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" \"x\\\" 200 \\x7f\\xc3\\xa9 end\" "), std::string::npos) << lines[0];
}

TEST_F(OperatorsTest, TheClientBehindATrustedProxyIsLogged) {
  Start([](server::ServerConfig& c) { c.trusted_proxies = "127.0.0.1"; });
  ASSERT_EQ(server_
                ->Request("OPTIONS", "/", "",
                          {{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}})
                .status,
            200);
  EXPECT_EQ(LineFor("OPTIONS / HTTP/1.1").substr(0, 16), "203.0.113.9 - - ");
}

// A COPY that sends 102s is one line, with its final status.
TEST_F(OperatorsTest, ALongOperationIsLoggedOnceWithItsFinalStatus) {
  Start([](server::ServerConfig& c) {
    c.processing.mode = "always";
    c.processing.first_ms = 30;
    c.processing.interval_ms = 30;
    c.test_delay_us = 20000;
  });
  std::filesystem::create_directories(server_->Disk("tree"));
  for (int i = 0; i < 20; ++i) WriteFile(server_->Disk("tree/f" + std::to_string(i)), "x");
  std::string raw = server_->Raw(
      "COPY /tree/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + std::string(kAliceAuth) +
      "\r\nDestination: /copy/\r\nConnection: close\r\n\r\n");
  ASSERT_NE(raw.find("HTTP/1.1 102 Processing"), std::string::npos) << raw.substr(0, 300);
  ASSERT_NE(raw.find("HTTP/1.1 201"), std::string::npos);
  EXPECT_NE(LineFor("COPY /tree/ HTTP/1.1").find("127.0.0.1 - alice "), std::string::npos);
  EXPECT_NE(LineFor("COPY /tree/ HTTP/1.1").find("\" 201 "), std::string::npos);
}

TEST_F(OperatorsTest, PreflightIsAnsweredBeforeAuthentication) {
  Start([](server::ServerConfig& c) {
    c.cors_origins = std::string(kKeeWeb) + ",app://obsidian.md";
    c.cors_max_age_s = 600;
    c.auth.fail_limit = 1;
  });
  // This address is blocked by the failure limiter from the second wrong password on.
  ASSERT_EQ(server_->Request("GET", "/", "", {{"Authorization", kWrongAuth}}).status, 401);
  ASSERT_EQ(server_->Request("GET", "/", "", {{"Authorization", kWrongAuth}}).status, 429);
  HttpResult pre =
      server_->Request("OPTIONS", "/db.kdbx", "",
                       {{"Origin", kKeeWeb},
                        {"Access-Control-Request-Method", "PROPFIND"},
                        {"Access-Control-Request-Headers", "authorization,depth,cache-control"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.headers["access-control-allow-origin"], kKeeWeb);
  EXPECT_EQ(pre.headers["access-control-allow-credentials"], "true");
  EXPECT_NE(pre.headers["access-control-allow-methods"].find("PROPFIND"), std::string::npos);
  EXPECT_NE(pre.headers["access-control-allow-headers"].find("Authorization"), std::string::npos);
  EXPECT_NE(pre.headers["access-control-allow-headers"].find("Cache-Control"), std::string::npos);
  EXPECT_EQ(pre.headers["access-control-max-age"], "600");
  EXPECT_EQ(pre.headers["vary"], "Origin");
  EXPECT_EQ(pre.headers.count("www-authenticate"), 0u);
  // Answered although the failure limiter blocks the address: a preflight carries no
  // credentials, so it is not authenticated at all.
  EXPECT_NE(LineFor("OPTIONS /db.kdbx HTTP/1.1").find("\" 204 - "), std::string::npos);
}

TEST_F(OperatorsTest, AllowedOriginsGetCorsHeadersOnEveryAnswerIncluding401) {
  Start([](server::ServerConfig& c) { c.cors_origins = kKeeWeb; });
  WriteFile(server_->Disk("db.kdbx"), "data");
  HttpResult get =
      server_->Request("GET", "/db.kdbx", "", {{"Origin", kKeeWeb}, {"Authorization", kAliceAuth}});
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.headers["access-control-allow-origin"], kKeeWeb);
  EXPECT_EQ(get.headers["access-control-allow-credentials"], "true");
  EXPECT_NE(get.headers["access-control-expose-headers"].find("ETag"), std::string::npos);
  EXPECT_NE(get.headers["access-control-expose-headers"].find("Keepdav-Resources-Done"),
            std::string::npos);
  EXPECT_EQ(get.headers["vary"], "Origin");
  EXPECT_FALSE(get.headers["etag"].empty());
  // A 401 the page must be able to read (to ask for a password) carries them too.
  HttpResult denied = server_->Request("GET", "/db.kdbx", "", {{"Origin", kKeeWeb}});
  ASSERT_EQ(denied.status, 401);
  EXPECT_EQ(denied.headers["access-control-allow-origin"], kKeeWeb);
  EXPECT_FALSE(denied.headers["www-authenticate"].empty());
  // A plain OPTIONS (no Access-Control-Request-Method) is the WebDAV answer, with CORS headers.
  HttpResult options = server_->Request("OPTIONS", "/", "", {{"Origin", kKeeWeb}});
  EXPECT_EQ(options.status, 200);
  EXPECT_FALSE(options.headers["dav"].empty());
  EXPECT_EQ(options.headers["access-control-allow-origin"], kKeeWeb);
}

TEST_F(OperatorsTest, AnOriginNotListedGetsNoCorsHeadersAndItsPreflight403) {
  Start([](server::ServerConfig& c) { c.cors_origins = kKeeWeb; });
  HttpResult pre = server_->Request(
      "OPTIONS", "/", "",
      {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "PUT"}});
  EXPECT_EQ(pre.status, 403);
  EXPECT_EQ(pre.headers.count("access-control-allow-origin"), 0u);
  EXPECT_EQ(pre.headers.count("access-control-allow-methods"), 0u);
  EXPECT_NE(channel_->All().find("origin 'https://evil.example' is not in --cors-origins"),
            std::string::npos)
      << channel_->All();
  EXPECT_NE(LineFor("OPTIONS / HTTP/1.1").find("\" 403 "), std::string::npos);
  HttpResult get = server_->Request(
      "GET", "/", "", {{"Origin", "https://evil.example"}, {"Authorization", kAliceAuth}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.headers.count("access-control-allow-origin"), 0u);
  EXPECT_EQ(get.headers["vary"], "Origin");
}

TEST_F(OperatorsTest, StarNeverSendsCredentials) {
  Start([](server::ServerConfig& c) { c.cors_origins = "*"; });
  HttpResult get = server_->Request(
      "PROPFIND", "/", "",
      {{"Origin", "https://any.example"}, {"Authorization", kAliceAuth}, {"Depth", "0"}});
  EXPECT_EQ(get.status, 207);
  EXPECT_EQ(get.headers["access-control-allow-origin"], "*");
  EXPECT_EQ(get.headers.count("access-control-allow-credentials"), 0u);
  EXPECT_EQ(get.headers.count("vary"), 0u);
}

TEST_F(OperatorsTest, WithoutCorsOriginsNothingChanges) {
  Start();
  HttpResult pre = server_->Request(
      "OPTIONS", "/", "", {{"Origin", kKeeWeb}, {"Access-Control-Request-Method", "PUT"}});
  EXPECT_EQ(pre.status, 200);  // the plain WebDAV OPTIONS
  EXPECT_EQ(pre.headers.count("access-control-allow-origin"), 0u);
  EXPECT_EQ(pre.headers.count("vary"), 0u);
}

TEST_F(OperatorsTest, AccessRulesAreReloadedAndABadFileKeepsTheOldOnes) {
  std::string rules;
  Start([&](server::ServerConfig& c) {
    c.access_file = c.root + "/../access.conf";
    rules = c.access_file;
    WriteFile(rules, "[anonymous]\nread /\n[authenticated]\nwrite /\n");
  });
  WriteFile(server_->Disk("f"), "x");
  ASSERT_EQ(server_->Request("GET", "/f").status, 200);
  WriteFile(rules, "[anonymous]\nnone /\n[authenticated]\nwrite /\n");
  ASSERT_TRUE(server_->server().ReloadAccessRules().ok());
  EXPECT_EQ(server_->Request("GET", "/f").status, 401);
  EXPECT_NE(channel_->All().find("reloaded the access rules from " + rules), std::string::npos);
  // A broken file: the reload fails naming file:line, the rules in force stay.
  WriteFile(rules, "[anonymous]\nread /\nallow /x\n");
  storage::Status bad = server_->server().ReloadAccessRules();
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find(rules + ":3:"), std::string::npos) << bad.message();
  EXPECT_NE(channel_->All().find("reloading the access rules failed, the old rules stay"),
            std::string::npos);
  EXPECT_EQ(server_->Request("GET", "/f").status, 401);
  EXPECT_EQ(server_->Request("GET", "/f", "", {{"Authorization", kAliceAuth}}).status, 200);
}

TEST_F(OperatorsTest, AUserTheRulesNameButTheUsersFileLacksIsWarnedAbout) {
  std::string rules;
  Start([&](server::ServerConfig& c) {
    c.access_file = c.root + "/../access.conf";
    rules = c.access_file;
    WriteFile(rules, "[authenticated]\nwrite /\n\n[user alice]\nread /\n\n[user bob]\nread /\n");
  });
  std::string said = channel_->All();
  EXPECT_NE(said.find(rules + ":7: user 'bob' is not in --users " + dir_ + "/users"),
            std::string::npos)
      << said;
  EXPECT_EQ(said.find("user 'alice'"), std::string::npos) << said;
}

// The users file changes by itself (no SIGHUP, which reloads the rules too): a section whose user
// the new file lacks is warned about then, with its line.
TEST_F(OperatorsTest, AUserRemovedFromAChangedUsersFileIsWarnedAbout) {
  std::string rules;
  Start([&](server::ServerConfig& c) {
    c.access_file = c.root + "/../access.conf";
    rules = c.access_file;
    WriteFile(rules, "[authenticated]\nwrite /\n\n[user alice]\nread /\n");
  });
  EXPECT_EQ(channel_->All().find("user 'alice'"), std::string::npos) << channel_->All();
  // htpasswd -nbB -C 4 carol secret-c, in place of alice (renamed over: a new inode)
  WriteFile(dir_ + "/users.new",
            "carol:$2y$04$rsuInmQZLJEnIOBU.noRou74vloXX8SVJSyxwfcFc1XfEr/3Zdjwa\n");
  ASSERT_EQ(0, std::rename((dir_ + "/users.new").c_str(), (dir_ + "/users").c_str()));
  std::this_thread::sleep_for(server::Authenticator::kReloadCheckInterval +
                              std::chrono::milliseconds(300));
  server_->Request("GET", "/", "", {{"Authorization", kAliceAuth}});  // checks the file
  std::string said = channel_->All();
  EXPECT_NE(said.find("(changed): 1 users"), std::string::npos) << said;
  EXPECT_NE(said.find(rules + ":4: user 'alice' is not in --users " + dir_ + "/users"),
            std::string::npos)
      << said;
}

}  // namespace
}  // namespace keepdav::testing
