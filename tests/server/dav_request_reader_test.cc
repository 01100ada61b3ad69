// ReadDavRequest over heads parsed by Poco's own parser (HTTPRequest::read, which
// HTTPServerConnection runs before keepdav sees a request), so each case shows who decides:
// Poco (it throws, and answers 400 itself), keepdav (a refusal status), or neither (served).
#include "server/dav_request_reader.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace keepdav::server {
namespace {

constexpr int kPocoRefuses = -1;

struct Parsed {
  int status = 0;  // kPocoRefuses, a refusal status, or 0
  std::string reason;
  webdav::DavRequest request;
  RequestFraming framing;
};

Parsed Parse(const std::string& data, size_t max_head = 8192, bool secure = false) {
  Parsed p;
  Poco::Net::HTTPRequest head;
  std::istringstream in(data);
  try {
    head.read(in);
  } catch (const Poco::Exception& e) {
    p.status = kPocoRefuses;
    p.reason = e.displayText();
    return p;
  }
  RequestRefusal r = ReadDavRequest(head, secure, max_head, &p.request, &p.framing);
  p.status = r.status;
  p.reason = r.reason;
  return p;
}

TEST(DavRequestReaderTest, SimpleRequest) {
  Parsed p =
      Parse("PROPFIND /a%20b/ HTTP/1.1\r\nHost: h:1\r\nDepth: 1\r\nContent-Length: 5\r\n\r\n");
  ASSERT_EQ(p.status, 0) << p.reason;
  EXPECT_EQ(p.request.method, "PROPFIND");
  EXPECT_EQ(p.request.target, "/a%20b/");
  EXPECT_FALSE(p.request.http10);
  EXPECT_EQ(p.request.host, "h:1");
  EXPECT_EQ(p.request.scheme, "http");
  ASSERT_NE(p.request.Header("depth"), nullptr);
  EXPECT_EQ(*p.request.Header("DEPTH"), "1");
  EXPECT_EQ(p.request.content_length, 5);
  EXPECT_FALSE(p.request.chunked);
  EXPECT_TRUE(p.framing.keep_alive);
  EXPECT_FALSE(p.framing.expect_continue);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 8192, /*secure=*/true).request.scheme,
            "https");
}

TEST(DavRequestReaderTest, LenientWhereTheRfcAllows) {
  // Empty lines before the request line, bare LF line ends, OWS around values.
  Parsed p = Parse("\r\n\r\nGET / HTTP/1.1\nHost: h\nX-A:   v  \t\n\n");
  ASSERT_EQ(p.status, 0) << p.reason;
  EXPECT_EQ(*p.request.Header("X-A"), "v");
  // Repeated fields are joined as a list, in the order sent.
  p = Parse("GET / HTTP/1.1\r\nHost: h\r\nIf: (<a>)\r\nIf: (<b>)\r\n\r\n");
  ASSERT_EQ(p.status, 0);
  EXPECT_EQ(*p.request.Header("If"), "(<a>), (<b>)");
  // A repeated Content-Length with the same value.
  p = Parse("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n");
  ASSERT_EQ(p.status, 0);
  EXPECT_EQ(p.request.content_length, 3);
}

// Destination and If reach the DAV layer as sent: percent-encoded non-ASCII, lock tokens,
// entity tags and resource tags.
TEST(DavRequestReaderTest, DestinationAndIfArriveByteForByte) {
  const std::string destination = "http://h:8080/Dossier%20%C3%A9t%C3%A9%20%233/Caf%C3%A9%25.txt";
  const std::string condition =
      "<http://h:8080/a%20b> (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> "
      "[\"W/x-1\"]) (Not <DAV:no-lock>)";
  Parsed p = Parse("COPY /a HTTP/1.1\r\nHost: h\r\nDestination: " + destination +
                   "\r\nIf: " + condition + "\r\n\r\n");
  ASSERT_EQ(p.status, 0) << p.reason;
  EXPECT_EQ(*p.request.Header("Destination"), destination);
  EXPECT_EQ(*p.request.Header("If"), condition);
  // A value up to Poco's limit passes: a Destination of 8,192 bytes (2,730 encoded characters).
  std::string long_destination = "/";
  while (long_destination.size() + 6 <= 8192) long_destination += "%C3%A9";
  p = Parse("COPY /a HTTP/1.1\r\nHost: h\r\nDestination: " + long_destination + "\r\n\r\n",
            64 * 1024);
  ASSERT_EQ(p.status, 0) << p.reason;
  EXPECT_EQ(*p.request.Header("Destination"), long_destination);
}

// What Poco's parser decides before keepdav sees the request (documented in
// dav_request_reader.h and the README). These are behaviour changes from keepdav's own parser,
// which refused obsolete folding and lines without a colon (400) and took heads up to
// --max-request-head whatever their field sizes.
TEST(DavRequestReaderTest, WhatPocoDecidesFirst) {
  // A value over 8,192 bytes: a 12 KiB percent-encoded non-ASCII Destination cannot pass.
  std::string destination = "/";
  while (destination.size() < 12 * 1024) destination += "%C3%A9";
  EXPECT_EQ(
      Parse("COPY /a HTTP/1.1\r\nHost: h\r\nDestination: " + destination + "\r\n\r\n", 1 << 20)
          .status,
      kPocoRefuses);
  // More than 100 fields; a target over 16,384 bytes.
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 100; ++i) many += "X" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(Parse(many + "\r\n", 1 << 20).status, kPocoRefuses);
  EXPECT_EQ(
      Parse("GET /" + std::string(16384, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 1 << 20).status,
      kPocoRefuses);
  // Obsolete line folding is merged into the value; a line without a colon is skipped.
  Parsed p = Parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\nJunk\r\n\r\n");
  ASSERT_EQ(p.status, 0) << p.reason;
  EXPECT_EQ(*p.request.Header("X"), "a b");
  EXPECT_EQ(p.request.Header("Junk"), nullptr);
  // RFC 2047 encoded words in a value arrive decoded (Poco 1.11 MessageHeader::read).
  p = Parse("GET / HTTP/1.1\r\nHost: h\r\nX-Word: =?UTF-8?Q?caf=C3=A9?=\r\n\r\n");
  ASSERT_EQ(p.status, 0) << p.reason;
  EXPECT_EQ(*p.request.Header("X-Word"), "caf\xC3\xA9");
}

TEST(DavRequestReaderTest, ConnectionAndVersion) {
  Parsed p = Parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, Close\r\n\r\n");
  EXPECT_FALSE(p.framing.keep_alive);
  p = Parse("GET / HTTP/1.0\r\n\r\n");  // no Host needed in 1.0
  ASSERT_EQ(p.status, 0) << p.reason;
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
  ASSERT_EQ(p.status, 0) << p.reason;
  EXPECT_TRUE(p.request.chunked);
  EXPECT_EQ(p.request.content_length, -1);
  // A later minor version is read as HTTP/1.1.
  p = Parse("GET / HTTP/1.7\r\nHost: h\r\n\r\n");
  ASSERT_EQ(p.status, 0) << p.reason;
  EXPECT_FALSE(p.request.http10);
}

TEST(DavRequestReaderTest, Refusals) {
  struct Case {
    const char* name;
    std::string data;
    int status;
  };
  static const char kNul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
  const std::vector<Case> cases = {
      // Poco reads "folder" as the version.
      {"space in target", "MKCOL /New folder HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"no version", "GET /\r\nHost: h\r\n\r\n", 400},
      {"lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      {"HTTP/0.9 style", "GET / HTTP/0.9\r\n\r\n", 505},
      {"bad method", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
      {"control char in target", std::string("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"NUL in value", std::string(kNul, sizeof kNul - 1), 400},
      {"missing Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"differing lengths",
       "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
      {"length list", "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n", 400},
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
    EXPECT_EQ(p.status, c.status) << c.name << ": " << p.reason;
    EXPECT_FALSE(p.reason.empty()) << c.name;
  }
}

TEST(DavRequestReaderTest, HeadLimitIs431) {
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(2000, 'x') + "\r\n\r\n";
  EXPECT_EQ(Parse(head, 1024).status, 431);
  EXPECT_EQ(Parse(head, head.size()).status, 0);
  EXPECT_EQ(Parse(head, head.size() - 1).status, 431);
}

}  // namespace
}  // namespace keepdav::server
