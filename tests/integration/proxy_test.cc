// Behind a reverse proxy (issue 11): with --trusted-proxies, the public scheme and host a proxy
// reports are the request's, so a Destination naming the public https URL is on this server;
// without it, the same headers change nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

bool Exists(const std::string& path) {
  return std::ifstream(path).good();
}

std::map<std::string, std::string> Forwarding(const std::string& destination) {
  return {{"X-Forwarded-For", "198.51.100.7"},
          {"X-Forwarded-Proto", "https"},
          {"X-Forwarded-Host", "dav.example"},
          {"Destination", destination}};
}

TEST(ProxyTest, TrustedProxyMakesThePublicHttpsDestinationLocal) {
  TestServer server(webdav::DavSettings(),
                    [](server::ServerConfig& c) { c.trusted_proxies = "127.0.0.1,::1"; });
  ASSERT_EQ(server.Request("PUT", "/a.txt", "hello").status, 201);
  EXPECT_EQ(server.Request("COPY", "/a.txt", "", Forwarding("https://dav.example/c.txt")).status,
            201);
  EXPECT_TRUE(Exists(server.Disk("c.txt")));
  EXPECT_EQ(server.Request("MOVE", "/a.txt", "", Forwarding("https://dav.example/b.txt")).status,
            201);
  EXPECT_FALSE(Exists(server.Disk("a.txt")));
  EXPECT_TRUE(Exists(server.Disk("b.txt")));
  // The connection's own scheme and host are not the public ones any more.
  HttpResult plain =
      server.Request("MOVE", "/b.txt", "",
                     Forwarding("http://127.0.0.1:" + std::to_string(server.port()) + "/d.txt"));
  EXPECT_EQ(plain.status, 502);
  EXPECT_TRUE(Exists(server.Disk("b.txt")));
}

TEST(ProxyTest, UntrustedPeerCannotClaimThePublicHost) {
  TestServer server(webdav::DavSettings(),
                    [](server::ServerConfig& c) { c.trusted_proxies = "10.0.0.0/8"; });
  ASSERT_EQ(server.Request("PUT", "/a.txt", "hello").status, 201);
  EXPECT_EQ(server.Request("MOVE", "/a.txt", "", Forwarding("https://dav.example/b.txt")).status,
            502);
  EXPECT_TRUE(Exists(server.Disk("a.txt")));
  // Its own scheme and host still work.
  EXPECT_EQ(server
                .Request("MOVE", "/a.txt", "",
                         Forwarding("http://127.0.0.1:" + std::to_string(server.port()) + "/b.txt"))
                .status,
            201);
}

TEST(ProxyTest, BadTrustedProxiesStopsTheStart) {
  server::ServerConfig config;
  config.root = ::testing::TempDir();
  config.trusted_proxies = "10.0.0.0/40";
  auto created = server::DavServer::Create(config);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("--trusted-proxies"), std::string::npos);
}

}  // namespace
}  // namespace keepdav::testing
