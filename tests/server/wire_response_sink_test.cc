// WireResponseSink over a real socket pair (PlainWire): the head it writes, the headers handed
// over at once (SetHeaders, as WriteResponse does), and files sent without a body stream
// (SendFile), for GET and HEAD.
#include "server/wire_response_sink.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "server/plain_wire.h"

namespace keepdav::server {
namespace {

// A connected pair: the sink writes on one end, the test reads everything from the other.
class SocketPair {
 public:
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  ~SocketPair() {
    if (fds_[0] >= 0) ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  int server() const { return fds_[0]; }
  // Everything written so far (the server end closed first).
  std::string ReadAll() {
    ::close(fds_[0]);
    fds_[0] = -1;
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fds_[1], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
};

// A temporary file holding `content`; the descriptor is open for reading.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/wire_response_sink_test.XXXXXX";
    fd_ = ::mkstemp(name);
    EXPECT_GE(fd_, 0);
    ::unlink(name);
    EXPECT_EQ(::write(fd_, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  }
  ~TempFile() { ::close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

std::string Head(const std::string& response) {
  return response.substr(0, response.find("\r\n\r\n") + 4);
}
std::string Body(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

TEST(WireResponseSinkTest, SetHeadersKeepsFirstPlaceAndLastValueOfARepeatedName) {
  SocketPair pair;
  PlainWire wire(pair.server());
  {
    WireResponseSink sink(wire, true, false, false, nullptr);
    sink.SetStatus(204);
    sink.SetHeaders({{"ETag", "\"a\""}, {"DAV", "1"}, {"etag", "\"b\""}, {"X-One", "1"}});
    sink.SendEmpty();
    sink.Finish();
  }
  std::string head = Head(pair.ReadAll());
  EXPECT_NE(head.find("ETag: \"b\"\r\nDAV: 1\r\nX-One: 1\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("\"a\""), std::string::npos) << head;
  EXPECT_EQ(head.find("etag"), std::string::npos) << head;
}

TEST(WireResponseSinkTest, SetHeadersAfterSetHeaderReplacesAndAppends) {
  SocketPair pair;
  PlainWire wire(pair.server());
  {
    WireResponseSink sink(wire, true, false, false, nullptr);
    sink.SetStatus(204);
    sink.SetHeader("DAV", "1");
    sink.SetHeaders({{"dav", "1, 2"}, {"Allow", "GET"}});
    sink.SendEmpty();
    sink.Finish();
  }
  std::string head = Head(pair.ReadAll());
  EXPECT_NE(head.find("\r\nDAV: 1, 2\r\nAllow: GET\r\n"), std::string::npos) << head;
}

TEST(WireResponseSinkTest, SendFileWritesHeadAndTheRangeWithItsLength) {
  TempFile file("0123456789");
  SocketPair pair;
  PlainWire wire(pair.server());
  bool keep_alive = false;
  {
    WireResponseSink sink(wire, true, false, false, nullptr);
    sink.SetStatus(206);
    sink.SetHeaders({{"Content-Type", "text/plain"}});
    EXPECT_TRUE(sink.SendFile(file.fd(), 2, 5));
    sink.Finish();
    keep_alive = sink.keep_alive();
  }
  std::string response = pair.ReadAll();
  EXPECT_EQ(response.compare(0, 29, "HTTP/1.1 206 Partial Content\r"), 0) << response;
  EXPECT_NE(Head(response).find("\r\nContent-Length: 5\r\n"), std::string::npos) << response;
  EXPECT_EQ(Body(response), "23456");
  EXPECT_TRUE(keep_alive);
}

TEST(WireResponseSinkTest, SendFileForHeadSendsTheLengthButNoBody) {
  TempFile file("0123456789");
  SocketPair pair;
  PlainWire wire(pair.server());
  {
    WireResponseSink sink(wire, true, false, /*head_only=*/true, nullptr);
    sink.SetStatus(200);
    EXPECT_TRUE(sink.SendFile(file.fd(), 0, 10));
    EXPECT_TRUE(sink.sent());
    sink.Finish();
  }
  std::string response = pair.ReadAll();
  EXPECT_NE(Head(response).find("\r\nContent-Length: 10\r\n"), std::string::npos) << response;
  EXPECT_EQ(Body(response), "");
}

TEST(WireResponseSinkTest, SendFileOfAFileThatShrankClosesTheConnection) {
  TempFile file("0123");
  SocketPair pair;
  PlainWire wire(pair.server());
  bool keep_alive = true;
  {
    WireResponseSink sink(wire, true, false, false, nullptr);
    sink.SetStatus(200);
    EXPECT_FALSE(sink.SendFile(file.fd(), 0, 10));  // announced 10, the file holds 4
    sink.Finish();
    keep_alive = sink.keep_alive();
  }
  std::string response = pair.ReadAll();
  EXPECT_NE(Head(response).find("\r\nContent-Length: 10\r\n"), std::string::npos) << response;
  EXPECT_EQ(Body(response), "0123");
  EXPECT_FALSE(keep_alive);
}

}  // namespace
}  // namespace keepdav::server
