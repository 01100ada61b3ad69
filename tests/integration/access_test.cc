// --access and --base-path on a real server over sockets. Requests carry no credentials here
// (authentication is server/'s, see auth tests), so the [anonymous] rules apply: 401 for what
// they do not allow, OPTIONS always answered; and a bad rules file stops DavServer::Create.
#include <gtest/gtest.h>

#include <filesystem>

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
