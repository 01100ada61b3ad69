// Locks live in the database: a lock taken before a restart still holds after it (issue 3).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

TEST(LockRestartTest, LockSurvivesARestart) {
  TestServer server;
  WriteFile(server.Disk("report.odt"), "v1");
  HttpResult lock =
      server.Request("LOCK", "/report.odt",
                     "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
                     "<D:locktype><D:write/></D:locktype><D:owner>office</D:owner></D:lockinfo>",
                     {{"Timeout", "Second-600"}});
  ASSERT_EQ(lock.status, 200) << lock.body;
  std::string header = lock.headers["lock-token"];
  ASSERT_GT(header.size(), 2u);
  std::string token = header.substr(1, header.size() - 2);

  server.Restart();

  // A tokenless PUT is still refused...
  HttpResult put = server.Request("PUT", "/report.odt", "intruder");
  EXPECT_EQ(put.status, 423);
  EXPECT_NE(put.body.find("lock-token-submitted"), std::string::npos) << put.body;
  EXPECT_EQ(ReadFile(server.Disk("report.odt")), "v1");
  // ...the owner's PUT with the token is admitted...
  put = server.Request("PUT", "/report.odt", "v2", {{"If", "(<" + token + ">)"}});
  EXPECT_EQ(put.status, 204);
  EXPECT_EQ(ReadFile(server.Disk("report.odt")), "v2");
  // ...and lock discovery still reports it, owner and all.
  HttpResult found = server.Request(
      "PROPFIND", "/report.odt",
      "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:lockdiscovery/></D:prop></D:propfind>",
      {{"Depth", "0"}});
  EXPECT_NE(found.body.find(token), std::string::npos) << found.body;
  EXPECT_NE(found.body.find(">office</D:owner>"), std::string::npos) << found.body;
  EXPECT_EQ(server.Request("UNLOCK", "/report.odt", "", {{"Lock-Token", "<" + token + ">"}}).status,
            204);
  server.Restart();
  EXPECT_EQ(server.Request("PUT", "/report.odt", "v3").status, 204);
}

}  // namespace
}  // namespace keepdav::testing
