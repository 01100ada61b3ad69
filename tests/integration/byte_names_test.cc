// Names that are not UTF-8 (issue 12). On disk a name is bytes; keepdav serves it as bytes too:
// - in a 207, the href is percent-encoded byte by byte and so lossless, and DAV:displayname shows
//   every invalid byte sequence as U+FFFD (webdav/xml_request.h AppendXmlEscaped), so the
//   document is well-formed for any name; the HTML listing does the same;
// - in requests (the URL of PUT, MKCOL, LOCK of a new name, and COPY/MOVE Destination) a
//   percent-encoded byte that is not UTF-8 is stored as that byte, not refused: a file created
//   by another program as "caf\xE9.txt" has to be reachable by the href keepdav gives for it,
//   and every method agrees on that because all of them name resources through ResourcePath.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <pugixml.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

bool IsUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

class ByteNamesTest : public ::testing::Test {
 protected:
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }

  // PROPFIND Depth 1 on `dir`, parsed with pugixml: href -> displayname.
  std::vector<std::pair<std::string, std::string>> Listing(const std::string& dir) {
    HttpResult r = server_.Request("PROPFIND", dir,
                                   "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:displayname/>"
                                   "</D:prop></D:propfind>",
                                   {{"Depth", "1"}});
    EXPECT_EQ(r.status, 207) << r.body;
    EXPECT_TRUE(IsUtf8(r.body));
    pugi::xml_document doc;
    pugi::xml_parse_result parsed = doc.load_buffer(r.body.data(), r.body.size());
    EXPECT_TRUE(parsed) << parsed.description() << "\n" << r.body;
    std::vector<std::pair<std::string, std::string>> out;
    for (pugi::xml_node resp : doc.child("D:multistatus").children("D:response")) {
      out.emplace_back(
          resp.child("D:href").text().get(),
          resp.child("D:propstat").child("D:prop").child("D:displayname").text().get());
    }
    return out;
  }

  std::string DisplayNameOf(const std::string& dir, const std::string& href) {
    for (const auto& [h, name] : Listing(dir)) {
      if (h == href) return name;
    }
    ADD_FAILURE() << href << " not in the PROPFIND of " << dir;
    return "";
  }

  TestServer server_;
};

TEST_F(ByteNamesTest, LatinOneNameOnDiskPropfindParsesBackWithReplacementCharacter) {
  WriteFile(server_.Disk("caf\xE9.txt"), "latin-1");
  WriteFile(server_.Disk("ctl\x01\x7F&<.txt"), "controls");
  WriteFile(server_.Disk("ok-\xC3\xA9.txt"), "utf-8");
  EXPECT_EQ(DisplayNameOf("/", "/caf%E9.txt"), "caf" + kFffd + ".txt");
  EXPECT_EQ(DisplayNameOf("/", "/ctl%01%7F%26%3C.txt"), "ctl" + kFffd + "\x7F&<.txt");
  EXPECT_EQ(DisplayNameOf("/", "/ok-%C3%A9.txt"), "ok-\xC3\xA9.txt");
  // The href is lossless: it reaches the file.
  HttpResult get = server_.Request("GET", "/caf%E9.txt");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "latin-1");
  EXPECT_EQ(server_.Request("GET", "/ctl%01%7F%26%3C.txt").body, "controls");
}

TEST_F(ByteNamesTest, CollectionWithLatinOneNameIsWellFormedAtDepthOneAndItsOwnDisplayName) {
  ASSERT_EQ(::mkdir(server_.Disk("d\xE9r").c_str(), 0755), 0);
  WriteFile(server_.Disk("d\xE9r/inner\xFF"), "x");
  EXPECT_EQ(DisplayNameOf("/", "/d%E9r/"), "d" + kFffd + "r");
  auto inner = Listing("/d%E9r/");
  ASSERT_EQ(inner.size(), 2u);
  EXPECT_EQ(inner[1].first, "/d%E9r/inner%FF");
  EXPECT_EQ(inner[1].second, "inner" + kFffd);
}

TEST_F(ByteNamesTest, HtmlListingIsUtf8WithLosslessLinks) {
  ASSERT_EQ(::mkdir(server_.Disk("d\xE9r").c_str(), 0755), 0);
  WriteFile(server_.Disk("d\xE9r/caf\xE9.txt"), "x");
  for (const char* target : {"/", "/d%E9r/"}) {
    HttpResult r = server_.Request("GET", target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_TRUE(IsUtf8(r.body)) << r.body;
    EXPECT_EQ(r.body.find('\xE9'), std::string::npos);
  }
  std::string page = server_.Request("GET", "/d%E9r/").body;
  EXPECT_NE(page.find("href=\"/d%E9r/caf%E9.txt\""), std::string::npos) << page;
  EXPECT_NE(page.find("<span>caf" + kFffd + ".txt</span></a>"), std::string::npos) << page;
  EXPECT_NE(page.find("data-href=\"/d%E9r/caf%E9.txt\""), std::string::npos) << page;
  EXPECT_NE(page.find("<title>/d" + kFffd + "r/"), std::string::npos) << page;
  EXPECT_NE(page.find("<span aria-current=\"page\">d" + kFffd + "r</span>"), std::string::npos)
      << page;
}

// Every method that creates a name stores the percent-decoded bytes as they are.
TEST_F(ByteNamesTest, RequestNamesThatAreNotUtf8AreStoredAsBytesByEveryMethod) {
  EXPECT_EQ(server_.Request("PUT", "/p%E9.txt", "put").status, 201);
  EXPECT_EQ(ReadFile(server_.Disk("p\xE9.txt")), "put");

  EXPECT_EQ(server_.Request("MKCOL", "/m%E9").status, 201);
  EXPECT_TRUE(Exists(server_.Disk("m\xE9")));
  EXPECT_EQ(server_.Request("PUT", "/m%E9/in%FE", "in").status, 201);
  EXPECT_EQ(ReadFile(server_.Disk("m\xE9/in\xFE")), "in");

  HttpResult copy =
      server_.Request("COPY", "/p%E9.txt", "", {{"Destination", Url("/c%F6py%C0.txt")}});
  EXPECT_EQ(copy.status, 201) << copy.body;
  EXPECT_EQ(ReadFile(server_.Disk("c\xF6py\xC0.txt")), "put");

  HttpResult move =
      server_.Request("MOVE", "/c%F6py%C0.txt", "", {{"Destination", Url("/m%E9/mov%ED%A0%80")}});
  EXPECT_EQ(move.status, 201) << move.body;
  EXPECT_FALSE(Exists(server_.Disk("c\xF6py\xC0.txt")));
  EXPECT_EQ(ReadFile(server_.Disk("m\xE9/mov\xED\xA0\x80")), "put");

  HttpResult lock = server_.Request(
      "LOCK", "/l%E9ck.txt",
      "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
      "<D:locktype><D:write/></D:locktype><D:owner>caf\xC3\xA9</D:owner></D:lockinfo>",
      {{"Timeout", "Second-600"}, {"Depth", "0"}});
  EXPECT_EQ(lock.status, 201) << lock.body;
  EXPECT_TRUE(
      Exists(server_.Disk("l\xE9"
                          "ck.txt")));
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_buffer(lock.body.data(), lock.body.size())) << lock.body;
  EXPECT_NE(lock.body.find("/l%E9ck.txt"), std::string::npos) << lock.body;  // the lockroot

  // And all of them show up, well-formed, with lossless hrefs.
  auto root = Listing("/");
  std::vector<std::string> hrefs;
  for (const auto& entry : root) hrefs.push_back(entry.first);
  for (const char* want : {"/p%E9.txt", "/m%E9/", "/l%E9ck.txt"}) {
    EXPECT_NE(std::find(hrefs.begin(), hrefs.end(), want), hrefs.end()) << want;
  }
  EXPECT_EQ(DisplayNameOf("/m%E9/", "/m%E9/mov%ED%A0%80"), "mov" + kFffd + kFffd + kFffd);
}

// A name with a percent-encoded NUL or slash can never be one segment: 400 for all, as before.
TEST_F(ByteNamesTest, NulInARequestNameIs400) {
  EXPECT_EQ(server_.Request("PUT", "/a%00b", "x").status, 400);
  EXPECT_EQ(server_.Request("MKCOL", "/a%00b").status, 400);
  WriteFile(server_.Disk("src"), "x");
  EXPECT_EQ(server_.Request("COPY", "/src", "", {{"Destination", Url("/a%00b")}}).status, 400);
  EXPECT_EQ(server_.Request("MOVE", "/src", "", {{"Destination", Url("/a%00b")}}).status, 400);
  EXPECT_TRUE(Exists(server_.Disk("src")));
}

}  // namespace
}  // namespace keepdav::testing
