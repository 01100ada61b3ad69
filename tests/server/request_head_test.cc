#include "server/request_head.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keepdav::server {
namespace {

struct Parsed {
  HeadParse result;
  webdav::DavRequest request;
  RequestFraming framing;
};

Parsed Parse(const std::string& data, size_t max_head = 8192) {
  Parsed p;
  size_t scan_from = 0;
  p.result = ParseRequestHead(data, max_head, &scan_from, &p.request, &p.framing);
  return p;
}

TEST(RequestHeadTest, SimpleRequest) {
  std::string head =
      "PROPFIND /a%20b/ HTTP/1.1\r\nHost: h:1\r\nDepth: 1\r\nContent-Length: 5\r\n\r\n";
  Parsed p = Parse(head + "hello");
  ASSERT_EQ(p.result.outcome, HeadParse::Outcome::kComplete) << p.result.reason;
  EXPECT_EQ(p.result.head_size, head.size());
  EXPECT_EQ(p.request.method, "PROPFIND");
  EXPECT_EQ(p.request.target, "/a%20b/");
  EXPECT_FALSE(p.request.http10);
  EXPECT_EQ(p.request.host, "h:1");
  ASSERT_NE(p.request.Header("depth"), nullptr);
  EXPECT_EQ(*p.request.Header("DEPTH"), "1");
  EXPECT_EQ(p.request.content_length, 5);
  EXPECT_FALSE(p.request.chunked);
  EXPECT_TRUE(p.framing.keep_alive);
  EXPECT_FALSE(p.framing.expect_continue);
}

TEST(RequestHeadTest, IncompleteUntilTheEmptyLine) {
  std::string head = "GET /x HTTP/1.1\r\nHost: h\r\nUser-Agent: test\r\n\r\n";
  webdav::DavRequest request;
  RequestFraming framing;
  size_t scan_from = 0;
  // Fed one byte at a time, the head completes exactly at its last byte.
  for (size_t n = 1; n < head.size(); ++n) {
    HeadParse r =
        ParseRequestHead(std::string_view(head).substr(0, n), 8192, &scan_from, &request, &framing);
    ASSERT_EQ(r.outcome, HeadParse::Outcome::kIncomplete) << n;
  }
  HeadParse r = ParseRequestHead(head, 8192, &scan_from, &request, &framing);
  ASSERT_EQ(r.outcome, HeadParse::Outcome::kComplete);
  EXPECT_EQ(r.head_size, head.size());
  EXPECT_EQ(*request.Header("User-Agent"), "test");
}

TEST(RequestHeadTest, LenientWhereTheRfcAllows) {
  // Empty lines before the request line, bare LF line ends, OWS around values.
  Parsed p = Parse("\r\n\r\nGET / HTTP/1.1\nHost: h\nX-A:   v  \t\n\n");
  ASSERT_EQ(p.result.outcome, HeadParse::Outcome::kComplete) << p.result.reason;
  EXPECT_EQ(*p.request.Header("X-A"), "v");
  // Repeated fields are joined as a list.
  p = Parse("GET / HTTP/1.1\r\nHost: h\r\nIf: (<a>)\r\nIf: (<b>)\r\n\r\n");
  ASSERT_EQ(p.result.outcome, HeadParse::Outcome::kComplete);
  EXPECT_EQ(*p.request.Header("If"), "(<a>), (<b>)");
  // Equal Content-Length values in a list.
  p = Parse("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\n");
  ASSERT_EQ(p.result.outcome, HeadParse::Outcome::kComplete);
  EXPECT_EQ(p.request.content_length, 3);
}

TEST(RequestHeadTest, ConnectionAndVersion) {
  Parsed p = Parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, Close\r\n\r\n");
  EXPECT_FALSE(p.framing.keep_alive);
  p = Parse("GET / HTTP/1.0\r\n\r\n");  // no Host needed in 1.0
  ASSERT_EQ(p.result.outcome, HeadParse::Outcome::kComplete);
  EXPECT_TRUE(p.request.http10);
  EXPECT_FALSE(p.framing.keep_alive);
  p = Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(p.framing.keep_alive);
  p = Parse("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n");
  EXPECT_TRUE(p.framing.expect_continue);
  // RFC 9110 §15.2: no 1xx to HTTP/1.0, so no 100 Continue either.
  p = Parse("PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  EXPECT_FALSE(p.framing.expect_continue);
  p = Parse("PUT /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_EQ(p.result.outcome, HeadParse::Outcome::kComplete);
  EXPECT_TRUE(p.request.chunked);
  EXPECT_EQ(p.request.content_length, -1);
  // A later minor version is read as HTTP/1.1.
  p = Parse("GET / HTTP/1.7\r\nHost: h\r\n\r\n");
  ASSERT_EQ(p.result.outcome, HeadParse::Outcome::kComplete);
  EXPECT_FALSE(p.request.http10);
}

TEST(RequestHeadTest, Errors) {
  struct Case {
    const char* name;
    std::string data;
    int status;
  };
  static const char kNul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
  const std::vector<Case> cases = {
      {"space in target", "MKCOL /New folder HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"two spaces", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"no version", "GET /\r\nHost: h\r\n\r\n", 400},
      {"lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      {"HTTP/0.9 style", "GET / HTTP/0.9\r\n\r\n", 505},
      {"bad method", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"control char in target", std::string("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"no colon", "GET / HTTP/1.1\r\nHost: h\r\nJunk\r\n\r\n", 400},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
      {"NUL in value", std::string(kNul, sizeof kNul - 1), 400},
      {"missing Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"differing lengths",
       "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
      {"length list differs", "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n", 400},
      {"negative length", "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
      {"huge length", "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n",
       400},
      {"empty length", "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400},
      {"length and chunked",
       "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"gzip coding", "PUT /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       501},
      {"unknown coding", "PUT /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 501},
      {"chunked in 1.0", "PUT /f HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"other expectation", "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n", 417},
  };
  for (const Case& c : cases) {
    Parsed p = Parse(c.data);
    EXPECT_EQ(p.result.outcome, HeadParse::Outcome::kError) << c.name;
    EXPECT_EQ(p.result.status, c.status) << c.name;
    EXPECT_FALSE(p.result.reason.empty()) << c.name;
  }
}

TEST(RequestHeadTest, HeadLimit) {
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(2000, 'x') + "\r\n\r\n";
  Parsed p = Parse(head, 1024);
  EXPECT_EQ(p.result.outcome, HeadParse::Outcome::kError);
  EXPECT_EQ(p.result.status, 431);
  // Also when the end has not arrived yet: no need to wait for more.
  p = Parse(head.substr(0, 1500), 1024);
  EXPECT_EQ(p.result.status, 431);
  p = Parse(head, head.size());
  EXPECT_EQ(p.result.outcome, HeadParse::Outcome::kComplete);
  // A stream of empty lines is not a way to hold the connection forever.
  p = Parse(std::string(100, '\n'));
  EXPECT_EQ(p.result.status, 400);
}

}  // namespace
}  // namespace keepdav::server
