// --access and --base-path on a real server over sockets. Requests without credentials get the
// [anonymous] rules: 401 for what they do not allow, OPTIONS always answered; with --users, each
// rule kind for a read-only user (403, nothing changed on disk) and lock tokens that belong to
// their user (issue 11's "Tests"); and a bad rules file stops DavServer::Create.
#include <Poco/Base64Encoder.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

// The rules file and the folders it names, made before the server starts.
std::function<void(server::ServerConfig&)> WithRules(const std::string& rules) {
  return [rules](server::ServerConfig& config) {
    std::filesystem::create_directories(config.root + "/pub/sub");
    std::filesystem::create_directories(config.root + "/pub/closed");
    WriteFile(config.root + "/pub/f", "public");
    WriteFile(config.root + "/secret", "secret");
    config.access_file = config.root + "/../access.conf";
    WriteFile(config.access_file, rules);
  };
}

TEST(AccessIntegrationTest, AnonymousRulesOverHttp) {
  TestServer server(webdav::DavSettings(),
                    WithRules("[anonymous]\nread /pub\nwrite /pub/sub\nnone /pub/closed\n"));
  EXPECT_EQ(server.Request("GET", "/pub/f").body, "public");
  EXPECT_EQ(server.Request("GET", "/secret").status, 401);
  EXPECT_EQ(server.Request("PUT", "/pub/x", "x").status, 401);
  EXPECT_FALSE(Exists(server.Disk("pub/x")));
  EXPECT_EQ(server.Request("PUT", "/pub/sub/x", "x").status, 201);
  EXPECT_EQ(server.Request("OPTIONS", "/secret").status, 200);
  HttpResult list = server.Request("PROPFIND", "/pub/", "", {{"Depth", "1"}});
  EXPECT_EQ(list.status, 207);
  EXPECT_NE(list.body.find("/pub/sub/"), std::string::npos);
  EXPECT_EQ(list.body.find("closed"), std::string::npos) << list.body;
  EXPECT_EQ(server.Request("MOVE", "/pub/sub/x", "", {{"Destination", "/pub/y"}}).status, 401);
  EXPECT_TRUE(Exists(server.Disk("pub/sub/x")));
}

TEST(AccessIntegrationTest, BasePathOverHttp) {
  webdav::DavSettings settings;
  settings.base_path = "/dav";
  TestServer server(settings, WithRules("[anonymous]\nwrite /\n"));
  EXPECT_EQ(server.Request("GET", "/pub/f").status, 404);
  EXPECT_EQ(server.Request("GET", "/dav/pub/f").body, "public");
  HttpResult list = server.Request("PROPFIND", "/dav/", "", {{"Depth", "1"}});
  EXPECT_NE(list.body.find("<D:href>/dav/pub/</D:href>"), std::string::npos) << list.body;
  EXPECT_EQ(server.Request("COPY", "/dav/pub/f", "", {{"Destination", "/pub/g"}}).status, 403);
  EXPECT_EQ(server.Request("COPY", "/dav/pub/f", "", {{"Destination", "/dav/pub/g"}}).status, 201);
  EXPECT_EQ(ReadFile(server.Disk("pub/g")), "public");
}

// htpasswd -nbB -C 4: alice pw-alice, bob pw-bob, reader pw-reader.
const char kUsers[] =
    "alice:$2y$04$lMgbjEQ1TEfiUloArKX73uRFDN5e3cC8FyCufLqDJa6537Y1bfNoq\n"
    "bob:$2y$04$NH1aROjfP0z9mN1EcKjSU.Ud91LNLQcPUwxv7YFcGBCINxk9Wzm5u\n"
    "reader:$2y$04$PiCywo7M9GrOBJtT/mdwHOy5LvLn0eKY9hXJxovJ6ShZ0CPGVeMS2\n";

std::map<std::string, std::string> As(const std::string& user,
                                      std::map<std::string, std::string> headers = {}) {
  std::ostringstream encoded;
  Poco::Base64Encoder encoder(encoded);
  encoder << user << ":pw-" << user;
  encoder.close();
  headers["Authorization"] = "Basic " + encoded.str();
  return headers;
}

const char kLockBody[] =
    "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/>"
    "</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>o</D:owner></D:lockinfo>";

// Users alice and bob may write everywhere; reader may read everywhere and write /inbox only.
std::function<void(server::ServerConfig&)> WithUsers() {
  return [](server::ServerConfig& config) {
    std::filesystem::create_directories(config.root + "/dir");
    std::filesystem::create_directories(config.root + "/inbox");
    WriteFile(config.root + "/doc.txt", "original");
    WriteFile(config.root + "/inbox/own.txt", "reader's");
    config.auth.users_file = config.root + "/../users";
    WriteFile(config.auth.users_file, kUsers);
    config.access_file = config.root + "/../access.conf";
    WriteFile(config.access_file,
              "[authenticated]\nwrite /\n\n[user reader]\nread /\nwrite /inbox\n");
  };
}

// Every write a read-only user tries is 403 and leaves the disk as it was.
TEST(AccessIntegrationTest, ReadOnlyUserGets403ForEveryWriteAndNothingChanges) {
  TestServer server(webdav::DavSettings(), WithUsers());
  EXPECT_EQ(server.Request("GET", "/doc.txt", "", As("reader")).body, "original");
  EXPECT_EQ(server.Request("PUT", "/doc.txt", "changed", As("reader")).status, 403);
  EXPECT_EQ(server.Request("PUT", "/new.txt", "new", As("reader")).status, 403);
  EXPECT_EQ(server.Request("MKCOL", "/newdir", "", As("reader")).status, 403);
  EXPECT_EQ(server.Request("DELETE", "/doc.txt", "", As("reader")).status, 403);
  EXPECT_EQ(server.Request("DELETE", "/dir", "", As("reader")).status, 403);
  EXPECT_EQ(server
                .Request("PROPPATCH", "/doc.txt",
                         "<?xml version=\"1.0\"?><D:propertyupdate xmlns:D=\"DAV:\" "
                         "xmlns:Z=\"urn:x\"><D:set><D:prop><Z:color>red</Z:color></D:prop>"
                         "</D:set></D:propertyupdate>",
                         As("reader"))
                .status,
            403);
  EXPECT_EQ(server.Request("LOCK", "/doc.txt", kLockBody, As("reader")).status, 403);
  // COPY and MOVE into a folder the user may only read: the destination decides.
  EXPECT_EQ(
      server.Request("COPY", "/doc.txt", "", As("reader", {{"Destination", "/copy.txt"}})).status,
      403);
  EXPECT_EQ(
      server.Request("MOVE", "/inbox/own.txt", "", As("reader", {{"Destination", "/moved.txt"}}))
          .status,
      403);
  // Nothing changed: bytes, names, no property, no lock.
  EXPECT_EQ(ReadFile(server.Disk("doc.txt")), "original");
  EXPECT_TRUE(Exists(server.Disk("dir")));
  EXPECT_TRUE(Exists(server.Disk("inbox/own.txt")));
  for (const char* absent : {"new.txt", "newdir", "copy.txt", "moved.txt"}) {
    EXPECT_FALSE(Exists(server.Disk(absent))) << absent;
  }
  HttpResult props =
      server.Request("PROPFIND", "/doc.txt",
                     "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\" xmlns:Z=\"urn:x\">"
                     "<D:prop><Z:color/><D:lockdiscovery/></D:prop></D:propfind>",
                     As("alice", {{"Depth", "0"}}));
  EXPECT_EQ(props.status, 207);
  EXPECT_EQ(props.body.find("red"), std::string::npos) << props.body;
  EXPECT_EQ(props.body.find("activelock"), std::string::npos) << props.body;
  // The control: where reader may write, the same requests work.
  EXPECT_EQ(server.Request("PUT", "/inbox/new.txt", "new", As("reader")).status, 201);
  EXPECT_EQ(server.Request("COPY", "/doc.txt", "", As("reader", {{"Destination", "/inbox/c.txt"}}))
                .status,
            201);
  EXPECT_EQ(ReadFile(server.Disk("inbox/c.txt")), "original");
}

// A lock belongs to the user who took it: another user with write access who submits its token
// gets 403 for PUT and UNLOCK, and the lock stays (RFC 4918 §6.4).
TEST(AccessIntegrationTest, AnotherUsersLockTokenIs403) {
  TestServer server(webdav::DavSettings(), WithUsers());
  HttpResult lock = server.Request("LOCK", "/doc.txt", kLockBody, As("alice"));
  ASSERT_EQ(lock.status, 200) << lock.body;
  std::string token = lock.headers["lock-token"];
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(
      server.Request("PUT", "/doc.txt", "bob's", As("bob", {{"If", "(" + token + ")"}})).status,
      403);
  EXPECT_EQ(server.Request("UNLOCK", "/doc.txt", "", As("bob", {{"Lock-Token", token}})).status,
            403);
  EXPECT_EQ(ReadFile(server.Disk("doc.txt")), "original");
  // Without the token bob is locked out (423); alice, its owner, writes and unlocks.
  EXPECT_EQ(server.Request("PUT", "/doc.txt", "bob's", As("bob")).status, 423);
  EXPECT_EQ(
      server.Request("PUT", "/doc.txt", "alice's", As("alice", {{"If", "(" + token + ")"}})).status,
      204);
  EXPECT_EQ(server.Request("UNLOCK", "/doc.txt", "", As("alice", {{"Lock-Token", token}})).status,
            204);
  EXPECT_EQ(ReadFile(server.Disk("doc.txt")), "alice's");
}

TEST(AccessIntegrationTest, ABadRulesFileStopsTheStartWithFileAndLine) {
  std::string dir = std::filesystem::temp_directory_path() / "keepdav-access-bad-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::filesystem::create_directories(dir + "/root");
  server::ServerConfig config;
  config.root = dir + "/root";
  config.db_path = dir + "/db.sqlite";
  config.port = 0;
  config.access_file = dir + "/access.conf";
  WriteFile(config.access_file, "[anonymous]\nread /\nallow /x\n");
  auto s = server::DavServer::Create(config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(config.access_file + ":3: unknown keyword 'allow'"),
            std::string::npos)
      << s.status().ToString();
  WriteFile(config.access_file, "[user a]\nroot /missing\n");
  s = server::DavServer::Create(config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("the root /missing of [user a] is not a folder"),
            std::string::npos)
      << s.status().ToString();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace keepdav::testing
