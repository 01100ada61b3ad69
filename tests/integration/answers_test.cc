// What keepdav answers a newcomer's browser and tools (issue 16, "Answers"), end to end over a
// socket: error bodies without file-system detail (which the log keeps), a collection named
// without its slash (301 for GET and HEAD, Content-Location for the other methods), the HTML
// listing (absolute links, folders first, sorted) and the compiled-in /favicon.ico.
#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include "tests/integration/test_server.h"
#include "webdav/favicon.h"

namespace keepdav::testing {
namespace {

// Records what keepdav.dav logs, to check the detail a body leaves out is still logged.
class RecordingChannel : public Poco::Channel {
 public:
  void log(const Poco::Message& msg) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(msg.getText());
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string all;
    for (const std::string& l : lines_) all += l + "\n";
    return all;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

class AnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Poco::Logger& log = Poco::Logger::get("keepdav.dav");
    old_channel_ = log.getChannel();
    old_level_ = log.getLevel();
    log.setChannel(channel_);
    log.setLevel(Poco::Message::PRIO_INFORMATION);
  }
  void TearDown() override {
    Poco::Logger& log = Poco::Logger::get("keepdav.dav");
    log.setChannel(old_channel_);
    log.setLevel(old_level_);
  }
  void MakeDir(const std::string& relative) {
    ASSERT_EQ(::mkdir(server_.Disk(relative).c_str(), 0755), 0) << relative;
  }
  HttpResult RawRequest(const std::string& request_line) {
    HttpResult r;
    std::string got =
        server_.Raw(request_line + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_GT(ParseResponse(got, &r), 0u) << got;
    return r;
  }
  static std::string Header(const HttpResult& r, const std::string& lower_name) {
    auto it = r.headers.find(lower_name);
    return it == r.headers.end() ? "" : it->second;
  }

  Poco::AutoPtr<RecordingChannel> channel_{new RecordingChannel};
  Poco::Channel::Ptr old_channel_;
  int old_level_ = 0;
  TestServer server_;
};

TEST_F(AnswersTest, ErrorBodySaysStatusAndReasonNotTheFileSystem) {
  ASSERT_EQ(::symlink("/etc", server_.Disk("etc-link").c_str()), 0);
  HttpResult r = server_.Request("GET", "/etc-link/passwd");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "404 Not Found: no such resource\n");
  EXPECT_EQ(Header(r, "content-type"), "text/plain; charset=utf-8");
  // The log line keeps what the client is not told: the path on the disk and why it failed.
  std::string log = channel_->All();
  // (the errno text depends on how the file system resolves: openat2 says ELOOP's).
  EXPECT_NE(log.find("GET /etc-link/passwd -> 404 no such resource (stat /etc-link/passwd: "),
            std::string::npos)
      << log;
}

TEST_F(AnswersTest, ErrorBodyWithPreconditionIsDavError) {
  WriteFile(server_.Disk("f.txt"), "x");
  HttpResult lock =
      server_.Request("LOCK", "/f.txt",
                      "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
                      "<D:locktype><D:write/></D:locktype></D:lockinfo>");
  ASSERT_EQ(lock.status, 200) << lock.body;
  HttpResult r = server_.Request("PUT", "/f.txt", "y");
  EXPECT_EQ(r.status, 423);
  EXPECT_NE(r.body.find("<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted>"), std::string::npos)
      << r.body;
  EXPECT_EQ(ReadFile(server_.Disk("f.txt")), "x");
}

// lftp ("cd up; put f" wrote /f) and browsers resolve relative names against the parent of a
// URL without its slash: GET and HEAD of a collection so named are sent to the slashed URL.
TEST_F(AnswersTest, GetAndHeadOfCollectionWithoutSlashRedirect) {
  MakeDir("up");
  MakeDir("a b");
  for (const char* method : {"GET", "HEAD"}) {
    HttpResult r = server_.Request(method, "/up");
    EXPECT_EQ(r.status, 301) << method;
    EXPECT_EQ(Header(r, "location"), "/up/") << method;
    EXPECT_EQ(r.body, "") << method;
  }
  EXPECT_EQ(Header(server_.Request("GET", "/up?sort=name&x=%41"), "location"),
            "/up/?sort=name&x=%41");
  EXPECT_EQ(Header(server_.Request("GET", "/a%20b"), "location"), "/a%20b/");
  HttpResult absolute = RawRequest("GET http://x/up?q");
  EXPECT_EQ(absolute.status, 301);
  EXPECT_EQ(Header(absolute, "location"), "/up/?q");
  // With the slash, or for a file, or the root: no redirect.
  EXPECT_EQ(server_.Request("GET", "/up/").status, 200);
  EXPECT_EQ(server_.Request("HEAD", "/up/").status, 200);
  EXPECT_EQ(server_.Request("GET", "/").status, 200);
  WriteFile(server_.Disk("up/f"), "data");
  HttpResult file = server_.Request("GET", "/up/f");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "data");
}

// RFC 4918 §5.2: the other methods act on the collection and name it with the slash. Joplin and
// Seedvault break on a 301 to PROPFIND.
TEST_F(AnswersTest, OtherMethodsOnCollectionWithoutSlashAddContentLocation) {
  MakeDir("dir");
  WriteFile(server_.Disk("file.txt"), "x");
  HttpResult r = server_.Request("PROPFIND", "/dir", "", {{"Depth", "0"}});
  EXPECT_EQ(r.status, 207);
  EXPECT_EQ(Header(r, "content-location"), "/dir/");
  EXPECT_NE(r.body.find("<D:href>/dir/</D:href>"), std::string::npos) << r.body;
  EXPECT_EQ(Header(server_.Request("PROPFIND", "/dir/", "", {{"Depth", "0"}}), "content-location"),
            "");
  EXPECT_EQ(
      Header(server_.Request("PROPFIND", "/file.txt", "", {{"Depth", "0"}}), "content-location"),
      "");

  r = server_.Request("PROPPATCH", "/dir",
                      "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\"><D:set><D:prop>"
                      "<Z:c>1</Z:c></D:prop></D:set></D:propertyupdate>");
  EXPECT_EQ(r.status, 207);
  EXPECT_EQ(Header(r, "content-location"), "/dir/");

  r = server_.Request("MKCOL", "/made");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(Header(r, "content-location"), "/made/");

  r = server_.Request("COPY", "/dir", "", {{"Destination", "/copy/"}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(Header(r, "content-location"), "/dir/");

  r = server_.Request("DELETE", "/copy");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Header(r, "content-location"), "/copy/");
  EXPECT_FALSE(Exists(server_.Disk("copy")));

  r = server_.Request("OPTIONS", "/dir");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "content-location"), "/dir/");
  EXPECT_EQ(Header(server_.Request("OPTIONS", "/file.txt"), "content-location"), "");

  r = server_.Request("PUT", "/file.txt", "y");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Header(r, "content-location"), "");
}

TEST_F(AnswersTest, ListingLinksAreAbsoluteAndFoldersComeFirstByName) {
  MakeDir("top");
  MakeDir("top/zeta");
  MakeDir("top/Alpha");
  WriteFile(server_.Disk("top/b.txt"), "1");
  WriteFile(server_.Disk("top/A file.txt"), "22");
  WriteFile(server_.Disk("top/c.txt"), "333");
  HttpResult r = server_.Request("GET", "/top/");
  ASSERT_EQ(r.status, 200);
  // The browser page (webdav/assets/README.md): the parent row, then the members.
  const std::vector<std::string> in_order = {
      "<tr class=\"up\"><td class=\"name\"><a href=\"/\"><span>Parent folder</span></a>",
      "<a href=\"/top/Alpha/\"><span>Alpha</span></a>",
      "<a href=\"/top/zeta/\"><span>zeta</span></a>",
      "<a href=\"/top/A%20file.txt\"><span>A file.txt</span></a>",
      "<a href=\"/top/b.txt\"><span>b.txt</span></a>",
      "<a href=\"/top/c.txt\"><span>c.txt</span></a>"};
  size_t pos = 0;
  for (const std::string& link : in_order) {
    size_t at = r.body.find(link);
    ASSERT_NE(at, std::string::npos) << link << " missing in " << r.body;
    EXPECT_GT(at, pos) << link << " out of order in " << r.body;
    pos = at;
  }
  EXPECT_EQ(r.body.find("href=\"../\""), std::string::npos) << "relative link: " << r.body;
  HttpResult nested = server_.Request("GET", "/top/zeta/");
  EXPECT_NE(nested.body.find("<tr class=\"up\"><td class=\"name\"><a href=\"/top/\">"),
            std::string::npos)
      << nested.body;
}

TEST_F(AnswersTest, FaviconIsCompiledInUnlessTheRootHasOne) {
  HttpResult r = server_.Request("GET", "/favicon.ico");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "content-type"), "image/vnd.microsoft.icon");
  ASSERT_EQ(r.body.size(), webdav::FaviconSize());
  EXPECT_EQ(r.body, std::string(reinterpret_cast<const char*>(webdav::FaviconBytes()),
                                webdav::FaviconSize()));
  // An ICO file: reserved 0, type 1 (icon), one image.
  EXPECT_EQ(r.body.substr(0, 6), std::string("\0\0\1\0\1\0", 6));
  EXPECT_EQ(channel_->All().find("favicon"), std::string::npos) << "logged: " << channel_->All();
  EXPECT_EQ(server_.Request("HEAD", "/favicon.ico").status, 200);
  // Only the root's: elsewhere a missing favicon.ico is a plain 404.
  MakeDir("sub");
  EXPECT_EQ(server_.Request("GET", "/sub/favicon.ico").status, 404);
  // The root's own file wins.
  WriteFile(server_.Disk("favicon.ico"), "mine");
  r = server_.Request("GET", "/favicon.ico");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "mine");
}

}  // namespace
}  // namespace keepdav::testing
