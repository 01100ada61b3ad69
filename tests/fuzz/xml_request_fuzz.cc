// Fuzz target: the WebDAV request bodies (webdav/xml_request.h): every input is parsed as a
// PROPFIND, a PROPPATCH and a LOCK body.
//
// Invariants: a refusal is 400 (422 for a lockinfo naming another lock type) with a reason; a
// body with a document type declaration is always refused (RFC 4918 §20.6); a PROPFIND names
// properties with a local name; every PROPPATCH set value and LOCK owner is a self-contained,
// namespace-well-formed fragment holding exactly one element, which is the property (or
// DAV:owner) itself, and which is no larger than escaping and copied declarations can make it
// (no entity was expanded).
#include <pugixml.hpp>

#include <string>
#include <vector>

#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/xml_namespaces.h"
#include "webdav/xml_request.h"

namespace keepdav::fuzz {
namespace {

bool HasDoctype(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_doctype)) {
    return false;
  }
  for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_doctype) return true;
  }
  return false;
}

// Checks that `fragment` stands alone as the element `expected` ("{ns}local").
void CheckFragment(const std::string& fragment, const std::string& expected,
                   const std::string& body) {
  std::string where = " in " + Printable(fragment) + " from " + Printable(body);
  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(fragment.data(), fragment.size(),
                                             pugi::parse_default | pugi::parse_ws_pcdata);
  if (!FUZZ_CHECK(r, std::string("fragment does not parse: ") + r.description() + where)) return;
  int elements = 0, others = 0;
  for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
    (n.type() == pugi::node_element ? elements : others) += 1;
  }
  if (!FUZZ_CHECK(elements == 1 && others == 0, "not exactly one element" + where)) return;
  pugi::xml_node element = doc.document_element();
  FUZZ_CHECK(ExpandedName(element) == expected,
             "fragment is " + ExpandedName(element) + ", not " + expected + where);
  FUZZ_CHECK(NamespaceWellFormed(element), "undeclared prefix" + where);
  FUZZ_CHECK(fragment.size() <= 6 * body.size() + 64, "fragment grew" + where);
}

}  // namespace
}  // namespace keepdav::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using namespace keepdav::webdav;
  std::string body(reinterpret_cast<const char*>(data), size);
  XmlLimits limits;
  limits.max_depth = 16;
  bool doctype = HasDoctype(body);

  PropfindRequest propfind;
  DavError err = ParsePropfind(body, limits, &propfind);
  if (err.ok()) {
    FUZZ_CHECK(!doctype, "PROPFIND with a DOCTYPE accepted: " + Printable(body));
    for (const auto& name : propfind.props) FUZZ_CHECK(!name.local.empty(), "empty local name");
    for (const auto& name : propfind.include) FUZZ_CHECK(!name.local.empty(), "empty local name");
    if (propfind.kind != PropfindRequest::Kind::kProp) {
      FUZZ_CHECK(propfind.props.empty(), "props listed outside DAV:prop");
    }
  } else {
    FUZZ_CHECK(err.status == 400 && !err.message.empty(),
               "PROPFIND refused with " + std::to_string(err.status) + " " + err.message);
  }

  std::vector<keepdav::storage::PropertyChange> changes;
  err = ParseProppatch(body, limits, &changes);
  if (err.ok()) {
    FUZZ_CHECK(!doctype, "PROPPATCH with a DOCTYPE accepted: " + Printable(body));
    FUZZ_CHECK(!changes.empty(), "PROPPATCH accepted without changes");
    for (const auto& change : changes) {
      if (!FUZZ_CHECK(!change.name.local.empty(), "empty local name")) continue;
      if (change.remove) {
        FUZZ_CHECK(change.value.empty(), "a remove carries a value");
      } else {
        CheckFragment(change.value, "{" + change.name.ns + "}" + change.name.local, body);
      }
    }
  } else {
    FUZZ_CHECK(err.status == 400 && !err.message.empty(),
               "PROPPATCH refused with " + std::to_string(err.status) + " " + err.message);
  }

  LockInfo lockinfo;
  err = ParseLockinfo(body, limits, &lockinfo);
  if (err.ok()) {
    FUZZ_CHECK(!doctype, "LOCK with a DOCTYPE accepted: " + Printable(body));
    if (!lockinfo.owner.empty()) CheckFragment(lockinfo.owner, "{DAV:}owner", body);
  } else {
    FUZZ_CHECK((err.status == 400 || err.status == 422) && !err.message.empty(),
               "LOCK refused with " + std::to_string(err.status) + " " + err.message);
  }
  return 0;
}
