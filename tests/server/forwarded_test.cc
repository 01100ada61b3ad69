// --trusted-proxies and the forwarding headers (server/forwarded.h).
#include "server/forwarded.h"

#include <gtest/gtest.h>

namespace keepdav::server {
namespace {

TrustedProxies Trust(const std::string& list) {
  TrustedProxies t;
  storage::Status s = TrustedProxies::Parse(list, &t);
  EXPECT_TRUE(s.ok()) << s.message();
  return t;
}

webdav::HeaderMap Headers(std::initializer_list<std::pair<const std::string, std::string>> h) {
  return webdav::HeaderMap(h);
}

TEST(TrustedProxiesTest, AddressesAndCidrs) {
  TrustedProxies t = Trust(" 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8,192.168.1.77/24");
  EXPECT_TRUE(t.Contains("127.0.0.1"));
  EXPECT_FALSE(t.Contains("127.0.0.2"));
  EXPECT_TRUE(t.Contains("10.255.3.4"));
  EXPECT_FALSE(t.Contains("11.0.0.1"));
  EXPECT_TRUE(t.Contains("::1"));
  EXPECT_FALSE(t.Contains("::2"));
  EXPECT_TRUE(t.Contains("fdab::17"));
  EXPECT_FALSE(t.Contains("fe80::1"));
  EXPECT_TRUE(t.Contains("192.168.1.1"));  // host bits of the CIDR are ignored
  EXPECT_FALSE(t.Contains("192.168.2.1"));
  EXPECT_TRUE(t.Contains("::ffff:10.1.2.3"));  // IPv4-mapped, as a dual-stack socket reports
  EXPECT_FALSE(t.Contains("not an address"));
}

TEST(TrustedProxiesTest, EmptyTrustsNobodyAndZeroPrefixEverybody) {
  TrustedProxies none = Trust("");
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.Contains("127.0.0.1"));
  TrustedProxies all = Trust("0.0.0.0/0");
  EXPECT_TRUE(all.Contains("203.0.113.9"));
  EXPECT_FALSE(all.Contains("2001:db8::1"));  // an IPv4 range never matches IPv6
}

TEST(TrustedProxiesTest, BadItemsAreErrorsNamingThem) {
  for (const char* bad : {"localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "1.2.3",
                          "127.0.0.1,", ",127.0.0.1", "10.0.0.0/-1", "[1.2.3.4]"}) {
    TrustedProxies t;
    storage::Status s = TrustedProxies::Parse(bad, &t);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("--trusted-proxies"), std::string::npos) << s.message();
  }
}

TEST(NodeAddressTest, Forms) {
  EXPECT_EQ(ParseNodeAddress("192.0.2.60")->ToString(), "192.0.2.60");
  EXPECT_EQ(ParseNodeAddress("192.0.2.60:4711")->ToString(), "192.0.2.60");
  EXPECT_EQ(ParseNodeAddress("[2001:db8:cafe::17]")->ToString(), "2001:db8:cafe::17");
  EXPECT_EQ(ParseNodeAddress("[2001:db8:cafe::17]:4711")->ToString(), "2001:db8:cafe::17");
  EXPECT_EQ(ParseNodeAddress("2001:db8::1")->ToString(), "2001:db8::1");
  EXPECT_EQ(ParseNodeAddress(" 192.0.2.1 ")->ToString(), "192.0.2.1");
  for (const char* bad : {"unknown", "_hidden", "", "[2001:db8::1", "[2001:db8::1]x",
                          "192.0.2.1:", "999.0.0.1", "[192.0.2.1]", "a b"}) {
    EXPECT_FALSE(ParseNodeAddress(bad)) << bad;
  }
}

TEST(ForwardedSyntaxTest, ElementsPairsAndQuotes) {
  auto e = ParseForwarded(
      R"(for=192.0.2.43;proto=https;host=dav.example, For="[2001:db8:cafe::17]:4711";by=x)");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].for_, "192.0.2.43");
  EXPECT_EQ((*e)[0].proto, "https");
  EXPECT_EQ((*e)[0].host, "dav.example");
  EXPECT_EQ((*e)[1].for_, "[2001:db8:cafe::17]:4711");
  EXPECT_EQ((*e)[1].proto, "");

  auto quoted = ParseForwarded(R"(host="a,b;c\"d")");
  ASSERT_TRUE(quoted);
  ASSERT_EQ(quoted->size(), 1u);
  EXPECT_EQ((*quoted)[0].host, "a,b;c\"d");

  for (const char* bad : {"for", "for=", "for=\"unterminated", "for=a b", "for=a;for=b", "=x",
                          "for=a,,=b", "for=\"a\\", "proto=\"\""}) {
    EXPECT_FALSE(ParseForwarded(bad)) << bad;
  }
  // Empty elements and pairs are allowed by the grammar.
  auto empty = ParseForwarded("for=1.2.3.4;, ,for=5.6.7.8");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), 3u);
}

TEST(ResolveTest, UntrustedPeerHeadersAreIgnored) {
  TrustedProxies t = Trust("127.0.0.1");
  auto h = Headers({{"X-Forwarded-For", "1.2.3.4"},
                    {"X-Forwarded-Proto", "https"},
                    {"X-Forwarded-Host", "evil.example"},
                    {"Forwarded", "for=5.6.7.8;proto=https"}});
  ClientOrigin o = ResolveClientOrigin("203.0.113.5", false, h, t);
  EXPECT_EQ(o.address, "203.0.113.5");
  EXPECT_FALSE(o.secure);
  EXPECT_EQ(o.host, "");
  EXPECT_FALSE(o.forwarded);
  // A TLS connection stays secure whatever it says.
  auto downgrade = Headers({{"X-Forwarded-Proto", "http"}});
  EXPECT_TRUE(ResolveClientOrigin("203.0.113.5", true, downgrade, t).secure);
}

TEST(ResolveTest, XForwardedFromTrustedProxy) {
  TrustedProxies t = Trust("127.0.0.1");
  auto h = Headers({{"X-Forwarded-For", "198.51.100.7"},
                    {"X-Forwarded-Proto", "https"},
                    {"X-Forwarded-Host", "dav.example:8443"}});
  ClientOrigin o = ResolveClientOrigin("127.0.0.1", false, h, t);
  EXPECT_EQ(o.address, "198.51.100.7");
  EXPECT_TRUE(o.secure);
  EXPECT_EQ(o.host, "dav.example:8443");
  EXPECT_TRUE(o.forwarded);

  webdav::DavRequest request;
  request.host = "127.0.0.1:8080";
  ApplyClientOrigin(o, &request);
  EXPECT_EQ(request.client_address, "198.51.100.7");
  EXPECT_EQ(request.scheme, "https");
  EXPECT_EQ(request.host, "dav.example:8443");
}

TEST(ResolveTest, ChainTakesRightmostUntrusted) {
  TrustedProxies t = Trust("127.0.0.1,10.0.0.0/8");
  // The client forged the first entry; 10.1.1.1 is an inner proxy; 192.0.2.9 is the real client.
  auto h = Headers({{"X-Forwarded-For", "6.6.6.6, 192.0.2.9, 10.1.1.1"}});
  EXPECT_EQ(ResolveClientOrigin("127.0.0.1", false, h, t).address, "192.0.2.9");
  // Every hop trusted: the leftmost.
  auto inner = Headers({{"X-Forwarded-For", "10.0.0.5, 10.1.1.1"}});
  EXPECT_EQ(ResolveClientOrigin("127.0.0.1", false, inner, t).address, "10.0.0.5");
  // Garbage stops the walk at the last trusted hop, never a forged value to its left.
  auto garbage = Headers({{"X-Forwarded-For", "6.6.6.6, garbage, 10.1.1.1"}});
  EXPECT_EQ(ResolveClientOrigin("127.0.0.1", false, garbage, t).address, "10.1.1.1");
  // No X-Forwarded-For: the proxy itself; its proto still counts.
  auto proto_only = Headers({{"X-Forwarded-Proto", "HTTPS"}});
  ClientOrigin o = ResolveClientOrigin("127.0.0.1", false, proto_only, t);
  EXPECT_EQ(o.address, "127.0.0.1");
  EXPECT_TRUE(o.secure);
}

TEST(ResolveTest, InvalidProtoAndHostAreIgnored) {
  TrustedProxies t = Trust("::1");
  auto h = Headers({{"X-Forwarded-For", "2001:db8::5"},
                    {"X-Forwarded-Proto", "gopher"},
                    {"X-Forwarded-Host", "a.example/evil path"}});
  ClientOrigin o = ResolveClientOrigin("::1", false, h, t);
  EXPECT_EQ(o.address, "2001:db8::5");
  EXPECT_FALSE(o.secure);
  EXPECT_EQ(o.host, "");
  // Several values: the first (the outermost proxy's).
  auto many = Headers({{"X-Forwarded-Proto", "https, http"}, {"X-Forwarded-Host", "pub, inner"}});
  ClientOrigin m = ResolveClientOrigin("::1", false, many, t);
  EXPECT_TRUE(m.secure);
  EXPECT_EQ(m.host, "pub");
}

TEST(ResolveTest, ForwardedWinsOverXForwarded) {
  TrustedProxies t = Trust("127.0.0.1,10.0.0.0/8");
  auto h = Headers(
      {{"Forwarded",
        R"(for=6.6.6.6;proto=http, for="[2001:db8::7]:1234";proto=https;host=pub.example, for=10.2.2.2;proto=http;host=inner)"},
       {"X-Forwarded-For", "1.1.1.1"},
       {"X-Forwarded-Proto", "http"}});
  ClientOrigin o = ResolveClientOrigin("127.0.0.1", false, h, t);
  EXPECT_EQ(o.address, "2001:db8::7");
  EXPECT_TRUE(o.secure);  // the proto of the element naming the client
  EXPECT_EQ(o.host, "pub.example");
}

TEST(ResolveTest, ForwardedEdgeCases) {
  TrustedProxies t = Trust("127.0.0.1");
  // Obfuscated client: the proxy is the client address; its element's proto still counts.
  auto hidden = Headers({{"Forwarded", "for=_hidden;proto=https;host=pub"}});
  ClientOrigin o = ResolveClientOrigin("127.0.0.1", false, hidden, t);
  EXPECT_EQ(o.address, "127.0.0.1");
  EXPECT_TRUE(o.secure);
  EXPECT_EQ(o.host, "pub");
  // Broken syntax: the whole header is ignored, X-Forwarded-* too.
  auto broken = Headers({{"Forwarded", "for=\"1.2.3.4"}, {"X-Forwarded-For", "5.6.7.8"}});
  ClientOrigin b = ResolveClientOrigin("127.0.0.1", false, broken, t);
  EXPECT_EQ(b.address, "127.0.0.1");
  EXPECT_FALSE(b.forwarded);
  // An IPv4-mapped peer is reported as IPv4.
  EXPECT_EQ(ResolveClientOrigin("::ffff:127.0.0.1", false, {}, t).address, "127.0.0.1");
}

}  // namespace
}  // namespace keepdav::server
