// Fuzz target: the dead-property round trip, PROPPATCH body to SQLite to a PROPFIND 207.
//
// Input: the bytes up to the first newline are a (decoded) resource path, the rest is placed
// inside <A:prop> of a PROPPATCH set whose DAV: prefix is "A" (so a value that leans on the
// multistatus's "D" prefix shows up). The changes ParseProppatch gives are applied to a
// SqlitePropertyStore over an in-memory database, read back, and written into a multistatus
// with MultistatusWriter exactly as PROPFIND does. Invariants: the parser or the store refuses
// the input cleanly (a 400; a failed Apply stores nothing), or the store gives back exactly the
// values set (the last set of each name wins, removes remove), and the 207 parses with pugixml,
// its href decodes to the resource path, and each property in it is, with namespaces resolved,
// the same XML as the stored value read on its own.
#include <pugixml.hpp>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/xml_namespaces.h"
#include "webdav/multistatus_writer.h"
#include "webdav/xml_request.h"

namespace keepdav::fuzz {
namespace {

using storage::PropertyName;

constexpr unsigned kParseOptions = pugi::parse_default | pugi::parse_ws_pcdata;

storage::PropertyStore& Store() {
  static std::unique_ptr<storage::Database> db = [] {
    auto opened = storage::Database::Open(":memory:");
    if (!opened.ok()) {
      ReportFuzzFailure(__FILE__, __LINE__, "Open", opened.status().message());
      std::abort();
    }
    return std::move(opened).value();
  }();
  static storage::SqlitePropertyStore store(*db);
  return store;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

pugi::xml_node Child(const pugi::xml_node& parent, const char* expanded) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && ExpandedName(c) == expanded) return c;
  }
  return pugi::xml_node();
}

void CheckMultistatus(const storage::ResourcePath& path,
                      const std::vector<storage::DeadProperty>& props, const std::string& input) {
  std::ostringstream out;
  webdav::MultistatusWriter writer(out);
  writer.Begin();
  writer.BeginResponseForPath(path.str(), false);
  writer.BeginPropstat();
  for (const auto& p : props) writer.WriteRawElement(p.value);
  writer.EndPropstat(200);
  writer.EndResponse();
  writer.End();
  std::string xml = out.str();
  std::string where = " in " + Printable(xml) + " from " + Printable(input);

  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size(), kParseOptions);
  if (!FUZZ_CHECK(r, std::string("the 207 does not parse: ") + r.description() + where)) return;
  pugi::xml_node response = Child(doc.document_element(), "{DAV:}response");
  pugi::xml_node href = Child(response, "{DAV:}href");
  FUZZ_CHECK(PercentDecode(href.text().get()) == path.str(), "href does not decode back" + where);
  pugi::xml_node prop = Child(Child(response, "{DAV:}propstat"), "{DAV:}prop");
  if (!FUZZ_CHECK(prop, "no DAV:prop" + where)) return;
  size_t i = 0;
  for (pugi::xml_node c = prop.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    if (!FUZZ_CHECK(i < props.size(), "more properties than stored" + where)) return;
    const storage::DeadProperty& stored = props[i++];
    pugi::xml_document alone;
    if (!FUZZ_CHECK(alone.load_buffer(stored.value.data(), stored.value.size(), kParseOptions),
                    "stored value does not parse alone: " + Printable(stored.value))) {
      continue;
    }
    std::string expected = "{" + stored.name.ns + "}" + stored.name.local;
    FUZZ_CHECK(ExpandedName(c) == expected,
               "written as " + ExpandedName(c) + ", stored as " + expected + where);
    std::string diff = CompareTrees(alone.document_element(), c);
    FUZZ_CHECK(diff.empty(), "the 207 changed " + Printable(stored.value) + ": " + diff + where);
  }
  FUZZ_CHECK(i == props.size(), "fewer properties than stored" + where);
}

}  // namespace
}  // namespace keepdav::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using keepdav::storage::ResourcePath;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view path_text = newline == std::string_view::npos ? "" : input.substr(0, newline);
  std::string_view inner = newline == std::string_view::npos ? input : input.substr(newline + 1);
  auto parsed_path = ResourcePath::Parse(path_text);
  ResourcePath path = parsed_path.ok() ? parsed_path.value() : ResourcePath::Parse("/p").value();

  std::string body = "<?xml version=\"1.0\"?><A:propertyupdate xmlns:A=\"DAV:\"><A:set><A:prop>" +
                     std::string(inner) + "</A:prop></A:set></A:propertyupdate>";
  std::vector<keepdav::storage::PropertyChange> changes;
  keepdav::webdav::DavError err =
      keepdav::webdav::ParseProppatch(body, keepdav::webdav::XmlLimits(), &changes);
  if (!err.ok()) {
    FUZZ_CHECK(err.status == 400, "PROPPATCH refused with " + std::to_string(err.status));
    return 0;
  }

  keepdav::storage::PropertyStore& store = Store();
  std::map<PropertyName, std::string> model;
  for (const auto& c : changes) {
    if (c.remove) {
      model.erase(c.name);
    } else {
      model[c.name] = c.value;
    }
  }
  keepdav::storage::Status applied = store.Apply(path, changes);
  auto all = store.GetAll(path);
  if (!FUZZ_CHECK(all.ok(), "GetAll failed: " + all.status().message())) return 0;
  if (!applied.ok()) {
    FUZZ_CHECK(all.value().empty(), "a failed Apply stored something: " + applied.message());
  } else {
    std::vector<keepdav::storage::DeadProperty> expected;
    for (const auto& [name, value] : model) expected.push_back({name, value});
    bool same = expected.size() == all.value().size();
    for (size_t i = 0; same && i < expected.size(); ++i) {
      same = expected[i].name == all.value()[i].name && expected[i].value == all.value()[i].value;
    }
    FUZZ_CHECK(same, "the store did not give back what was set from " + Printable(input));
    CheckMultistatus(path, all.value(), std::string(input));
  }
  FUZZ_CHECK(store.DeleteTree(ResourcePath()).ok(), "DeleteTree failed");
  return 0;
}
