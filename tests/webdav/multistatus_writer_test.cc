// Tests for webdav/multistatus_writer: output parsed back with pugixml, href encoding, flushing.
#include "webdav/multistatus_writer.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>
#include "tests/webdav/xml_test_util.h"

#include <sstream>
#include <string>
#include <vector>

namespace keepdav::webdav {
namespace {

using storage::PropertyName;

using testing::Child;
using testing::Children;
using testing::Is;
using testing::LocalName;
using testing::NamespaceOf;

std::vector<pugi::xml_node> Elements(const pugi::xml_node& node) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) out.push_back(c);
  }
  return out;
}

TEST(MultistatusWriterTest, StructureNamespacesAndValues) {
  std::ostringstream out;
  {
    MultistatusWriter w(out);
    w.Begin();
    w.BeginResponse("/a%20b/");
    w.BeginPropstat();
    w.WriteProperty({"DAV:", "getcontentlength"}, "12");
    w.WriteEmptyProperty({"DAV:", "resourcetype"});
    w.WriteProperty({"DAV:", "resourcetype"}, "<D:collection/>");
    w.WriteProperty({"urn:x", "color"}, "red &amp; blue");
    w.WriteEmptyProperty({"http://example.com/ns?a=1&b=2", "flag"});
    w.WriteProperty({"", "plain"}, "v");
    w.WriteEmptyProperty({"", "emptyplain"});
    w.WriteRawElement(
        "<Z:author xmlns:Z=\"urn:z\" xmlns:D=\"DAV:\" xml:lang=\"en\">Ann <Z:x>and</Z:x> "
        "Bob</Z:author>");
    w.EndPropstat(200);
    w.BeginPropstat();
    w.WriteEmptyProperty({"urn:x", "missing"});
    w.WriteEmptyProperty({"DAV:", "getcontenttype"});
    w.EndPropstat(404);
    w.EndResponse();
    w.WriteStatusResponse("/locked&file", 423, "lock-token-submitted");
    w.WriteStatusResponse("/gone", 404);
    w.End();
  }
  std::string xml = out.str();
  pugi::xml_document doc;
  pugi::xml_parse_result r =
      doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_ws_pcdata);
  ASSERT_TRUE(r) << r.description() << "\n" << xml;
  pugi::xml_node ms = doc.document_element();
  ASSERT_TRUE(Is(ms, "DAV:", "multistatus")) << xml;
  auto responses = Children(ms, "DAV:", "response");
  ASSERT_EQ(responses.size(), 3u) << xml;

  // First response: href and two propstats.
  pugi::xml_node r0 = responses[0];
  EXPECT_STREQ(Child(r0, "DAV:", "href").child_value(), "/a%20b/");
  auto propstats = Children(r0, "DAV:", "propstat");
  ASSERT_EQ(propstats.size(), 2u);
  EXPECT_STREQ(Child(propstats[0], "DAV:", "status").child_value(), "HTTP/1.1 200 OK");
  EXPECT_STREQ(Child(propstats[1], "DAV:", "status").child_value(), "HTTP/1.1 404 Not Found");

  auto props = Elements(Child(propstats[0], "DAV:", "prop"));
  ASSERT_EQ(props.size(), 8u) << xml;
  EXPECT_TRUE(Is(props[0], "DAV:", "getcontentlength"));
  EXPECT_STREQ(props[0].child_value(), "12");
  EXPECT_TRUE(Is(props[1], "DAV:", "resourcetype"));
  EXPECT_FALSE(props[1].first_child());
  EXPECT_TRUE(Is(props[2], "DAV:", "resourcetype"));
  EXPECT_TRUE(Is(props[2].first_child(), "DAV:", "collection"));
  EXPECT_TRUE(Is(props[3], "urn:x", "color"));
  EXPECT_STREQ(props[3].child_value(), "red & blue");
  EXPECT_TRUE(Is(props[4], "http://example.com/ns?a=1&b=2", "flag"));
  EXPECT_TRUE(Is(props[5], "", "plain"));
  EXPECT_STREQ(props[5].child_value(), "v");
  EXPECT_TRUE(Is(props[6], "", "emptyplain"));
  EXPECT_TRUE(Is(props[7], "urn:z", "author"));
  EXPECT_STREQ(props[7].attribute("xml:lang").value(), "en");
  EXPECT_STREQ(props[7].first_child().value(), "Ann ");
  EXPECT_TRUE(Is(Elements(props[7]).at(0), "urn:z", "x"));

  auto missing = Elements(Child(propstats[1], "DAV:", "prop"));
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_TRUE(Is(missing[0], "urn:x", "missing"));
  EXPECT_TRUE(Is(missing[1], "DAV:", "getcontenttype"));

  // Status-only response with a precondition.
  pugi::xml_node r1 = responses[1];
  EXPECT_STREQ(Child(r1, "DAV:", "href").child_value(), "/locked&file");
  EXPECT_STREQ(Child(r1, "DAV:", "status").child_value(), "HTTP/1.1 423 Locked");
  EXPECT_TRUE(Children(r1, "DAV:", "propstat").empty());
  pugi::xml_node error = Child(r1, "DAV:", "error");
  ASSERT_TRUE(error);
  ASSERT_EQ(Elements(error).size(), 1u);
  EXPECT_TRUE(Is(Elements(error)[0], "DAV:", "lock-token-submitted"));

  pugi::xml_node r2 = responses[2];
  EXPECT_STREQ(Child(r2, "DAV:", "status").child_value(), "HTTP/1.1 404 Not Found");
  EXPECT_FALSE(Child(r2, "DAV:", "error"));
}

TEST(MultistatusWriterTest, PropstatPrecondition) {
  std::ostringstream out;
  MultistatusWriter w(out);
  w.Begin();
  w.BeginResponse("/f");
  w.BeginPropstat();
  w.WriteEmptyProperty({"DAV:", "getetag"});
  w.EndPropstat(403, "cannot-modify-protected-property");
  w.EndResponse();
  w.End();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(out.str().c_str())) << out.str();
  pugi::xml_node ps = Child(Child(doc.document_element(), "DAV:", "response"), "DAV:", "propstat");
  EXPECT_STREQ(Child(ps, "DAV:", "status").child_value(), "HTTP/1.1 403 Forbidden");
  EXPECT_TRUE(Child(Child(ps, "DAV:", "error"), "DAV:", "cannot-modify-protected-property"));
}

TEST(MultistatusWriterTest, EmptyMultistatusIsWellFormed) {
  std::ostringstream out;
  MultistatusWriter w(out);
  w.Begin();
  w.End();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(out.str().c_str())) << out.str();
  EXPECT_TRUE(Is(doc.document_element(), "DAV:", "multistatus"));
  EXPECT_TRUE(Elements(doc.document_element()).empty());
}

TEST(MultistatusWriterTest, OutputReachesTheStreamBeforeEnd) {
  std::ostringstream out;
  MultistatusWriter w(out);
  w.Begin();
  // One small response is buffered, not written.
  w.WriteStatusResponse("/first", 200);
  EXPECT_EQ(out.str().size(), 0u);
  const std::string long_href = "/" + std::string(200, 'x');
  int written = 0;
  while (out.str().empty()) {
    ASSERT_LT(written, 10000) << "nothing flushed";
    w.BeginResponse(long_href + std::to_string(written));
    w.BeginPropstat();
    w.WriteProperty({"urn:x", "p"}, "value");
    w.EndPropstat(200);
    w.EndResponse();
    ++written;
  }
  // It flushed as soon as the buffer passed kFlushBytes, not later.
  EXPECT_GE(out.str().size(), MultistatusWriter::kFlushBytes);
  EXPECT_LT(out.str().size(), MultistatusWriter::kFlushBytes + 1024);
  // Keep going: the stream keeps growing while less than kFlushBytes stays buffered.
  for (int i = 0; i < 2000; ++i) {
    w.WriteStatusResponse(long_href + "-s" + std::to_string(i), 404);
    ++written;
  }
  size_t before_end = out.str().size();
  EXPECT_GT(before_end, 4 * MultistatusWriter::kFlushBytes);
  w.End();
  size_t after_end = out.str().size();
  EXPECT_LT(after_end - before_end, MultistatusWriter::kFlushBytes + 1024);

  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(out.str().c_str()));
  EXPECT_EQ(Children(doc.document_element(), "DAV:", "response").size(),
            static_cast<size_t>(written) + 1);
}

TEST(EncodeHrefPathTest, ReservedAndUnsafeCharacters) {
  EXPECT_EQ(EncodeHrefPath("/"), "/");
  EXPECT_EQ(EncodeHrefPath("/a/b/c.txt"), "/a/b/c.txt");
  EXPECT_EQ(EncodeHrefPath("/a b"), "/a%20b");
  EXPECT_EQ(EncodeHrefPath("/x#y"), "/x%23y");
  EXPECT_EQ(EncodeHrefPath("/100%"), "/100%25");
  EXPECT_EQ(EncodeHrefPath("/q?a=b"), "/q%3Fa%3Db");
  EXPECT_EQ(EncodeHrefPath("/dir/with space/f#1%2?"), "/dir/with%20space/f%231%252%3F");
  EXPECT_EQ(EncodeHrefPath("/-._~"), "/-._~");
  EXPECT_EQ(EncodeHrefPath("/<\">"), "/%3C%22%3E");
}

TEST(EncodeHrefPathTest, NonAsciiBytesUpperCaseHex) {
  EXPECT_EQ(EncodeHrefPath("/\xC3\xBC"), "/%C3%BC");           // ü
  EXPECT_EQ(EncodeHrefPath("/\xE4\xB8\xAD/\xF0\x9F\x98\x80"),  // 中 / 😀
            "/%E4%B8%AD/%F0%9F%98%80");
  EXPECT_EQ(EncodeHrefPath(std::string("/\x7F\x01", 3)), "/%7F%01");
}

TEST(StatusLineTest, Reasons) {
  EXPECT_EQ(StatusLine(200), "HTTP/1.1 200 OK");
  EXPECT_EQ(StatusLine(207), "HTTP/1.1 207 Multi-Status");
  EXPECT_EQ(StatusLine(424), "HTTP/1.1 424 Failed Dependency");
  EXPECT_EQ(StatusLine(507), "HTTP/1.1 507 Insufficient Storage");
}

}  // namespace
}  // namespace keepdav::webdav
