// The HTTP engine (Poco's HTTPServer machinery under keepdav, issue 10): request bodies cut off
// at every place a chunked or Content-Length body can end early, many idle keep-alive
// connections (each holds a Poco pool thread), and the per-client connection cap.
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/client_connection_limit.h"
#include "tests/integration/test_server.h"
#include "tests/time_factor.h"

namespace keepdav::testing {
namespace {

// A client connection from a chosen local address (the whole of 127/8 is local), on a raw
// descriptor so that a test can hold a thousand of them cheaply.
class Client {
 public:
  Client(const std::string& from, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in local = {};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    struct sockaddr_in server = {};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    connected_ = fd_ >= 0 &&
                 ::bind(fd_, reinterpret_cast<struct sockaddr*>(&local), sizeof local) == 0 &&
                 ::connect(fd_, reinterpret_cast<struct sockaddr*>(&server), sizeof server) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  void ShutdownSend() { ::shutdown(fd_, SHUT_WR); }
  // Reads one whole response (status 0: the connection closed or nothing came in `timeout_ms`).
  HttpResult Receive(int timeout_ms = 5000) {
    HttpResult r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (ParseResponse(pending_, &r) == 0) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      struct pollfd p = {fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, left) <= 0) return HttpResult();
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return HttpResult();
      }
      pending_.append(buf, static_cast<size_t>(n));
    }
    pending_.clear();
    return r;
  }
  // True when the server closed the connection within `timeout_ms`.
  bool ClosedByServer(int timeout_ms = 5000) {
    if (closed_) return true;
    struct pollfd p = {fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) <= 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string pending_;
};

const char kGet[] = "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n";

// Sends a PUT of /keep.txt whose body stops at `cut`, then closes the sending side as a client
// that went away would. The upload must fail: 400, or the connection closed with no success.
void ExpectCutOffPutFails(TestServer& server, const std::string& head, const std::string& cut,
                          const std::string& where) {
  WriteFile(server.Disk("keep.txt"), "old contents");
  HttpResult r;
  std::string got = server.Raw(head + cut, 5000, /*half_close=*/true);
  if (ParseResponse(got, &r) > 0) {
    EXPECT_EQ(r.status, 400) << where << ": " << got;
  }
  EXPECT_EQ(ReadFile(server.Disk("keep.txt")), "old contents") << where;
}

// Poco 1.11's chunked stream took each of these for a complete body (and stored the truncated
// file with 201); keepdav's decoder reads them as the errors they are.
TEST(EngineTest, ChunkedUploadCutOffAnywhereKeepsTheOldFile) {
  TestServer server;
  const std::string head =
      "PUT /keep.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  ExpectCutOffPutFails(server, head, "5\r\nhello\r\n", "where a chunk-size line should be");
  ExpectCutOffPutFails(server, head, "5\r\nhello\r\n1", "inside a chunk-size line");
  ExpectCutOffPutFails(server, head, "5\r\nhello\r\n1a;ext", "inside a chunk extension");
  ExpectCutOffPutFails(server, head, "5\r\nhello\r\na\r\nhel", "inside chunk data");
  ExpectCutOffPutFails(server, head, "5\r\nhello\r\n0\r\n", "before the trailer's end");
  // A large upload cut inside its data, past what Poco's buffer held with the head.
  ExpectCutOffPutFails(server, head, "100000\r\n" + std::string(300000, 'z'),
                       "inside a large chunk");
}

TEST(EngineTest, ShortContentLengthBodyKeepsTheOldFile) {
  TestServer server;
  ExpectCutOffPutFails(server, "PUT /keep.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
                       "hello", "short small body");
  ExpectCutOffPutFails(server,
                       "PUT /keep.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n",
                       std::string(200000, 'z'), "short large body");
  ExpectCutOffPutFails(server, "PUT /keep.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
                       "", "no body at all");
  // The whole body is stored.
  HttpResult r;
  ASSERT_GT(ParseResponse(server.Raw("PUT /keep.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
                                     "Connection: close\r\n\r\n0123456789"),
                          &r),
            0u);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(ReadFile(server.Disk("keep.txt")), "0123456789");
}

// Each open connection holds a Poco pool thread, idle or not. With 1,000 idle keep-alive
// connections from twenty addresses (50 each, under the per-client cap), a new client's GET is
// still answered within a second.
TEST(EngineTest, ThousandIdleConnectionsThenANewClientIsServedAtOnce) {
  struct rlimit limit;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 4096 && limit.rlim_max > limit.rlim_cur) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
    ::setrlimit(RLIMIT_NOFILE, &limit);  // both ends of 1,000 connections live in this process
  }
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 2200) GTEST_SKIP() << "RLIMIT_NOFILE " << limit.rlim_cur << " < 2200";
  TestServer server({}, [](server::ServerConfig& c) { c.keep_alive_timeout_s = 60; });
  WriteFile(server.Disk("f.txt"), "small file");
  std::vector<std::unique_ptr<Client>> idle;
  // 1,000 normally; build-tsan/ runs fewer (KEEPDAV_TEST_WORK_PERCENT): each is a server thread.
  const int idle_count = test_support::Sized(1000, 100);
  for (int i = 0; i < idle_count; ++i) {
    std::string from = "127.0.0." + std::to_string(2 + i / 50);
    idle.push_back(std::make_unique<Client>(from, server.port()));
    ASSERT_TRUE(idle.back()->connected()) << i;
    ASSERT_TRUE(idle.back()->Send(kGet)) << i;
  }
  for (size_t i = 0; i < idle.size(); ++i) {
    HttpResult r = idle[i]->Receive();
    ASSERT_EQ(r.status, 200) << i;  // answered, and now idle in keep-alive
  }
  for (int round = 0; round < 3; ++round) {
    auto started = std::chrono::steady_clock::now();
    Client fresh("127.0.0.1", server.port());
    ASSERT_TRUE(fresh.connected());
    ASSERT_TRUE(fresh.Send(kGet));
    HttpResult r = fresh.Receive(test_support::Scaled(1000));
    EXPECT_EQ(r.status, 200) << round;
    EXPECT_EQ(r.body, "small file");
    EXPECT_LT(std::chrono::steady_clock::now() - started,
              test_support::Scaled(std::chrono::seconds(1)))
        << round;
  }
  // The idle ones are still open and served.
  for (size_t i = 0; i < idle.size(); i += 97) {
    ASSERT_TRUE(idle[i]->Send(kGet));
    EXPECT_EQ(idle[i]->Receive().status, 200) << i;
  }
}

// One address opening more than --max-connections-per-client gets the extra ones closed
// unanswered; its open connections, and every other address, go on being served; once one of
// its connections closes, it may open another.
TEST(EngineTest, OneClientOverItsConnectionCapIsRefusedWithoutHarmingOthers) {
  TestServer server({}, [](server::ServerConfig& c) { c.max_connections_per_client = 4; });
  WriteFile(server.Disk("f.txt"), "small file");
  std::vector<std::unique_ptr<Client>> greedy;
  for (int i = 0; i < 4; ++i) {
    greedy.push_back(std::make_unique<Client>("127.0.0.2", server.port()));
    ASSERT_TRUE(greedy.back()->Send(kGet));
    ASSERT_EQ(greedy.back()->Receive().status, 200) << i;
  }
  for (int i = 0; i < 3; ++i) {
    Client extra("127.0.0.2", server.port());
    extra.Send(kGet);  // may fail: the server may have closed it already
    EXPECT_EQ(extra.Receive(2000).status, 0) << i;
    EXPECT_TRUE(extra.ClosedByServer(2000)) << i;
  }
  // Others are not harmed: another address, and the greedy client's open connections.
  for (const char* from : {"127.0.0.3", "127.0.0.1"}) {
    Client other(from, server.port());
    ASSERT_TRUE(other.Send(kGet));
    EXPECT_EQ(other.Receive().status, 200) << from;
  }
  for (auto& c : greedy) {
    ASSERT_TRUE(c->Send(kGet));
    EXPECT_EQ(c->Receive().status, 200);
  }
  // One closes; the count follows, and a new connection from that address is let in.
  greedy.pop_back();
  bool served = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!served && std::chrono::steady_clock::now() < deadline) {
    Client again("127.0.0.2", server.port());
    served = again.Send(kGet) && again.Receive(2000).status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
}

// A trusted proxy (--trusted-proxies) carries every client's connections from its one address:
// the per-address cap does not apply to it (issue 11), while an untrusted address beside it is
// still capped.
TEST(EngineTest, TrustedProxyHasNoPerAddressConnectionCap) {
  TestServer server({}, [](server::ServerConfig& c) {
    c.max_connections_per_client = 2;
    c.trusted_proxies = "127.0.0.2/32";
  });
  WriteFile(server.Disk("f.txt"), "small file");
  std::vector<std::unique_ptr<Client>> proxy;
  for (int i = 0; i < 8; ++i) {
    proxy.push_back(std::make_unique<Client>("127.0.0.2", server.port()));
    ASSERT_TRUE(proxy.back()->Send(kGet)) << i;
    ASSERT_EQ(proxy.back()->Receive().status, 200) << i;
  }
  // All 8 stay open and served.
  for (auto& c : proxy) {
    ASSERT_TRUE(c->Send(kGet));
    EXPECT_EQ(c->Receive().status, 200);
  }
  std::vector<std::unique_ptr<Client>> other;
  for (int i = 0; i < 2; ++i) {
    other.push_back(std::make_unique<Client>("127.0.0.3", server.port()));
    ASSERT_TRUE(other.back()->Send(kGet));
    ASSERT_EQ(other.back()->Receive().status, 200) << i;
  }
  Client extra("127.0.0.3", server.port());
  extra.Send(kGet);  // may fail: the server may have closed it already
  EXPECT_EQ(extra.Receive(2000).status, 0);
  EXPECT_TRUE(extra.ClosedByServer(2000));
}

// Answers every request with 200 "ok".
class OkHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest&,
                     Poco::Net::HTTPServerResponse& response) override {
    response.setContentLength(2);
    response.send() << "ok";
  }
};
class OkHandlers : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new OkHandler;
  }
};

// A connection Poco's dispatcher drops unserved (its queue full) is still held by the filter's
// copy of the socket; the filter releases it, closing it, at its next accept. (keepdav's own
// total cap keeps the queue from filling; here the queue is made smaller than the filter's cap
// on purpose.) Ended connections are no longer counted.
TEST(EngineTest, ConnectionDroppedByAFullQueueIsClosedAtTheNextAccept) {
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(1);
  params->setMaxQueued(1);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(30, 0));
  server::ClientConnectionLimit::Ptr limit =
      new server::ClientConnectionLimit(100, 100, {}, Poco::Timespan(30, 0));
  Poco::ThreadPool pool(1, 1);
  Poco::Net::HTTPServer http(new OkHandlers, pool,
                             Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)),
                             params);
  http.setConnectionFilter(limit);
  http.start();
  const uint16_t port = http.port();
  const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  Client busy("127.0.0.1", port);  // holds the only thread, idle in keep-alive
  ASSERT_TRUE(busy.Send(get));
  ASSERT_EQ(busy.Receive().status, 200);
  Client queued("127.0.0.1", port);  // fills the queue
  ASSERT_TRUE(queued.connected());
  auto wait_for = [](auto done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return http.queuedConnections() == 1; }));
  Client dropped("127.0.0.1", port);
  ASSERT_TRUE(dropped.connected());
  ASSERT_TRUE(wait_for([&] { return http.refusedConnections() == 1; }));
  Client next("127.0.0.1", port);  // its accept prunes the dropped socket
  ASSERT_TRUE(next.connected());
  EXPECT_TRUE(dropped.ClosedByServer(2000));
  EXPECT_EQ(dropped.Receive(100).status, 0);  // closed unanswered
  EXPECT_GE(http.refusedConnections(), 1);
  // Every client closes: no connection is counted any more.
  busy.ShutdownSend();
  queued.ShutdownSend();
  next.ShutdownSend();
  EXPECT_TRUE(wait_for([&] { return limit->open() == 0; })) << limit->open();
  http.stopAll(true);
  pool.joinAll();
}

}  // namespace
}  // namespace keepdav::testing
