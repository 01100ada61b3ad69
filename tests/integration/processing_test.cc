// 102 Processing during long operations, with a slowed file system so that a tree operation takes
// about a second while 102s are due every few tens of milliseconds.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "storage/fault_injecting_file_system.h"
#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

struct Exchange {
  int interim = 0;  // 102s before the final response
  int final_status = 0;
  std::vector<std::string> done_headers;  // Keepdav-Resources-Done values, in order
  std::string rest;                       // bytes after the final response
};

// Sends `request` on `socket` and reads interim responses and the final response.
Exchange Talk(Poco::Net::StreamSocket& socket, const std::string& request) {
  socket.sendBytes(request.data(), static_cast<int>(request.size()));
  Exchange ex;
  std::string buf;
  char chunk[65536];
  for (;;) {
    HttpResult r;
    size_t used = ParseResponse(buf, &r);
    if (used > 0) {
      buf.erase(0, used);
      if (r.status == 102) {
        ++ex.interim;
        ex.done_headers.push_back(r.headers["keepdav-resources-done"]);
        continue;
      }
      ex.final_status = r.status;
      ex.rest = buf;
      return ex;
    }
    int n = socket.receiveBytes(chunk, sizeof chunk);
    if (n <= 0) return ex;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

class ProcessingTest : public ::testing::Test {
 protected:
  void Start(const std::string& mode = "auto", const std::string& clients = "") {
    server_ = std::make_unique<TestServer>(webdav::DavSettings(), [=](server::ServerConfig& c) {
      c.processing.mode = mode;
      if (!clients.empty()) c.processing.client_rules = clients;
      c.processing.first_ms = 30;
      c.processing.interval_ms = 30;
      c.wrap_file_system = [this](std::unique_ptr<storage::FileSystem> fs) {
        auto faults = std::make_unique<storage::FaultInjectingFileSystem>(std::move(fs));
        faults_ = faults.get();
        return faults;
      };
    });
    // 4 folders of 100 files: with 2.5 ms per file a COPY takes about a second.
    for (int d = 0; d < 4; ++d) {
      std::string dir = server_->Disk("src/d" + std::to_string(d));
      std::filesystem::create_directories(dir);
      for (int f = 0; f < 100; ++f) WriteFile(dir + "/f" + std::to_string(f), "data");
    }
  }
  Exchange Send(const std::string& method, const std::string& target, const std::string& headers,
                const std::string& version = "HTTP/1.1") {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server_->port()));
    socket.setReceiveTimeout(Poco::Timespan(30, 0));
    return Talk(socket, method + " " + target + " " + version + "\r\nHost: 127.0.0.1\r\n" +
                            headers + "Connection: close\r\n\r\n");
  }
  using Op = storage::FaultInjectingFileSystem::Operation;
  // Every CopyFile and CopyFileNew (each member of a tree copy) sleeps `delay`.
  void SlowCopies(std::chrono::microseconds delay) {
    faults_->SetDelay(Op::kCopyFile, delay);
    faults_->SetDelay(Op::kCopyFileNew, delay);
  }
  storage::FaultInjectingFileSystem* faults_ = nullptr;  // owned by the server
  std::unique_ptr<TestServer> server_;
};

TEST_F(ProcessingTest, CopySends102WithProgressThenFinalAndKeepsAlive) {
  Start();
  SlowCopies(std::chrono::microseconds(2500));
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server_->port()));
  socket.setReceiveTimeout(Poco::Timespan(30, 0));
  Exchange ex = Talk(socket,
                     "COPY /src/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88.1\r\n"
                     "Destination: /dst/\r\n\r\n");
  EXPECT_EQ(ex.final_status, 201);
  EXPECT_GE(ex.interim, 5);
  ASSERT_FALSE(ex.done_headers.empty());
  EXPECT_LE(std::stoul(ex.done_headers.front()), std::stoul(ex.done_headers.back()));
  EXPECT_GT(std::stoul(ex.done_headers.back()), 0u);
  EXPECT_TRUE(Exists(server_->Disk("dst/d3/f99")));
  // Keep-alive still works after interim responses.
  Exchange next = Talk(socket, "OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(next.final_status, 200);
  EXPECT_EQ(next.interim, 0);
}

TEST_F(ProcessingTest, DeleteAndCrossDeviceMoveSend102) {
  Start();
  faults_->SetDelay(Op::kRemove, std::chrono::microseconds(2500));
  SlowCopies(std::chrono::microseconds(1000));
  faults_->set_rename_cross_device(true);
  faults_->set_other_device(
      storage::ResourcePath());  // the destination's parent looks like another device
  Exchange move = Send("MOVE", "/src/", "User-Agent: curl/7.88.1\r\nDestination: /moved/\r\n");
  EXPECT_EQ(move.final_status, 201);
  EXPECT_GE(move.interim, 3);
  EXPECT_FALSE(Exists(server_->Disk("src")));
  EXPECT_TRUE(Exists(server_->Disk("moved/d0/f0")));
  Exchange del = Send("DELETE", "/moved/", "User-Agent: node\r\n");
  EXPECT_EQ(del.final_status, 204);
  EXPECT_GE(del.interim, 3);
  EXPECT_FALSE(Exists(server_->Disk("moved")));
}

// After the swap of a COPY with Overwrite: T, removing the old destination is part of the work:
// the 102s keep counting through it instead of repeating the last copy figure.
TEST_F(ProcessingTest, ProgressKeepsCountingWhileTheOldDestinationIsRemoved) {
  Start();
  ASSERT_EQ(server_->Request("COPY", "/src/", "", {{"Destination", "/dst/"}}).status, 201);
  faults_->SetDelay(Op::kRemove, std::chrono::microseconds(2500));  // about 1 s for the old tree
  Exchange ex =
      Send("COPY", "/src/", "User-Agent: curl/7.88.1\r\nDestination: /dst/\r\nOverwrite: T\r\n");
  EXPECT_EQ(ex.final_status, 204);
  ASSERT_FALSE(ex.done_headers.empty());
  // 405 resources were copied; the old tree's removal adds to that.
  EXPECT_GT(std::stoul(ex.done_headers.back()), 450u);
}

TEST_F(ProcessingTest, PropfindStreamsWithoutInterimResponses) {
  Start();
  faults_->SetDelay(Op::kList, std::chrono::microseconds(2500));
  Exchange ex = Send("PROPFIND", "/src/", "User-Agent: curl/7.88.1\r\nDepth: infinity\r\n");
  EXPECT_EQ(ex.final_status, 207);
  EXPECT_EQ(ex.interim, 0);  // the 207 starts at once and streams; the client is never idle
}

TEST_F(ProcessingTest, PerClientPolicy) {
  Start();
  SlowCopies(std::chrono::microseconds(2500));
  struct Case {
    const char* agent;
    int min, max;
  } cases[] = {
      {"python-requests/2.31.0", 0, 0},
      {"Python-urllib/3.11", 0, 0},
      {"", 0, 0},  // unknown (bare http.client sends no User-Agent)
      {"SomeUnknownClient/1.0", 0, 0},
      {"Go-http-client/1.1", 5, 5},
      {"rclone/v1.60.1", 5, 5},
      {"cadaver/0.23.3 neon/0.32.5", 5, 120},
      {"curl/7.88.1", 5, 1000},
  };
  int n = 0;
  for (const Case& c : cases) {
    std::string headers = "Destination: /copy" + std::to_string(n++) + "/\r\n";
    if (*c.agent) headers += std::string("User-Agent: ") + c.agent + "\r\n";
    Exchange ex = Send("COPY", "/src/", headers);
    EXPECT_EQ(ex.final_status, 201) << c.agent;
    EXPECT_GE(ex.interim, c.min) << c.agent;
    EXPECT_LE(ex.interim, c.max) << c.agent;
  }
}

TEST_F(ProcessingTest, NoInterimResponseToHttp10) {
  Start("always");
  SlowCopies(std::chrono::microseconds(2500));
  Exchange ex =
      Send("COPY", "/src/", "User-Agent: curl/7.88.1\r\nDestination: /dst/\r\n", "HTTP/1.0");
  EXPECT_EQ(ex.final_status, 201);
  EXPECT_EQ(ex.interim, 0);
}

TEST_F(ProcessingTest, NeverMeansNever) {
  Start("never");
  SlowCopies(std::chrono::microseconds(2500));
  Exchange ex = Send("COPY", "/src/", "User-Agent: curl/7.88.1\r\nDestination: /dst/\r\n");
  EXPECT_EQ(ex.final_status, 201);
  EXPECT_EQ(ex.interim, 0);
}

TEST_F(ProcessingTest, ConfiguredClientRules) {
  Start("auto", "mytool=2,*=0");
  SlowCopies(std::chrono::microseconds(2500));
  Exchange ex = Send("COPY", "/src/", "User-Agent: MyTool/3\r\nDestination: /dst/\r\n");
  EXPECT_EQ(ex.interim, 2);
  ex = Send("COPY", "/src/", "User-Agent: curl/7.88.1\r\nDestination: /dst2/\r\n");
  EXPECT_EQ(ex.interim, 0);
}

size_t OpenFds() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++n;
  }
  return n;
}

bool AnyReservedName(const std::string& root) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.path().filename().string().rfind(".keepdav-", 0) == 0) return true;
  }
  return false;
}

// A client that hangs up in the middle of COPY with Overwrite: T: the COPY is cancelled and
// rolled back, the old destination is untouched, and no thread or descriptor leaks. This holds
// also for a client that gets no 102s (here: none to anyone).
class HangUpTest : public ProcessingTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(HangUpTest, HangUpMidCopyLeavesTheDestinationWhole) {
  Start(GetParam());
  SlowCopies(std::chrono::microseconds(5000));  // about 2 s for 400 files
  std::filesystem::create_directories(server_->Disk("dst/old"));
  WriteFile(server_->Disk("dst/old/keep.txt"), "old");
  size_t fds_before = OpenFds();
  {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server_->port()));
    std::string req =
        "COPY /src/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88.1\r\n"
        "Destination: /dst/\r\nOverwrite: T\r\n\r\n";
    socket.sendBytes(req.data(), static_cast<int>(req.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    socket.close();
  }
  // The roll-back happens within about a second of the hang-up.
  for (int i = 0; i < 100 && AnyReservedName(server_->root()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(AnyReservedName(server_->root()));
  EXPECT_EQ(ReadFile(server_->Disk("dst/old/keep.txt")), "old");
  EXPECT_FALSE(Exists(server_->Disk("dst/d0")));
  // The server is fine afterwards, and descriptors are back to where they were.
  HttpResult r = server_->Request("OPTIONS", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_LE(OpenFds(), fds_before + 2);  // the pool may keep one idle keep-alive socket
}

INSTANTIATE_TEST_SUITE_P(Modes, HangUpTest, ::testing::Values("auto", "never"));

// DELETE finishes even when the client hangs up: removed members cannot be brought back.
TEST_F(ProcessingTest, HangUpMidDeleteStillFinishes) {
  Start();
  faults_->SetDelay(Op::kRemove, std::chrono::microseconds(2500));
  {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server_->port()));
    std::string req = "DELETE /src/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88.1\r\n\r\n";
    socket.sendBytes(req.data(), static_cast<int>(req.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    socket.close();
  }
  for (int i = 0; i < 200 && Exists(server_->Disk("src")); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(Exists(server_->Disk("src")));
}

}  // namespace
}  // namespace keepdav::testing
