// Hostile request bodies against the real server (issue 12): a document type declaration is
// refused with 400 by PROPFIND, PROPPATCH and LOCK alike (RFC 4918 §20.6), the answer says why,
// and nothing is stored: no property, no lock, no new resource.
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <string>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

// Ten levels of ten references: expanded, one "&lol9;" would be 10^9 bytes.
std::string BillionLaughs(const std::string& root) {
  std::string dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE " + root + " [\n <!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = i == 1 ? "lol" : "lol" + std::to_string(i - 1);
    dtd += " <!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) dtd += "&" + prev + ";";
    dtd += "\">\n";
  }
  return dtd + "]>\n";
}

const char* kLockBody =
    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
    "<D:locktype><D:write/></D:locktype><D:owner>&lol9;</D:owner></D:lockinfo>";

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteFile(server_.Disk("doc.txt"), "content"); }

  // The dead properties PROPFIND reports for `target` (their element names in the 207).
  std::string AllProps(const std::string& target) {
    HttpResult r = server_.Request("PROPFIND", target, "", {{"Depth", "0"}});
    EXPECT_EQ(r.status, 207) << r.body;
    return r.body;
  }

  static void ExpectRefusedDtd(const HttpResult& r) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("document type declaration"), std::string::npos) << r.body;
  }

  TestServer server_;
};

TEST_F(HostileInputTest, BillionLaughsProppatchIs400AndStoresNothing) {
  std::string body = BillionLaughs("D:propertyupdate") +
                     "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>"
                     "<Z:laughs xmlns:Z=\"urn:hostile\">&lol9;</Z:laughs>"
                     "<Z:plain xmlns:Z=\"urn:hostile\">no entity here</Z:plain>"
                     "</D:prop></D:set></D:propertyupdate>";
  ExpectRefusedDtd(
      server_.Request("PROPPATCH", "/doc.txt", body, {{"Content-Type", "application/xml"}}));
  std::string props = AllProps("/doc.txt");
  EXPECT_EQ(props.find("urn:hostile"), std::string::npos) << props;
  EXPECT_EQ(props.find("laughs"), std::string::npos) << props;
  EXPECT_EQ(ReadFile(server_.Disk("doc.txt")), "content");

  // The same PROPPATCH without the DTD (and the entity) is stored: the refusal was the DTD's.
  HttpResult ok = server_.Request("PROPPATCH", "/doc.txt",
                                  "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>"
                                  "<Z:plain xmlns:Z=\"urn:hostile\">no entity here</Z:plain>"
                                  "</D:prop></D:set></D:propertyupdate>");
  EXPECT_EQ(ok.status, 207) << ok.body;
  EXPECT_NE(AllProps("/doc.txt").find("no entity here"), std::string::npos);
}

TEST_F(HostileInputTest, DoctypePropfindIs400) {
  for (const std::string& dtd : {BillionLaughs("D:propfind"),
                                 std::string("<?xml version=\"1.0\"?>\n<!DOCTYPE D:propfind SYSTEM "
                                             "\"http://127.0.0.1:1/external.dtd\">\n")}) {
    HttpResult r = server_.Request(
        "PROPFIND", "/doc.txt",
        dtd + "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getetag/></D:prop></D:propfind>",
        {{"Depth", "0"}});
    ExpectRefusedDtd(r);
    EXPECT_EQ(r.body.find("multistatus"), std::string::npos) << r.body;
  }
}

TEST_F(HostileInputTest, DoctypeLockIs400AndLocksNothing) {
  // On an existing file and on an unmapped URL (which a LOCK would otherwise create).
  for (const char* target : {"/doc.txt", "/new.txt"}) {
    SCOPED_TRACE(target);
    HttpResult r = server_.Request("LOCK", target, BillionLaughs("D:lockinfo") + kLockBody,
                                   {{"Timeout", "Second-600"}, {"Depth", "0"}});
    ExpectRefusedDtd(r);
    EXPECT_TRUE(r.headers.find("lock-token") == r.headers.end()) << r.raw;
    std::string props = AllProps("/doc.txt");
    EXPECT_EQ(props.find("locktoken"), std::string::npos) << props;
  }
  EXPECT_FALSE(Exists(server_.Disk("new.txt")));
  EXPECT_EQ(server_.Request("PROPFIND", "/new.txt", "", {{"Depth", "0"}}).status, 404);
  // Not locked: a PUT without any token succeeds.
  EXPECT_EQ(server_.Request("PUT", "/doc.txt", "replaced").status, 204);
  EXPECT_EQ(ReadFile(server_.Disk("doc.txt")), "replaced");
}

// Without a DTD, "&lol;" is an undefined entity (XML 1.0 WFC: Entity Declared). pugixml kept it
// as five literal characters and the PROPPATCH stored them; now every method refuses it.
TEST_F(HostileInputTest, UndefinedEntityWithoutDtdIs400ForPropfindProppatchAndLock) {
  HttpResult r = server_.Request("PROPPATCH", "/doc.txt",
                                 "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>"
                                 "<Z:laughs xmlns:Z=\"urn:hostile\">&lol;</Z:laughs>"
                                 "</D:prop></D:set></D:propertyupdate>");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("undefined entity reference"), std::string::npos) << r.body;
  EXPECT_EQ(AllProps("/doc.txt").find("urn:hostile"), std::string::npos);

  r = server_.Request("PROPFIND", "/doc.txt",
                      "<D:propfind xmlns:D=\"DAV:\"><D:prop><Z:p xmlns:Z=\"urn:&lol;\"/>"
                      "</D:prop></D:propfind>",
                      {{"Depth", "0"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.body.find("multistatus"), std::string::npos) << r.body;

  for (const char* target : {"/doc.txt", "/new.txt"}) {
    SCOPED_TRACE(target);
    r = server_.Request("LOCK", target,
                        "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
                        "<D:locktype><D:write/></D:locktype><D:owner>&lol;</D:owner></D:lockinfo>",
                        {{"Timeout", "Second-600"}, {"Depth", "0"}});
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(r.headers.find("lock-token") == r.headers.end()) << r.raw;
  }
  EXPECT_FALSE(Exists(server_.Disk("new.txt")));
  EXPECT_EQ(server_.Request("PUT", "/doc.txt", "replaced").status, 204);
}

TEST_F(HostileInputTest, PredefinedEntitiesAndCharacterReferencesStillWork) {
  HttpResult r =
      server_.Request("PROPPATCH", "/doc.txt",
                      "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>"
                      "<Z:v xmlns:Z=\"urn:ok\">&amp;&lt;&gt;&quot;&apos;&#233;&#x263A;</Z:v>"
                      "</D:prop></D:set></D:propertyupdate>");
  EXPECT_EQ(r.status, 207) << r.body;
  r = server_.Request("PROPFIND", "/doc.txt",
                      "<D:propfind xmlns:D=\"DAV:\"><D:prop><Z:v xmlns:Z=\"urn:&#111;k\"/>"
                      "</D:prop></D:propfind>",
                      {{"Depth", "0"}});
  EXPECT_EQ(r.status, 207) << r.body;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_buffer(r.body.data(), r.body.size())) << r.body;
  pugi::xml_node value = doc.select_node("//*[local-name()='v']").node();
  ASSERT_TRUE(value) << r.body;
  EXPECT_EQ(std::string(value.text().get()), "&<>\"'\xC3\xA9\xE2\x98\xBA") << r.body;
}

}  // namespace
}  // namespace keepdav::testing
