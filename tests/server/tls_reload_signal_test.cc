// WaitForTerminationReloadingOnHangup: SIGHUP reloads the certificate (a bad file is reported
// and the old pair kept), SIGTERM ends the wait; signals sent to the whole process reach the
// waiting thread because BlockServerSignals ran before any other thread started.
#include "server/tls_reload_signal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "server/tls_context.h"
#include "tests/server/tls_test_support.h"

namespace keepdav::server {
namespace {

using testing::ReadFileBytes;
using testing::TlsLib;
using testing::TlsTempDir;
using testing::WriteFileBytes;

void WaitFor(const std::atomic<int>& counter, int value) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (counter < value && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(TlsReloadSignalTest, SighupReloadsTheCertificateAndSigtermEndsTheWait) {
  BlockServerSignals();  // before the sender thread exists: it inherits the mask
  TlsTempDir dir;
  ASSERT_TRUE(TlsLib("tls_make_ca", {dir.path()}));
  ASSERT_TRUE(TlsLib("tls_make_server_cert", {dir.path(), "server"}));
  ASSERT_TRUE(TlsLib("tls_make_server_cert", {dir.path(), "renewed", "renewed"}));
  const std::string cert = dir.File("cert.pem"), key = dir.File("key.pem");
  WriteFileBytes(cert, ReadFileBytes(dir.File("server.pem")));
  WriteFileBytes(key, ReadFileBytes(dir.File("server.key")));
  auto tls = TlsContext::Create(cert, key);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();

  std::vector<storage::Status> reloads;
  std::atomic<int> reload_count{0};
  std::thread sender([&] {
    WriteFileBytes(cert, ReadFileBytes(dir.File("renewed.pem")));
    WriteFileBytes(key, ReadFileBytes(dir.File("renewed.key")));
    ::kill(::getpid(), SIGHUP);
    WaitFor(reload_count, 1);
    WriteFileBytes(cert, "garbage\n");
    ::kill(::getpid(), SIGHUP);
    WaitFor(reload_count, 2);
    ::kill(::getpid(), SIGTERM);
  });
  int signal =
      WaitForTerminationReloadingOnHangup(tls.value().get(), [&](const storage::Status& status) {
        reloads.push_back(status);
        ++reload_count;
      });
  sender.join();
  EXPECT_EQ(signal, SIGTERM);
  ASSERT_EQ(reloads.size(), 2u);
  EXPECT_TRUE(reloads[0].ok()) << reloads[0].ToString();
  EXPECT_FALSE(reloads[1].ok());
  EXPECT_NE(reloads[1].message().find(cert), std::string::npos) << reloads[1].message();
  EXPECT_EQ(tls.value()->CurrentSubject(), "CN = renewed");
}

TEST(TlsReloadSignalTest, WithoutTlsSighupIsIgnored) {
  BlockServerSignals();
  int calls = 0;
  std::thread sender([] {
    ::kill(::getpid(), SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(::getpid(), SIGQUIT);
  });
  int signal =
      WaitForTerminationReloadingOnHangup(nullptr, [&](const storage::Status&) { ++calls; });
  sender.join();
  EXPECT_EQ(signal, SIGQUIT);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace keepdav::server
