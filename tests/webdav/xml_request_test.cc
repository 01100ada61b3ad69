// Tests for webdav/xml_request: PROPFIND/PROPPATCH body parsing and ReadBody limits.
#include "webdav/xml_request.h"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace keepdav::webdav {
namespace {

using storage::PropertyChange;

// Resolves an element's namespace by hand (pugixml is not namespace-aware). "?" when unbound.
std::string NamespaceOf(const pugi::xml_node& node) {
  std::string name = node.name();
  auto colon = name.find(':');
  std::string prefix = colon == std::string::npos ? "" : name.substr(0, colon);
  if (prefix == "xml") return "http://www.w3.org/XML/1998/namespace";
  std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) return a.value();
  }
  return prefix.empty() ? "" : "?";
}

std::string LocalName(const pugi::xml_node& node) {
  std::string name = node.name();
  auto colon = name.find(':');
  return colon == std::string::npos ? name : name.substr(colon + 1);
}

PropertyName Name(std::string ns, std::string local) {
  return {std::move(ns), std::move(local)};
}

// Parses a stored PROPPATCH value back on its own, as a client reading it later would.
void LoadFragment(const std::string& value, pugi::xml_document* doc) {
  pugi::xml_parse_result r =
      doc->load_buffer(value.data(), value.size(), pugi::parse_default | pugi::parse_ws_pcdata);
  ASSERT_TRUE(r) << r.description() << " in: " << value;
  ASSERT_TRUE(doc->document_element()) << value;
}

std::string Propupdate(const std::string& inner) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propertyupdate xmlns:D=\"DAV:\">" + inner +
         "</D:propertyupdate>";
}

// ---------------------------------------------------------------------------------------------
// ParsePropfind

TEST(ParsePropfindTest, EmptyBodyIsAllprop) {
  PropfindRequest req;
  req.kind = PropfindRequest::Kind::kProp;
  DavError err = ParsePropfind("", XmlLimits(), &req);
  EXPECT_TRUE(err.ok()) << err.message;
  EXPECT_EQ(req.kind, PropfindRequest::Kind::kAllProp);
  EXPECT_TRUE(req.props.empty());
  EXPECT_TRUE(req.include.empty());
}

TEST(ParsePropfindTest, WhitespaceOnlyBodyIsAllprop) {
  PropfindRequest req;
  EXPECT_TRUE(ParsePropfind(" \r\n\t ", XmlLimits(), &req).ok());
  EXPECT_EQ(req.kind, PropfindRequest::Kind::kAllProp);
}

TEST(ParsePropfindTest, AllpropWithInclude) {
  PropfindRequest req;
  DavError err = ParsePropfind(
      "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\"><D:allprop/>"
      "<D:include><D:quota-used-bytes/><Z:x xmlns:Z=\"urn:z\"/></D:include></D:propfind>",
      XmlLimits(), &req);
  ASSERT_TRUE(err.ok()) << err.message;
  EXPECT_EQ(req.kind, PropfindRequest::Kind::kAllProp);
  EXPECT_TRUE(req.props.empty());
  ASSERT_EQ(req.include.size(), 2u);
  EXPECT_EQ(req.include[0], Name("DAV:", "quota-used-bytes"));
  EXPECT_EQ(req.include[1], Name("urn:z", "x"));
}

TEST(ParsePropfindTest, Propname) {
  PropfindRequest req;
  DavError err =
      ParsePropfind("<propfind xmlns=\"DAV:\"><propname/></propfind>", XmlLimits(), &req);
  ASSERT_TRUE(err.ok()) << err.message;
  EXPECT_EQ(req.kind, PropfindRequest::Kind::kPropName);
  EXPECT_TRUE(req.props.empty());
}

TEST(ParsePropfindTest, PropWithSeveralNamespacesAndTheEmptyNamespace) {
  PropfindRequest req;
  DavError err = ParsePropfind(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<D:propfind xmlns:D=\"DAV:\" xmlns:A=\"http://example.com/a\">\n"
      "  <D:prop xmlns:B=\"urn:b\">\n"
      "    <D:getetag/>\n"
      "    <A:color/>\n"
      "    <B:size/>\n"
      "    <C:weight xmlns:C=\"urn:c\"/>\n"
      "    <plain xmlns=\"\"/>\n"
      "    <nodefault/>\n"
      "    <dflt xmlns=\"urn:default\"/>\n"
      "  </D:prop>\n"
      "</D:propfind>",
      XmlLimits(), &req);
  ASSERT_TRUE(err.ok()) << err.message;
  EXPECT_EQ(req.kind, PropfindRequest::Kind::kProp);
  std::vector<PropertyName> want = {
      Name("DAV:", "getetag"),    Name("http://example.com/a", "color"),
      Name("urn:b", "size"),      Name("urn:c", "weight"),
      Name("", "plain"),          Name("", "nodefault"),
      Name("urn:default", "dflt")};
  EXPECT_EQ(req.props, want);
}

TEST(ParsePropfindTest, DefaultNamespaceUndeclaredInsideDavDefault) {
  PropfindRequest req;
  DavError err =
      ParsePropfind("<propfind xmlns=\"DAV:\"><prop><getetag/><foo xmlns=\"\"/></prop></propfind>",
                    XmlLimits(), &req);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(req.props.size(), 2u);
  EXPECT_EQ(req.props[0], Name("DAV:", "getetag"));
  EXPECT_EQ(req.props[1], Name("", "foo"));
}

TEST(ParsePropfindTest, MalformedXmlIs400) {
  PropfindRequest req;
  EXPECT_EQ(ParsePropfind("<D:propfind xmlns:D=\"DAV:\"><D:prop>", XmlLimits(), &req).status, 400);
  EXPECT_EQ(ParsePropfind("not xml at all", XmlLimits(), &req).status, 400);
  EXPECT_EQ(
      ParsePropfind("<D:propfind xmlns:D=\"DAV:\"><D:allprop></D:propfind>", XmlLimits(), &req)
          .status,
      400);
}

TEST(ParsePropfindTest, WrongRootElementIs400) {
  PropfindRequest req;
  EXPECT_EQ(ParsePropfind("<D:propertyupdate xmlns:D=\"DAV:\"><D:allprop/></D:propertyupdate>",
                          XmlLimits(), &req)
                .status,
            400);
  // The right local name in the wrong namespace.
  EXPECT_EQ(
      ParsePropfind("<propfind xmlns=\"urn:not-dav\"><allprop/></propfind>", XmlLimits(), &req)
          .status,
      400);
  EXPECT_EQ(ParsePropfind("<propfind><allprop/></propfind>", XmlLimits(), &req).status, 400);
}

TEST(ParsePropfindTest, NoneOfPropAllpropPropnameIs400) {
  PropfindRequest req;
  EXPECT_EQ(ParsePropfind("<D:propfind xmlns:D=\"DAV:\"/>", XmlLimits(), &req).status, 400);
  EXPECT_EQ(ParsePropfind("<D:propfind xmlns:D=\"DAV:\"><D:allprop/><D:propname/></D:propfind>",
                          XmlLimits(), &req)
                .status,
            400);
}

// litmus props: propfind_invalid2.
TEST(ParsePropfindTest, PrefixBoundToEmptyNamespaceIs400) {
  PropfindRequest req;
  DavError err = ParsePropfind(
      "<D:propfind xmlns:D=\"DAV:\"><D:prop><bar:foo xmlns:bar=\"\"/></D:prop></D:propfind>",
      XmlLimits(), &req);
  EXPECT_EQ(err.status, 400);
}

TEST(ParsePropfindTest, UnboundPrefixIs400) {
  PropfindRequest req;
  EXPECT_EQ(ParsePropfind("<D:propfind xmlns:D=\"DAV:\"><D:prop><Q:foo/></D:prop></D:propfind>",
                          XmlLimits(), &req)
                .status,
            400);
  EXPECT_EQ(ParsePropfind("<D:propfind><D:allprop/></D:propfind>", XmlLimits(), &req).status, 400);
}

std::string Nested(int levels_below_prop, const std::string& innermost_text = "") {
  std::string open, close;
  for (int i = 0; i < levels_below_prop; ++i) {
    open += "<Z:n" + std::to_string(i) + ">";
    close = "</Z:n" + std::to_string(i) + ">" + close;
  }
  return "<D:propfind xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\"><D:prop>" + open + innermost_text + close +
         "</D:prop></D:propfind>";
}

TEST(ParsePropfindTest, NestingDeeperThanMaxDepthIs400) {
  PropfindRequest req;
  XmlLimits limits;  // default max_depth 64
  // propfind + prop + 70 = 72 levels.
  EXPECT_EQ(ParsePropfind(Nested(70), limits, &req).status, 400);
  limits.max_depth = 5;
  // propfind, prop, n0, n1, n2: exactly 5 levels.
  EXPECT_TRUE(ParsePropfind(Nested(3), limits, &req).ok());
  EXPECT_EQ(ParsePropfind(Nested(4), limits, &req).status, 400);
}

TEST(ParsePropfindTest, HostileNestingDoesNotExhaustTheStack) {
  PropfindRequest req;
  std::string body = "<D:propfind xmlns:D=\"DAV:\"><D:prop>";
  for (int i = 0; i < 200000; ++i) body += "<a>";
  EXPECT_EQ(ParsePropfind(body, XmlLimits(), &req).status, 400);  // also malformed
  for (int i = 0; i < 200000; ++i) body += "</a>";
  body += "</D:prop></D:propfind>";
  EXPECT_EQ(ParsePropfind(body, XmlLimits(), &req).status, 400);
}

// The header promises that *element* nesting is bounded by max_depth; character data inside the
// deepest allowed element is not an extra level of element nesting.
TEST(ParsePropfindTest, TextInsideDeepestAllowedElementIsAccepted) {
  PropfindRequest req;
  XmlLimits limits;
  limits.max_depth = 5;
  DavError err = ParsePropfind(Nested(3, "text"), limits, &req);
  EXPECT_TRUE(err.ok()) << err.status << " " << err.message;
}

std::string BillionLaughsDoctype(const std::string& root) {
  std::string dtd = "<!DOCTYPE " + root + " [\n  <!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = i == 1 ? "lol" : "lol" + std::to_string(i - 1);
    dtd += "  <!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) dtd += "&" + prev + ";";
    dtd += "\">\n";
  }
  return dtd + "]>\n";
}

// RFC 4918 §20.6: a DTD in a request body is refused, not skipped (skipping it stored "&lol9;"
// as the literal text "&amp;lol9;"). Was: accepted with the entities unexpanded, or 400.
TEST(ParsePropfindTest, DoctypeWithEntitiesIs400) {
  PropfindRequest req;
  std::string body = "<?xml version=\"1.0\"?>\n" + BillionLaughsDoctype("D:propfind") +
                     "<D:propfind xmlns:D=\"DAV:\"><D:prop><Z:x xmlns:Z=\"urn:&lol9;\"/>"
                     "</D:prop></D:propfind>";
  DavError err = ParsePropfind(body, XmlLimits(), &req);
  EXPECT_EQ(err.status, 400);
  EXPECT_NE(err.message.find("document type declaration"), std::string::npos) << err.message;
  EXPECT_TRUE(req.props.empty());
}

// Any DOCTYPE, even one without entities or an internal subset, for all three bodies alike.
TEST(XmlRequestTest, EveryDoctypeIs400) {
  const std::string external = "<!DOCTYPE x SYSTEM \"http://example.com/x.dtd\">";
  const std::string internal = "<!DOCTYPE x [<!ELEMENT x ANY>]>";
  for (const std::string& dtd : {external, internal, std::string("<!DOCTYPE x>")}) {
    SCOPED_TRACE(dtd);
    PropfindRequest req;
    DavError err = ParsePropfind(
        "<?xml version=\"1.0\"?>" + dtd + "<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>",
        XmlLimits(), &req);
    EXPECT_EQ(err.status, 400);
    EXPECT_NE(err.message.find("RFC 4918"), std::string::npos) << err.message;
    std::vector<PropertyChange> changes;
    err = ParseProppatch(dtd + Propupdate("<D:set><D:prop><Z:a xmlns:Z=\"urn:z\">v</Z:a>"
                                          "</D:prop></D:set>")
                                   .substr(std::string("<?xml version=\"1.0\" "
                                                       "encoding=\"utf-8\"?>\n")
                                               .size()),
                         XmlLimits(), &changes);
    EXPECT_EQ(err.status, 400);
    EXPECT_NE(err.message.find("document type declaration"), std::string::npos) << err.message;
    LockInfo info;
    err = ParseLockinfo(dtd +
                            "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
                            "<D:locktype><D:write/></D:locktype></D:lockinfo>",
                        XmlLimits(), &info);
    EXPECT_EQ(err.status, 400);
    EXPECT_NE(err.message.find("document type declaration"), std::string::npos) << err.message;
  }
}

// The refusal is of a declaration, not of the text: "<!DOCTYPE" in a comment or CDATA is data.
TEST(XmlRequestTest, DoctypeTextInCommentOrCdataIsAccepted) {
  std::vector<PropertyChange> changes;
  DavError err = ParseProppatch(
      Propupdate("<!-- <!DOCTYPE x> --><D:set><D:prop><Z:a xmlns:Z=\"urn:z\">"
                 "<![CDATA[<!DOCTYPE y [<!ENTITY e \"e\">]>]]></Z:a></D:prop></D:set>"),
      XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].value.find("<!DOCTYPE y"), std::string::npos) << changes[0].value;
}

// ---------------------------------------------------------------------------------------------
// ParseProppatch

TEST(ParseProppatchTest, SetAndRemoveInDocumentOrder) {
  std::vector<PropertyChange> changes;
  DavError err = ParseProppatch(Propupdate("<D:set><D:prop><Z:a xmlns:Z=\"urn:z\">1</Z:a>"
                                           "<Z:b xmlns:Z=\"urn:z\">2</Z:b></D:prop></D:set>"
                                           "<D:remove><D:prop><Z:a xmlns:Z=\"urn:z\"/></D:prop>"
                                           "</D:remove>"
                                           "<D:set><D:prop><Z:c xmlns:Z=\"urn:z\"/></D:prop>"
                                           "</D:set>"),
                                XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].name, Name("urn:z", "a"));
  EXPECT_FALSE(changes[0].remove);
  EXPECT_EQ(changes[1].name, Name("urn:z", "b"));
  EXPECT_FALSE(changes[1].remove);
  EXPECT_EQ(changes[2].name, Name("urn:z", "a"));
  EXPECT_TRUE(changes[2].remove);
  EXPECT_TRUE(changes[2].value.empty());
  EXPECT_EQ(changes[3].name, Name("urn:z", "c"));
  EXPECT_FALSE(changes[3].remove);
}

TEST(ParseProppatchTest, ValueIsSelfContainedFragment) {
  std::vector<PropertyChange> changes;
  std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\" xmlns:Y=\"urn:y\">\n"
      "  <D:set xml:lang=\"en\">\n"
      "    <D:prop xmlns:X=\"urn:x\">\n"
      "      <Z:author X:role=\"lead\"><Y:name>Ann</Y:name> and <Z:co>Bob</Z:co>"
      "<W:w xmlns:W=\"urn:w\"/></Z:author>\n"
      "    </D:prop>\n"
      "  </D:set>\n"
      "</D:propertyupdate>\n";
  DavError err = ParseProppatch(body, XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].name, Name("urn:z", "author"));

  pugi::xml_document doc;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[0].value, &doc));
  pugi::xml_node root = doc.document_element();
  EXPECT_EQ(NamespaceOf(root), "urn:z");
  EXPECT_EQ(LocalName(root), "author");
  EXPECT_STREQ(root.attribute("xml:lang").value(), "en");
  EXPECT_STREQ(root.attribute("xmlns:X").value(), "urn:x");  // the attribute's prefix
  EXPECT_STREQ(root.attribute("X:role").value(), "lead");
  pugi::xml_node name = root.child("Y:name");
  ASSERT_TRUE(name);
  EXPECT_EQ(NamespaceOf(name), "urn:y");
  EXPECT_STREQ(name.text().get(), "Ann");
  pugi::xml_node co = root.child("Z:co");
  ASSERT_TRUE(co);
  EXPECT_EQ(NamespaceOf(co), "urn:z");
  pugi::xml_node w = root.child("W:w");
  ASSERT_TRUE(w);
  EXPECT_EQ(NamespaceOf(w), "urn:w");
  // Mixed content: the text between the child elements survives.
  ASSERT_TRUE(name.next_sibling());
  EXPECT_EQ(name.next_sibling().type(), pugi::node_pcdata);
  EXPECT_STREQ(name.next_sibling().value(), " and ");
}

TEST(ParseProppatchTest, XmlLangInheritedFromProp) {
  std::vector<PropertyChange> changes;
  DavError err = ParseProppatch(
      Propupdate("<D:set xml:lang=\"en\"><D:prop xml:lang=\"de-CH\"><Z:t xmlns:Z=\"urn:z\">Grüezi"
                 "</Z:t><Z:own xmlns:Z=\"urn:z\" xml:lang=\"fr\">Salut</Z:own></D:prop></D:set>"),
      XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 2u);
  pugi::xml_document doc;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[0].value, &doc));
  EXPECT_STREQ(doc.document_element().attribute("xml:lang").value(), "de-CH");  // nearest wins
  EXPECT_STREQ(doc.document_element().text().get(), "Grüezi");
  pugi::xml_document own;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[1].value, &own));
  EXPECT_STREQ(own.document_element().attribute("xml:lang").value(), "fr");  // its own kept
}

TEST(ParseProppatchTest, NearestNamespaceDeclarationWins) {
  std::vector<PropertyChange> changes;
  DavError err = ParseProppatch(
      "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:outer\" xmlns=\"urn:default\">"
      "<D:set><D:prop xmlns:Z=\"urn:inner\"><Z:p><child/></Z:p></D:prop></D:set>"
      "</D:propertyupdate>",
      XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].name, Name("urn:inner", "p"));
  pugi::xml_document doc;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[0].value, &doc));
  EXPECT_EQ(NamespaceOf(doc.document_element()), "urn:inner");
  // The unprefixed child is in the default namespace declared on the root of the request.
  EXPECT_EQ(NamespaceOf(doc.document_element().first_child()), "urn:default");
}

TEST(ParseProppatchTest, WhitespaceAndMixedContentSurvive) {
  std::vector<PropertyChange> changes;
  std::string inner = "\n  two  spaces\t<b>bold</b>  \n  <i> </i>&lt;&amp;&gt; tail ";
  DavError err =
      ParseProppatch(Propupdate("<D:set><D:prop><Z:v xmlns:Z=\"urn:z\">" + inner +
                                "</Z:v><Z:ws xmlns:Z=\"urn:z\">   </Z:ws></D:prop></D:set>"),
                     XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 2u);
  pugi::xml_document doc;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[0].value, &doc));
  pugi::xml_node v = doc.document_element();
  std::vector<std::string> parts;
  for (pugi::xml_node c = v.first_child(); c; c = c.next_sibling()) {
    parts.push_back(c.type() == pugi::node_pcdata
                        ? std::string("T:") + c.value()
                        : std::string("E:") + c.name() + "=" + c.child_value());
  }
  std::vector<std::string> want = {"T:\n  two  spaces\t", "E:b=bold", "T:  \n  ",
                                   "E:i= ", "T:<&> tail "};
  EXPECT_EQ(parts, want) << changes[0].value;
  pugi::xml_document ws;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[1].value, &ws));
  EXPECT_STREQ(ws.document_element().child_value(), "   ") << changes[1].value;
}

TEST(ParseProppatchTest, HighUnicodeSurvivesByteExactly) {
  const std::string grin = "\xF0\x9F\x98\x80";  // U+1F600
  const std::string last = "\xF4\x8F\xBF\xBF";  // U+10FFFF
  const std::string e_acute = "\xC3\xA9";       // U+00E9
  const std::string cjk = "\xE4\xB8\xAD";       // U+4E2D
  std::vector<PropertyChange> changes;
  DavError err =
      ParseProppatch(Propupdate("<D:set><D:prop><Z:u xmlns:Z=\"urn:z\" a=\"" + grin + "\">" + grin +
                                last + e_acute + cjk +
                                "</Z:u><Z:ref xmlns:Z=\"urn:z\">&#x1F600;&#x10FFFF;</Z:ref>"
                                "<Z:" +
                                cjk + " xmlns:Z=\"urn:z\"/></D:prop></D:set>"),
                     XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 3u);
  pugi::xml_document doc;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[0].value, &doc));
  EXPECT_EQ(std::string(doc.document_element().child_value()), grin + last + e_acute + cjk);
  EXPECT_EQ(std::string(doc.document_element().attribute("a").value()), grin);
  EXPECT_NE(changes[0].value.find(grin + last + e_acute + cjk), std::string::npos);
  pugi::xml_document ref;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[1].value, &ref));
  EXPECT_EQ(std::string(ref.document_element().child_value()), grin + last);
  EXPECT_EQ(changes[2].name, Name("urn:z", cjk));
}

TEST(ParseProppatchTest, PropertyInTheEmptyNamespace) {
  std::vector<PropertyChange> changes;
  DavError err = ParseProppatch(
      "<propertyupdate xmlns=\"DAV:\"><set><prop><foo xmlns=\"\">bar<sub/></foo></prop></set>"
      "<remove><prop><gone xmlns=\"\"/></prop></remove></propertyupdate>",
      XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].name, Name("", "foo"));
  EXPECT_EQ(changes[1].name, Name("", "gone"));
  EXPECT_TRUE(changes[1].remove);
  pugi::xml_document doc;
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[0].value, &doc));
  EXPECT_EQ(NamespaceOf(doc.document_element()), "");
  EXPECT_EQ(NamespaceOf(doc.document_element().child("sub")), "");
  EXPECT_STREQ(doc.document_element().child_value(), "bar");

  // Unprefixed with no default namespace anywhere: also the empty namespace.
  err = ParseProppatch(Propupdate("<D:set><D:prop><plain>v</plain></D:prop></D:set>"), XmlLimits(),
                       &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].name, Name("", "plain"));
  ASSERT_NO_FATAL_FAILURE(LoadFragment(changes[0].value, &doc));
  EXPECT_EQ(NamespaceOf(doc.document_element()), "");
}

TEST(ParseProppatchTest, Errors) {
  std::vector<PropertyChange> changes;
  EXPECT_EQ(ParseProppatch("", XmlLimits(), &changes).status, 400);
  EXPECT_EQ(ParseProppatch("<D:propertyupdate xmlns:D=\"DAV:\">", XmlLimits(), &changes).status,
            400);
  EXPECT_EQ(ParseProppatch("<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>", XmlLimits(),
                           &changes)
                .status,
            400);
  EXPECT_EQ(ParseProppatch(Propupdate(""), XmlLimits(), &changes).status, 400);
  EXPECT_EQ(
      ParseProppatch(Propupdate("<D:set><D:prop><Q:x/></D:prop></D:set>"), XmlLimits(), &changes)
          .status,
      400);
  EXPECT_EQ(ParseProppatch(Propupdate("<D:set><D:prop><bar:foo xmlns:bar=\"\"/></D:prop></D:set>"),
                           XmlLimits(), &changes)
                .status,
            400);
}

// Was: accepted with "&lol9;" stored as literal text, or 400. Now always 400 (RFC 4918 §20.6).
TEST(ParseProppatchTest, BillionLaughsIs400) {
  std::vector<PropertyChange> changes;
  std::string body = "<?xml version=\"1.0\"?>\n" + BillionLaughsDoctype("D:propertyupdate") +
                     "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>"
                     "<Z:x xmlns:Z=\"urn:z\">&lol9;</Z:x></D:prop></D:set></D:propertyupdate>";
  DavError err = ParseProppatch(body, XmlLimits(), &changes);
  EXPECT_EQ(err.status, 400);
  EXPECT_NE(err.message.find("document type declaration"), std::string::npos) << err.message;
}

// Found by tests/fuzz/dead_property_fuzz: a value with an undeclared prefix inside was stored
// as it was, and in a 207 (whose "D" means DAV:) <D:y/> then read as DAV:y. Now 400.
TEST(ParseProppatchTest, UndeclaredPrefixInsideValueIs400) {
  std::vector<PropertyChange> changes;
  const std::string body =
      "<A:propertyupdate xmlns:A=\"DAV:\"><A:set><A:prop><Z:x xmlns:Z=\"urn:z\"><D:y/></Z:x>"
      "</A:prop></A:set></A:propertyupdate>";
  DavError err = ParseProppatch(body, XmlLimits(), &changes);
  EXPECT_EQ(err.status, 400);
  EXPECT_NE(err.message.find("namespace prefix"), std::string::npos) << err.message;
  err = ParseProppatch(
      Propupdate("<D:set><D:prop><Z:x xmlns:Z=\"urn:z\" Q:attr=\"1\"/></D:prop></D:set>"),
      XmlLimits(), &changes);
  EXPECT_EQ(err.status, 400) << "undeclared attribute prefix";
  err = ParseProppatch(Propupdate("<D:set><D:prop><Z:x xmlns:Z=\"urn:z\"><Q:y xmlns:Q=\"\"/>"
                                  "</Z:x></D:prop></D:set>"),
                       XmlLimits(), &changes);
  EXPECT_EQ(err.status, 400) << "prefix bound to the empty namespace";
  // Declared anywhere in scope is fine, and removes carry no value to check.
  err = ParseProppatch(
      "<A:propertyupdate xmlns:A=\"DAV:\" xmlns:Q=\"urn:q\"><A:set><A:prop>"
      "<Z:x xmlns:Z=\"urn:z\" Q:attr=\"1\" xml:lang=\"en\"><Q:y/><A:href>/a</A:href></Z:x>"
      "</A:prop></A:set><A:remove><A:prop><Z:old xmlns:Z=\"urn:z\"/></A:prop></A:remove>"
      "</A:propertyupdate>",
      XmlLimits(), &changes);
  ASSERT_TRUE(err.ok()) << err.message;
  EXPECT_EQ(changes.size(), 2u);
}

TEST(ParseLockinfoTest, UndeclaredPrefixInOwnerIs400) {
  LockInfo info;
  DavError err = ParseLockinfo(
      "<A:lockinfo xmlns:A=\"DAV:\"><A:lockscope><A:exclusive/></A:lockscope>"
      "<A:locktype><A:write/></A:locktype><A:owner><D:href>x</D:href></A:owner></A:lockinfo>",
      XmlLimits(), &info);
  EXPECT_EQ(err.status, 400);
  EXPECT_NE(err.message.find("DAV:owner"), std::string::npos) << err.message;
}

// ---------------------------------------------------------------------------------------------
// ReadBody

TEST(ReadBodyTest, ReadsWholeBody) {
  std::istringstream in("<x/>");
  std::string out = "stale";
  EXPECT_TRUE(ReadBody(in, 4, XmlLimits(), &out).ok());
  EXPECT_EQ(out, "<x/>");
  std::istringstream chunked("<y/>");
  EXPECT_TRUE(ReadBody(chunked, -1, XmlLimits(), &out).ok());
  EXPECT_EQ(out, "<y/>");
  std::istringstream empty("");
  EXPECT_TRUE(ReadBody(empty, 0, XmlLimits(), &out).ok());
  EXPECT_EQ(out, "");
}

TEST(ReadBodyTest, ExactlyAtTheLimitIsAccepted) {
  XmlLimits limits;
  limits.max_body_bytes = 40000;  // more than one internal read buffer
  std::string body(40000, 'x');
  std::istringstream in(body);
  std::string out;
  EXPECT_TRUE(ReadBody(in, 40000, limits, &out).ok());
  EXPECT_EQ(out.size(), 40000u);
}

TEST(ReadBodyTest, OverLimitByContentLengthIs413) {
  XmlLimits limits;
  limits.max_body_bytes = 10;
  std::istringstream in("short");
  std::string out;
  EXPECT_EQ(ReadBody(in, 11, limits, &out).status, 413);
}

TEST(ReadBodyTest, OverLimitByActualBytesIs413) {
  XmlLimits limits;
  limits.max_body_bytes = 10;
  std::istringstream in("01234567890");
  std::string out;
  EXPECT_EQ(ReadBody(in, -1, limits, &out).status, 413);
  limits.max_body_bytes = 40000;
  std::istringstream big(std::string(40001, 'x'));
  EXPECT_EQ(ReadBody(big, -1, limits, &out).status, 413);
}

TEST(ReadBodyTest, ShorterThanContentLengthIs400) {
  std::istringstream in("<x/>");
  std::string out;
  EXPECT_EQ(ReadBody(in, 100, XmlLimits(), &out).status, 400);
}

// ---------------------------------------------------------------------------------------------
// AppendXmlEscaped

TEST(AppendXmlEscapedTest, EscapesMarkupCharacters) {
  std::string out = "x=";
  AppendXmlEscaped(&out, "<a href=\"b\">'&'</a> \xF0\x9F\x98\x80");
  EXPECT_EQ(out, "x=&lt;a href=&quot;b&quot;&gt;&apos;&amp;&apos;&lt;/a&gt; \xF0\x9F\x98\x80");
}

// Each printable ASCII byte alone, at the start, in the middle and at the end of a run: the
// five markup characters become entities, every other one is copied (the fast path's table).
TEST(AppendXmlEscapedTest, EveryPrintableAsciiByteInEveryPosition) {
  for (int c = 0x20; c < 0x80; ++c) {
    const std::string b(1, static_cast<char>(c));
    std::string want = b;
    if (c == '<') want = "&lt;";
    if (c == '>') want = "&gt;";
    if (c == '&') want = "&amp;";
    if (c == '"') want = "&quot;";
    if (c == '\'') want = "&apos;";
    for (const auto& [in, expect] :
         {std::pair{b, want}, std::pair{b + "plain", want + "plain"},
          std::pair{"plain" + b + "text", "plain" + want + "text"},
          std::pair{"plain" + b, "plain" + want}, std::pair{b + b, want + want}}) {
      std::string out = "=";
      AppendXmlEscaped(&out, in);
      EXPECT_EQ(out, "=" + expect) << "byte " << c;
    }
  }
  std::string empty = "kept";
  AppendXmlEscaped(&empty, "");
  EXPECT_EQ(empty, "kept");
}

// Every byte string written through AppendXmlEscaped parses as XML text and comes back as the
// input with each maximal invalid subpart replaced by one U+FFFD.
TEST(AppendXmlEscapedTest, InvalidUtf8AndForbiddenCharactersBecomeReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  struct Case {
    std::string in, want;
  } cases[] = {
      {"caf\xE9.txt", "caf" + r + ".txt"},       // Latin-1 e-acute
      {"\xC3\xA9", "\xC3\xA9"},                  // valid 2-byte
      {"\xE2\x82\xAC", "\xE2\x82\xAC"},          // valid 3-byte (euro)
      {"\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"},  // U+10FFFF, the last code point
      {"\xC0\xAF", r + r},                       // overlong '/'
      {"\xE0\x80\xAF", r + r + r},               // overlong, 3 bytes
      {"\xED\xA0\x80", r + r + r},               // a surrogate
      {"\xF4\x90\x80\x80", r + r + r + r},       // above U+10FFFF
      {"\xE2\x82x", r + "x"},                    // truncated: one U+FFFD for the prefix
      {"a\xE2", "a" + r},                        // truncated at the end
      {"\xFF\xFE", r + r},                       // never valid in UTF-8
      {"\x80", r},                               // lone continuation byte
      {"a\x01"
       "b\x1F",
       "a" + r + "b" + r},                  // C0 controls are not XML characters
      {"t\tl\nc", "t\tl\nc"},               // tab and LF are (CR too)
      {"\xEF\xBF\xBE\xEF\xBF\xBF", r + r},  // U+FFFE, U+FFFF
      {"&\xE9<", "&" + r + "<"},
  };
  for (const Case& c : cases) {
    std::string out;
    AppendXmlEscaped(&out, c.in);
    std::string doc = "<x>" + out + "</x>";
    pugi::xml_document parsed;
    ASSERT_TRUE(parsed.load_buffer(
        doc.data(), doc.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8))
        << doc;
    EXPECT_EQ(std::string(parsed.child("x").text().get()), c.want) << doc;
  }
}

// XML 1.0 §4.1 WFC Entity Declared: with no DTD only the five predefined entities exist.
// pugixml would keep "&lol;" as five literal characters; it is 400 in every request body.
TEST(XmlRequestTest, UndefinedEntityReferenceIs400) {
  std::vector<std::string> bodies = {
      "<D:propfind xmlns:D=\"DAV:\"><D:prop><Z:a&lol;b xmlns:Z=\"urn:z\"/></D:prop></D:propfind>",
      "<D:propfind xmlns:D=\"DAV:\"><D:prop>&lol;</D:prop></D:propfind>",
  };
  for (const std::string& body : bodies) {
    PropfindRequest req;
    EXPECT_EQ(ParsePropfind(body, XmlLimits(), &req).status, 400) << body;
  }
  for (const std::string& value :
       {std::string("&lol;"), std::string("a &nbsp; b"), std::string("&#xZZ;"), std::string("&#;"),
        std::string("& alone")}) {
    std::vector<PropertyChange> changes;
    std::string body = "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><Z:x xmlns:Z=\"urn:z\">" +
                       value + "</Z:x></D:prop></D:set></D:propertyupdate>";
    DavError err = ParseProppatch(body, XmlLimits(), &changes);
    EXPECT_EQ(err.status, 400) << value;
  }
  {
    std::vector<PropertyChange> changes;
    DavError err = ParseProppatch(
        "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><Z:x xmlns:Z=\"urn:z\" a=\"&lol;\"/>"
        "</D:prop></D:set></D:propertyupdate>",
        XmlLimits(), &changes);
    EXPECT_EQ(err.status, 400);
    EXPECT_NE(err.message.find("&lol;"), std::string::npos) << err.message;
  }
  LockInfo info;
  EXPECT_EQ(
      ParseLockinfo("<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
                    "<D:locktype><D:write/></D:locktype><D:owner>&lol;</D:owner></D:lockinfo>",
                    XmlLimits(), &info)
          .status,
      400);
}

TEST(XmlRequestTest, PredefinedEntitiesCharacterReferencesAndCdataStillWork) {
  std::vector<PropertyChange> changes;
  std::string body =
      "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><Z:x xmlns:Z=\"urn:z\" a=\"&quot;&#65;\">"
      "&amp;&lt;&gt;&quot;&apos;&#233;&#xE9;&#x1F600;<![CDATA[&lol;]]><!-- &c; --></Z:x>"
      "</D:prop></D:set></D:propertyupdate>";
  ASSERT_TRUE(ParseProppatch(body, XmlLimits(), &changes).ok());
  ASSERT_EQ(changes.size(), 1u);
  pugi::xml_document value;
  ASSERT_TRUE(value.load_string(changes[0].value.c_str()));
  pugi::xml_node x = value.first_child();
  EXPECT_EQ(std::string(x.attribute("a").value()), "\"A");
  EXPECT_EQ(std::string(x.text().get()), "&<>\"'\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_NE(changes[0].value.find("&lol;"), std::string::npos);  // the CDATA section's text
  PropfindRequest req;
  EXPECT_TRUE(
      ParsePropfind("<D:propfind xmlns:D=\"DAV:\"><D:prop><Z:a xmlns:Z=\"urn:&amp;&#x7A;\"/>"
                    "</D:prop></D:propfind>",
                    XmlLimits(), &req)
          .ok());
  ASSERT_EQ(req.props.size(), 1u);
  EXPECT_EQ(req.props[0].ns, "urn:&z");
}

// ---------------------------------------------------------------------------------------------
// ParseLockinfo (RFC 4918 §14.11)

TEST(ParseLockinfoTest, ExclusiveWithOwnerKeptVerbatim) {
  LockInfo info;
  DavError err = ParseLockinfo(
      "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\" xmlns:o=\"urn:o\" xml:lang=\"en\">"
      "<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
      "<D:owner><o:who>Ann <![CDATA[&]]> Bob</o:who></D:owner></D:lockinfo>",
      XmlLimits(), &info);
  ASSERT_TRUE(err.ok()) << err.message;
  EXPECT_TRUE(info.exclusive);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(info.owner.c_str())) << info.owner;
  pugi::xml_node owner = doc.document_element();
  EXPECT_EQ(NamespaceOf(owner), "DAV:");
  EXPECT_EQ(NamespaceOf(owner.first_child()), "urn:o");
  EXPECT_STREQ(owner.attribute("xml:lang").value(), "en");
  EXPECT_NE(info.owner.find("Ann "), std::string::npos) << info.owner;
}

TEST(ParseLockinfoTest, SharedWithoutOwnerAndDefaultNamespace) {
  LockInfo info;
  DavError err = ParseLockinfo(
      "<lockinfo xmlns=\"DAV:\"><locktype><write/></locktype><lockscope><shared/></lockscope>"
      "<x:ext xmlns:x=\"urn:x\"/></lockinfo>",
      XmlLimits(), &info);
  ASSERT_TRUE(err.ok()) << err.message;
  EXPECT_FALSE(info.exclusive);
  EXPECT_TRUE(info.owner.empty());
}

TEST(ParseLockinfoTest, Malformed) {
  const char* kScope = "<D:lockscope><D:exclusive/></D:lockscope>";
  const char* kType = "<D:locktype><D:write/></D:locktype>";
  auto wrap = [](const std::string& inner) {
    return "<D:lockinfo xmlns:D=\"DAV:\">" + inner + "</D:lockinfo>";
  };
  LockInfo info;
  EXPECT_EQ(ParseLockinfo("", XmlLimits(), &info).status, 400);
  EXPECT_EQ(ParseLockinfo("<D:propfind xmlns:D=\"DAV:\"/>", XmlLimits(), &info).status, 400);
  EXPECT_EQ(ParseLockinfo(wrap(kScope), XmlLimits(), &info).status, 400);
  EXPECT_EQ(ParseLockinfo(wrap(kType), XmlLimits(), &info).status, 400);
  EXPECT_EQ(ParseLockinfo(wrap(std::string(kScope) + kScope + kType), XmlLimits(), &info).status,
            400);
  EXPECT_EQ(ParseLockinfo(wrap("<D:lockscope><D:other/></D:lockscope>" + std::string(kType)),
                          XmlLimits(), &info)
                .status,
            400);
  EXPECT_EQ(ParseLockinfo(wrap(std::string(kScope) + "<D:locktype><D:read/></D:locktype>"),
                          XmlLimits(), &info)
                .status,
            422);
  EXPECT_EQ(ParseLockinfo(wrap(std::string(kScope) + "<D:locktype><x:write/></D:locktype>"),
                          XmlLimits(), &info)
                .status,
            400);  // unbound prefix
}

}  // namespace
}  // namespace keepdav::webdav
