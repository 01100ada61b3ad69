#include "server/cors.h"

#include <gtest/gtest.h>

#include <string>

namespace keepdav::server {
namespace {

webdav::DavRequest Request(const std::string& method, const char* origin,
                           const char* request_method = nullptr) {
  webdav::DavRequest r;
  r.method = method;
  r.target = "/a";
  if (origin) r.headers["Origin"] = origin;
  if (request_method) r.headers["Access-Control-Request-Method"] = request_method;
  return r;
}

CorsPolicy Parsed(const std::string& list) {
  CorsPolicy p;
  storage::Status s = CorsPolicy::Parse(list, &p);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return p;
}

TEST(CorsPolicyTest, EmptyListIsOffAndAddsNothing) {
  CorsPolicy p = Parsed("");
  EXPECT_FALSE(p.enabled());
  webdav::DavRequest r = Request("GET", "https://app.keeweb.info");
  CorsPolicy::Verdict v = p.Evaluate(r);
  EXPECT_EQ(v.kind, CorsPolicy::Kind::kNone);
  EXPECT_FALSE(v.preflight);
  std::string head;
  p.AppendResponseHeaders(v, &head);
  EXPECT_EQ(head, "");
}

TEST(CorsPolicyTest, ExactOriginIsEchoedWithCredentialsExposedHeadersAndVary) {
  CorsPolicy p = Parsed(" https://app.keeweb.info , app://obsidian.md,chrome-extension://abc");
  for (const char* origin :
       {"https://app.keeweb.info", "app://obsidian.md", "chrome-extension://abc"}) {
    webdav::DavRequest r = Request("PROPFIND", origin);
    CorsPolicy::Verdict v = p.Evaluate(r);
    ASSERT_EQ(v.kind, CorsPolicy::Kind::kAllowed) << origin;
    std::string head;
    p.AppendResponseHeaders(v, &head);
    EXPECT_EQ(head, std::string("Access-Control-Allow-Origin: ") + origin +
                        "\r\nAccess-Control-Allow-Credentials: true\r\n"
                        "Access-Control-Expose-Headers: " +
                        kCorsExposedHeaders + "\r\nVary: Origin\r\n");
  }
}

TEST(CorsPolicyTest, ExposedHeadersNameWhatKeepdavSends) {
  std::string exposed = kCorsExposedHeaders;
  for (const char* name : {"ETag", "DAV", "Lock-Token", "Content-Range", "Keepdav-Resources-Done",
                           "Keepdav-Resources-Total", "X-OC-MTime", "Repr-Digest"}) {
    EXPECT_NE(exposed.find(name), std::string::npos) << name;
  }
}

TEST(CorsPolicyTest, OtherOriginsAreRefusedButStillVary) {
  CorsPolicy p = Parsed("https://app.keeweb.info");
  // Byte for byte: another scheme, port, case or a trailing slash is another origin.
  for (const char* origin :
       {"http://app.keeweb.info", "https://app.keeweb.info:8443", "https://APP.keeweb.info",
        "https://app.keeweb.info/", "https://evil.example", "null",
        "https://app.keeweb.info, https://evil.example"}) {
    webdav::DavRequest r = Request("GET", origin);
    CorsPolicy::Verdict v = p.Evaluate(r);
    EXPECT_EQ(v.kind, CorsPolicy::Kind::kRefused) << origin;
    std::string head;
    p.AppendResponseHeaders(v, &head);
    EXPECT_EQ(head, "Vary: Origin\r\n") << origin;
  }
  // No Origin: not a CORS request, but the response still varies with it.
  webdav::DavRequest plain = Request("GET", nullptr);
  CorsPolicy::Verdict v = p.Evaluate(plain);
  EXPECT_EQ(v.kind, CorsPolicy::Kind::kNone);
  std::string head;
  p.AppendResponseHeaders(v, &head);
  EXPECT_EQ(head, "Vary: Origin\r\n");
}

TEST(CorsPolicyTest, StarAllowsEveryOriginWithoutCredentials) {
  CorsPolicy p = Parsed("*");
  EXPECT_TRUE(p.any_origin());
  webdav::DavRequest r = Request("GET", "https://anything.example");
  r.headers["Authorization"] = "Basic YWxpY2U6c2VjcmV0";
  CorsPolicy::Verdict v = p.Evaluate(r);
  ASSERT_EQ(v.kind, CorsPolicy::Kind::kAllowed);
  std::string head;
  p.AppendResponseHeaders(v, &head);
  EXPECT_EQ(head, std::string("Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: ") +
                      kCorsExposedHeaders + "\r\n");
  EXPECT_EQ(head.find("Credentials"), std::string::npos);
}

TEST(CorsPolicyTest, PreflightNeedsOptionsAndRequestMethod) {
  CorsPolicy p = Parsed("https://app.keeweb.info");
  EXPECT_TRUE(p.Evaluate(Request("OPTIONS", "https://app.keeweb.info", "PROPFIND")).preflight);
  EXPECT_FALSE(p.Evaluate(Request("OPTIONS", "https://app.keeweb.info")).preflight);
  EXPECT_FALSE(p.Evaluate(Request("GET", "https://app.keeweb.info", "PROPFIND")).preflight);
  CorsPolicy::Verdict refused = p.Evaluate(Request("OPTIONS", "https://evil.example", "PUT"));
  EXPECT_TRUE(refused.preflight);
  EXPECT_EQ(refused.kind, CorsPolicy::Kind::kRefused);
  // The preflight's answer carries no Expose-Headers (Fetch: they belong to the real response).
  // The verdict's origin points into the request: keep it alive.
  webdav::DavRequest preflight = Request("OPTIONS", "https://app.keeweb.info", "PUT");
  CorsPolicy::Verdict v = p.Evaluate(preflight);
  std::string head;
  p.AppendResponseHeaders(v, &head);
  EXPECT_EQ(head.find("Expose"), std::string::npos);
  EXPECT_NE(head.find("Access-Control-Allow-Origin: https://app.keeweb.info\r\n"),
            std::string::npos);
}

TEST(CorsPolicyTest, PreflightHeadersListEveryMethodAndTheDavRequestHeaders) {
  CorsPolicy p = Parsed("*");
  p.set_max_age(600);
  auto headers = p.PreflightHeaders();
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0].first, "Access-Control-Allow-Methods");
  for (const char* m : {"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PUT",
                        "DELETE", "PATCH"}) {
    EXPECT_NE(headers[0].second.find(m), std::string::npos) << m;
  }
  EXPECT_EQ(headers[1].first, "Access-Control-Allow-Headers");
  for (const char* h : {"Authorization", "Depth", "Destination", "Overwrite", "If", "Lock-Token",
                        "Timeout", "Content-Type", "X-OC-Mtime", "Cache-Control"}) {
    EXPECT_NE(headers[1].second.find(h), std::string::npos) << h;
  }
  EXPECT_EQ(headers[2], (std::pair<std::string, std::string>("Access-Control-Max-Age", "600")));
}

TEST(CorsPolicyTest, BadListsAreRefusedNamingTheItem) {
  for (const char* bad : {"app.keeweb.info", "https://", "https://a/path", "https://a b", "://x",
                          "1http://x", "null", "*,https://a"}) {
    CorsPolicy p;
    storage::Status s = CorsPolicy::Parse(bad, &p);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("--cors-origins"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace keepdav::server
