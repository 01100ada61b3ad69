// HTTP-level behaviour of the real server stack: framing, 100-continue, keep-alive after errors,
// HTTP/1.0, streaming of PROPFIND.
#include <gtest/gtest.h>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

TEST(HttpTest, OptionsAdvertisesClassOne) {
  TestServer server;
  HttpResult r = server.Request("OPTIONS", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers["dav"].find('1'), std::string::npos);
  EXPECT_NE(r.headers["allow"].find("PROPFIND"), std::string::npos);
  EXPECT_EQ(r.headers["ms-author-via"], "DAV");
}

TEST(HttpTest, ChunkedPutIsStoredWhole) {
  TestServer server;
  std::string raw =
      "PUT /chunked.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  HttpResult r;
  ASSERT_GT(ParseResponse(server.Raw(raw), &r), 0u);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(ReadFile(server.Disk("chunked.txt")), "hello world");
}

// Chunk extensions and a trailer section are read past, and nothing more: the request pipelined
// right behind the body is answered on the same connection.
TEST(HttpTest, ChunkedBodyWithTrailerThenAPipelinedRequest) {
  TestServer server;
  std::string got = server.Raw(
      "PUT /t.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;ext=1\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n"
      "GET /t.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  HttpResult first, second;
  size_t used = ParseResponse(got, &first);
  ASSERT_GT(used, 0u) << got;
  EXPECT_EQ(first.status, 201) << got;
  ASSERT_GT(ParseResponse(got.substr(used), &second), 0u) << got;
  EXPECT_EQ(second.status, 200) << got;
  EXPECT_EQ(second.body, "abc");
}

// A malformed chunked body is 400 and stores nothing, for uploads and XML bodies alike.
TEST(HttpTest, MalformedChunkedBodyIs400) {
  TestServer server;
  WriteFile(server.Disk("keep.txt"), "old");
  for (const std::string& coding :
       {std::string("zz\r\nabc\r\n0\r\n\r\n"), std::string("2\r\nabc\r\n0\r\n\r\n")}) {
    for (const char* method : {"PUT", "PROPPATCH"}) {
      HttpResult r;
      ASSERT_GT(ParseResponse(server.Raw(std::string(method) +
                                         " /keep.txt HTTP/1.1\r\nHost: x\r\n"
                                         "Transfer-Encoding: chunked\r\n\r\n" +
                                         coding),
                              &r),
                0u);
      EXPECT_EQ(r.status, 400) << method << " " << coding;
      EXPECT_EQ(ReadFile(server.Disk("keep.txt")), "old");
    }
  }
}

TEST(HttpTest, ExpectContinueGetsInterimResponseBeforeBody) {
  TestServer server;
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server.port()));
  socket.setReceiveTimeout(Poco::Timespan(5, 0));
  std::string head =
      "PUT /e.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
  socket.sendBytes(head.data(), static_cast<int>(head.size()));
  char buf[1024];
  int n = socket.receiveBytes(buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).substr(0, 12), "HTTP/1.1 100");
  socket.sendBytes("abc", 3);
  n = socket.receiveBytes(buf, sizeof buf);
  ASSERT_GT(n, 0);
  // Exactly one 100 Continue: the next thing on the wire is the final response.
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).substr(0, 12), "HTTP/1.1 201");
  EXPECT_EQ(ReadFile(server.Disk("e.txt")), "abc");
}

TEST(HttpTest, RefusedPutWithExpectContinueNeverAsksForBody) {
  TestServer server;
  std::string raw =
      "PUT /missing/e.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
      "Expect: 100-continue\r\n\r\n";
  std::string got = server.Raw(raw, 3000);
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 409") << got;
  EXPECT_EQ(got.find("100 Continue"), std::string::npos);
}

TEST(HttpTest, KeepAliveSurvivesAnErrorWithSmallUnreadBody) {
  TestServer server;
  // MKCOL with a body is refused (415) without reading it; the next request on the same
  // connection must still be understood.
  std::string raw =
      "MKCOL /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string got = server.Raw(raw);
  HttpResult first, second;
  size_t used = ParseResponse(got, &first);
  ASSERT_GT(used, 0u) << got;
  EXPECT_EQ(first.status, 415);
  ASSERT_GT(ParseResponse(got.substr(used), &second), 0u) << got;
  EXPECT_EQ(second.status, 200);
}

TEST(HttpTest, Http10GetsNoChunkedEncoding) {
  TestServer server;
  WriteFile(server.Disk("a.txt"), "x");
  std::string got =
      server.Raw("PROPFIND / HTTP/1.0\r\nHost: x\r\nDepth: 1\r\nContent-Length: 0\r\n\r\n");
  // Poco answers in the request's version.
  EXPECT_EQ(got.substr(8, 4), " 207") << got;
  EXPECT_EQ(got.find("chunked"), std::string::npos);
  EXPECT_NE(got.find("</D:multistatus>"), std::string::npos);
}

TEST(HttpTest, PropfindStreamsChunked) {
  TestServer server;
  for (int i = 0; i < 50; ++i) WriteFile(server.Disk("f" + std::to_string(i)), "x");
  HttpResult r = server.Request("PROPFIND", "/", "", {{"Depth", "1"}});
  EXPECT_EQ(r.status, 207);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  size_t count = 0;
  for (size_t p = 0; (p = r.body.find("<D:response>", p)) != std::string::npos; ++p) ++count;
  EXPECT_EQ(count, 51u);
}

// A HEAD response carries no body, not even the end of a chunked one: the next response on the
// connection must start right after the headers.
TEST(HttpTest, HeadOfACollectionThenAnotherRequestOnTheSameConnection) {
  TestServer server;
  std::string got = server.Raw(
      "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
      "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t end = got.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << got;
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 200") << got;
  EXPECT_EQ(got.substr(end + 4, 12), "HTTP/1.1 200") << got;
}

// Windows and Office send a whole body without Expect: 100-continue. When keepdav refuses such a
// request before reading the body (here 409: no parent), the client must still get the answer,
// not a connection reset caused by closing with unread data.
TEST(HttpTest, RefusedLargeBodyStillGetsTheAnswer) {
  TestServer server;
  const size_t size = 8 << 20;
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server.port()));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  std::string head =
      "PUT /missing/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) +
      "\r\n\r\n";
  socket.sendBytes(head.data(), static_cast<int>(head.size()));
  std::string chunk(64 * 1024, 'x');
  size_t sent = 0;
  try {
    while (sent < size) {
      sent += static_cast<size_t>(socket.sendBytes(chunk.data(), static_cast<int>(chunk.size())));
    }
  } catch (const Poco::Exception& e) {
    ADD_FAILURE() << "sending the body failed after " << sent << " bytes: " << e.displayText();
  }
  std::string got;
  char buf[4096];
  try {
    for (int n; (n = socket.receiveBytes(buf, sizeof buf)) > 0;) got.append(buf, n);
  } catch (const Poco::Exception& e) {
    ADD_FAILURE() << "reading the answer failed: " << e.displayText();
  }
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 409") << got;
}

TEST(HttpTest, UnknownMethodIs501) {
  TestServer server;
  HttpResult r = server.Request("BREW", "/");
  EXPECT_EQ(r.status, 501);
}

TEST(HttpTest, OversizedXmlBodyIs413) {
  webdav::DavSettings settings;
  settings.xml.max_body_bytes = 1024;
  TestServer server(settings);
  std::string body = "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\"><D:allprop/>" +
                     std::string(2000, ' ') + "</D:propfind>";
  HttpResult r = server.Request("PROPFIND", "/", body, {{"Depth", "0"}});
  EXPECT_EQ(r.status, 413);
}

TEST(HttpTest, PropertiesSurviveRestart) {
  TestServer server;
  WriteFile(server.Disk("p.txt"), "x");
  std::string patch =
      "<?xml version=\"1.0\"?><D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\">"
      "<D:set><D:prop><Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>";
  ASSERT_EQ(server.Request("PROPPATCH", "/p.txt", patch).status, 207);
  server.Restart();
  HttpResult r = server.Request(
      "PROPFIND", "/p.txt",
      "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\"><D:prop><Z:color xmlns:Z=\"urn:z\"/>"
      "</D:prop></D:propfind>",
      {{"Depth", "0"}});
  EXPECT_EQ(r.status, 207);
  EXPECT_NE(r.body.find(">blue</Z:color>"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace keepdav::testing
