// Every path resolves inside the root: traversal attempts, symlinks, the database and keepdav's
// own temporary names are never reachable.
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

class SafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(server_.dir() + "/secret.txt", "SECRET");
    WriteFile(server_.Disk("ok.txt"), "fine");
  }
  int RawStatus(const std::string& target, const std::string& method = "GET") {
    HttpResult r;
    std::string got =
        server_.Raw(method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(got.find("SECRET"), std::string::npos) << target;
    return ParseResponse(got, &r) ? r.status : 0;
  }
  TestServer server_;
};

TEST_F(SafetyTest, TraversalAttemptsNeverEscape) {
  for (const char* target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/ok.txt/../../secret.txt",
        "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt",
        "/ok.txt%00.html", "/.%2e/secret.txt", "//../secret.txt"}) {
    int status = RawStatus(target);
    EXPECT_TRUE(status == 400 || status == 404) << target << " -> " << status;
  }
  EXPECT_EQ(RawStatus("/ok.txt"), 200);
}

TEST_F(SafetyTest, SymlinkOutsideRootIsNotFollowed) {
  ASSERT_EQ(::symlink((server_.dir() + "/secret.txt").c_str(), server_.Disk("link").c_str()), 0);
  ASSERT_EQ(::symlink(server_.dir().c_str(), server_.Disk("dirlink").c_str()), 0);
  EXPECT_EQ(RawStatus("/link"), 404);
  EXPECT_EQ(RawStatus("/dirlink/secret.txt"), 404);
  HttpResult put = server_.Request("PUT", "/dirlink/new.txt", "x");
  EXPECT_TRUE(put.status == 404 || put.status == 409) << put.status;
  EXPECT_FALSE(Exists(server_.dir() + "/new.txt"));
  HttpResult list = server_.Request("PROPFIND", "/", "", {{"Depth", "1"}});
  EXPECT_EQ(list.body.find("link"), std::string::npos) << list.body;
}

TEST_F(SafetyTest, ReservedNamesAreInvisible) {
  WriteFile(server_.Disk(".keepdav-tmp-1234"), "partial");
  EXPECT_EQ(RawStatus("/.keepdav-tmp-1234"), 404);
  HttpResult list = server_.Request("PROPFIND", "/", "", {{"Depth", "1"}});
  EXPECT_EQ(list.body.find(".keepdav-"), std::string::npos);
  HttpResult put = server_.Request("PUT", "/.keepdav-tmp-1234", "overwrite");
  EXPECT_EQ(put.status, 404);
  EXPECT_EQ(ReadFile(server_.Disk(".keepdav-tmp-1234")), "partial");
}

TEST_F(SafetyTest, DestinationCannotEscapeOrHitReservedNames) {
  HttpResult r = server_.Request("COPY", "/ok.txt", "", {{"Destination", "/../escaped.txt"}});
  EXPECT_TRUE(r.status == 400 || r.status == 403) << r.status;
  EXPECT_FALSE(Exists(server_.dir() + "/escaped.txt"));
  r = server_.Request("MOVE", "/ok.txt", "", {{"Destination", "/.keepdav-x"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(Exists(server_.Disk("ok.txt")));
}

}  // namespace
}  // namespace keepdav::testing
