// The connection side of the real server stack (Poco's HTTPServer machinery with keepdav's
// request handler): limits, idle and slow clients, pipelining, and what a malformed request head
// gets.
#include <gtest/gtest.h>

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "tests/integration/test_server.h"
#include "tests/time_factor.h"

namespace keepdav::testing {
namespace {

std::unique_ptr<Poco::Net::StreamSocket> Connect(const TestServer& server, int timeout_s = 5) {
  auto s = std::make_unique<Poco::Net::StreamSocket>(
      Poco::Net::SocketAddress("127.0.0.1", server.port()));
  s->setReceiveTimeout(Poco::Timespan(timeout_s, 0));
  return s;
}

void Send(Poco::Net::StreamSocket& s, const std::string& data) {
  s.sendBytes(data.data(), static_cast<int>(data.size()));
}

// Reads one whole response (head and Content-Length or chunked body); bytes of the responses
// after it stay in `*pending` for the next call.
HttpResult ReadResponse(Poco::Net::StreamSocket& s, std::string* pending) {
  char buf[4096];
  HttpResult r;
  size_t used;
  while ((used = ParseResponse(*pending, &r)) == 0) {
    int n = s.receiveBytes(buf, sizeof buf);
    if (n <= 0) break;
    pending->append(buf, static_cast<size_t>(n));
  }
  pending->erase(0, used);
  return r;
}

HttpResult ReadResponse(Poco::Net::StreamSocket& s) {
  std::string pending;
  return ReadResponse(s, &pending);
}

// True when the server closed the connection (EOF within the socket's timeout).
bool ClosedByServer(Poco::Net::StreamSocket& s) {
  char c;
  try {
    return s.receiveBytes(&c, 1) == 0;
  } catch (const Poco::Net::ConnectionResetException&) {
    return true;
  } catch (const Poco::TimeoutException&) {
    return false;
  }
}

TEST(ConnectionTest, MalformedHeadsGetTheirStatusAndAClose) {
  TestServer server;
  struct Case {
    std::string head;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
           {"GET / HTTP/1.1\r\n\r\n", 400},
           {"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505},
           {"PUT /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
           {"PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
       }) {
    std::string got = server.Raw(c.head);
    HttpResult r;
    ASSERT_GT(ParseResponse(got, &r), 0u) << c.head;
    EXPECT_EQ(r.status, c.status) << c.head;
    EXPECT_EQ(r.headers["connection"], "close") << c.head;
  }
  EXPECT_FALSE(Exists(server.Disk("f")));
}

TEST(ConnectionTest, OversizedHeadIs431) {
  TestServer server({}, [](server::ServerConfig& c) { c.max_request_head = 4096; });
  std::string got =
      server.Raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'b') + "\r\n\r\n");
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 431") << got.substr(0, 100);
  // Just under the limit is fine.
  got = server.Raw("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " +
                   std::string(3900, 'b') + "\r\n\r\n");
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 200") << got.substr(0, 100);
}

// Requests pipelined in one send are all answered, in order.
TEST(ConnectionTest, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server;
  WriteFile(server.Disk("a.txt"), "aaa");
  WriteFile(server.Disk("b.txt"), "bb");
  auto s = Connect(server);
  std::string batch;
  for (int i = 0; i < 20; ++i) {
    batch += std::string("GET /") + (i % 2 ? "b" : "a") + ".txt HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  Send(*s, batch);
  std::string pending;
  for (int i = 0; i < 20; ++i) {
    HttpResult r = ReadResponse(*s, &pending);
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.body, i % 2 ? "bb" : "aaa") << i;
  }
}

// A client that sends half a head and stops holds only its own connection's thread, not a
// request slot: with a single slot, other clients are still served, and the stalled connection
// is closed after --timeout.
TEST(ConnectionTest, SlowHeadDoesNotBlockOthersAndTimesOut) {
  TestServer server({}, [](server::ServerConfig& c) {
    c.threads = 1;
    c.timeout_s = 1;
  });
  auto slow = Connect(server);
  Send(*slow, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  auto idle = Connect(server);  // connected, nothing sent
  for (int i = 0; i < 3; ++i) {
    HttpResult r = server.Request("OPTIONS", "/");
    EXPECT_EQ(r.status, 200);
  }
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedByServer(*slow));
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            test_support::Scaled(std::chrono::seconds(4)));
}

TEST(ConnectionTest, IdleKeepAliveConnectionIsClosed) {
  TestServer server({}, [](server::ServerConfig& c) { c.keep_alive_timeout_s = 1; });
  auto s = Connect(server);
  Send(*s, "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ReadResponse(*s).status, 200);
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedByServer(*s));
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(500));
  EXPECT_LT(waited, test_support::Scaled(std::chrono::seconds(4)));
}

// Beyond --max-connections, new clients wait (in Poco's queue) until one closes.
TEST(ConnectionTest, ConnectionsOverTheLimitWait) {
  TestServer server({}, [](server::ServerConfig& c) { c.max_connections = 3; });
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(Connect(server));
    Send(*open.back(), "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(ReadResponse(*open.back()).status, 200);
  }
  auto waiting = Connect(server, 1);
  Send(*waiting, "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n");
  char c;
  EXPECT_THROW(waiting->receiveBytes(&c, 1), Poco::TimeoutException);
  open.pop_back();  // one closes: the waiting one is accepted and answered
  waiting->setReceiveTimeout(Poco::Timespan(5, 0));
  EXPECT_EQ(ReadResponse(*waiting).status, 200);
}

// Uploads that stall mid-body each hold a request slot; the others still get served at once.
TEST(ConnectionTest, StalledUploadsDoNotStarveOthers) {
  TestServer server({}, [](server::ServerConfig& c) { c.threads = 8; });
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> stalled;
  for (int i = 0; i < 6; ++i) {
    stalled.push_back(Connect(server));
    Send(*stalled.back(), "PUT /up" + std::to_string(i) +
                              ".bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                              "only the start");
  }
  for (int i = 0; i < 5; ++i) {
    auto started = std::chrono::steady_clock::now();
    HttpResult r = server.Request("OPTIONS", "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - started,
              test_support::Scaled(std::chrono::seconds(1)));
  }
  stalled.clear();  // the uploads fail (400) and leave nothing behind
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(Exists(server.Disk("up" + std::to_string(i) + ".bin")));
}

// Many concurrent keep-alive clients with few request slots: every request is answered.
TEST(ConnectionTest, ManyClientsFewThreads) {
  TestServer server({}, [](server::ServerConfig& c) { c.threads = 2; });
  WriteFile(server.Disk("f.txt"), std::string(10000, 'f'));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 16; ++t) {
    clients.emplace_back([&] {
      auto s = Connect(server);
      for (int i = 0; i < 50; ++i) {
        Send(*s, "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        HttpResult r = ReadResponse(*s);
        if (r.status == 200 && r.body.size() == 10000) ++ok;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 16 * 50);
}

// A stop lets the request in progress finish, but does not wait for clients that send nothing:
// Poco's stopAll waits for the lock a connection holds while it reads a request head, so a
// client that connected and sent nothing, or half a head, held the stop for the whole --timeout
// (60 s here) before ClientConnectionLimit::EndWaitingConnections.
TEST(ConnectionTest, StopDoesNotWaitForSilentClients) {
  TestServer server({}, [](server::ServerConfig& c) {
    c.timeout_s = 60;
    c.test_delay_us = 100 * 1000;  // per listed resource
  });
  ASSERT_EQ(server.Request("MKCOL", "/d/").status, 201);
  for (int i = 0; i < 10; ++i) WriteFile(server.Disk("d/f" + std::to_string(i)), "x");
  auto silent = Connect(server, 30);  // connected, nothing sent
  auto partial = Connect(server, 30);
  Send(*partial, "GET / HTTP/1.1\r\nHost: x\r\n");
  auto idle = Connect(server, 30);  // one request answered, then idle in keep-alive
  Send(*idle, "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ReadResponse(*idle).status, 200);
  auto busy = Connect(server, 30);  // a PROPFIND listing 11 resources, 0.1 s each
  Send(*busy, "PROPFIND /d/ HTTP/1.1\r\nHost: x\r\nDepth: 1\r\nContent-Length: 0\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  server.server().Stop();
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, test_support::Scaled(std::chrono::seconds(10)));
  HttpResult listed = ReadResponse(*busy);
  EXPECT_EQ(listed.status, 207);
  EXPECT_NE(listed.body.find("/d/f9"), std::string::npos);
  EXPECT_TRUE(ClosedByServer(*busy));
  EXPECT_TRUE(ClosedByServer(*silent));
  EXPECT_TRUE(ClosedByServer(*partial));
  EXPECT_TRUE(ClosedByServer(*idle));
}

}  // namespace
}  // namespace keepdav::testing
