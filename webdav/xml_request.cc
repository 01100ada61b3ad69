#include "webdav/xml_request.h"

#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>
#include <utility>

namespace keepdav::webdav {
namespace {

constexpr const char* kDav = "DAV:";
constexpr const char* kXmlNs = "http://www.w3.org/XML/1998/namespace";

// Splits "p:local" into prefix and local name.
std::pair<std::string_view, std::string_view> SplitQName(std::string_view qname) {
  auto colon = qname.find(':');
  if (colon == std::string_view::npos) return {std::string_view(), qname};
  return {qname.substr(0, colon), qname.substr(colon + 1)};
}

// Resolves the namespace URI of an element by searching xmlns declarations from the element up.
// Returns false for an unbound prefix, or a prefix bound to "" (not allowed by Namespaces 1.0,
// litmus propfind_invalid2).
bool ResolveElement(const pugi::xml_node& node, PropertyName* out) {
  auto [prefix, local] = SplitQName(node.name());
  if (local.empty()) return false;
  out->local = std::string(local);
  if (prefix == "xml") {
    out->ns = kXmlNs;
    return true;
  }
  std::string attr = prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    pugi::xml_attribute a = n.attribute(attr.c_str());
    if (a) {
      if (!prefix.empty() && a.value()[0] == '\0') return false;
      out->ns = a.value();
      return true;
    }
  }
  if (!prefix.empty()) return false;
  out->ns.clear();
  return true;
}

bool IsDav(const pugi::xml_node& node, std::string_view local, DavError* err) {
  PropertyName name;
  if (!ResolveElement(node, &name)) {
    *err = DavError::Make(400, "undeclared or empty namespace prefix in request body");
    return false;
  }
  return name.ns == kDav && name.local == local;
}

// True when every element and attribute prefix in `element`'s subtree is declared where it
// stands (Namespaces in XML 1.0 §5). A stored value with an undeclared prefix would change its
// meaning when written into a 207 whose own prefixes ("D") are in scope around it, so such a
// value is refused rather than stored. Recursion is bounded by XmlLimits::max_depth
// (LoadDocument checks it first).
bool NamespaceWellFormed(const pugi::xml_node& element) {
  PropertyName name;
  if (!ResolveElement(element, &name)) return false;
  for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
    auto [prefix, local] = SplitQName(a.name());
    if (prefix.empty() || prefix == "xml" || prefix == "xmlns") continue;
    std::string decl = "xmlns:" + std::string(prefix);
    bool bound = false;
    for (pugi::xml_node n = element; n && n.type() == pugi::node_element; n = n.parent()) {
      if (pugi::xml_attribute d = n.attribute(decl.c_str())) {
        bound = d.value()[0] != '\0';
        break;
      }
    }
    if (!bound) return false;
  }
  for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && !NamespaceWellFormed(c)) return false;
  }
  return true;
}

std::vector<pugi::xml_node> ElementChildren(const pugi::xml_node& node) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) out.push_back(c);
  }
  return out;
}

// True when `text` (raw, not unescaped) holds an '&' that does not start one of the five
// predefined entity references or a character reference (XML 1.0 §4.1, §4.6).
bool HasUndefinedReference(const char* text, std::string* which) {
  for (const char* p = std::strchr(text, '&'); p; p = std::strchr(p + 1, '&')) {
    const char* semi = std::strchr(p, ';');
    std::string_view ref =
        semi ? std::string_view(p + 1, static_cast<size_t>(semi - p - 1)) : std::string_view();
    bool ok = ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos";
    if (!ok && ref.size() > 1 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      ok = !digits.empty();
      for (char c : digits) {
        bool digit =
            (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
        if (!digit) ok = false;
      }
    }
    if (!ok) {
      *which = std::string(semi ? std::string_view(p, static_cast<size_t>(semi - p + 1))
                                : std::string_view(p, std::min<size_t>(std::strlen(p), 16)));
      return true;
    }
  }
  return false;
}

// pugixml expands only the five predefined entities and character references; any other
// reference ("&lol;", with or without a DTD declaring it) is left in the text as it stands, so
// "&lol;" would be stored or matched as the literal five characters, which the client cannot
// have meant (in XML an undeclared entity is a well-formedness error, XML 1.0 §4.1 WFC: Entity
// Declared). So the body is parsed a second time without parse_escapes, where every reference
// is still raw in text and attribute values, and any '&' that is not a defined reference is 400.
// CDATA sections, comments and processing instructions are not text: '&' in them is literal.
// The second parse costs as much as the first, on a body bounded by XmlLimits::max_body_bytes.
DavError RefuseUndefinedEntities(const std::string& body) {
  if (body.find('&') == std::string::npos) return DavError::Ok();
  pugi::xml_document raw;
  unsigned options = (pugi::parse_default | pugi::parse_ws_pcdata) & ~pugi::parse_escapes;
  if (!raw.load_buffer(body.data(), body.size(), options)) {
    return DavError::Make(400, "malformed XML");
  }
  struct Check : pugi::xml_tree_walker {
    std::string which;
    bool for_each(pugi::xml_node& node) override {
      if (node.type() == pugi::node_pcdata) return !HasUndefinedReference(node.value(), &which);
      if (node.type() == pugi::node_element) {
        for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
          if (HasUndefinedReference(a.value(), &which)) return false;
        }
      }
      return true;
    }
  } check;
  raw.traverse(check);
  if (!check.which.empty()) {
    return DavError::Make(400, "undefined entity reference " + check.which +
                                   " in request body (only &amp; &lt; &gt; &quot; &apos; and "
                                   "character references are defined without a DTD)");
  }
  return DavError::Ok();
}

// Parses and checks depth; returns the document element.
DavError LoadDocument(const std::string& body, const XmlLimits& limits, pugi::xml_document* doc,
                      pugi::xml_node* root) {
  // parse_ws_pcdata keeps whitespace inside property values verbatim; structural whitespace
  // nodes are skipped by ElementChildren. parse_doctype keeps the document type declaration as a
  // node (pugixml never reads or applies it either way), so that it can be refused below.
  unsigned options = pugi::parse_default | pugi::parse_ws_pcdata | pugi::parse_doctype;
  pugi::xml_parse_result r = doc->load_buffer(body.data(), body.size(), options);
  if (!r) return DavError::Make(400, std::string("malformed XML: ") + r.description());
  // RFC 4918 §20.6: a server should refuse a DTD it is not going to use (the entity expansion
  // attacks "billion laughs" and external entities). Ignoring it is no answer either: its entity
  // references would be stored as literal text ("&lol;"), which is not what the client meant.
  // pugixml accepts a DOCTYPE only at the top level, so the document's children are enough.
  for (pugi::xml_node n = doc->first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_doctype) {
      return DavError::Make(400,
                            "document type declarations are not accepted in request bodies "
                            "(RFC 4918 section 20.6)");
    }
  }
  if (DavError e = RefuseUndefinedEntities(body); !e.ok()) return e;
  // pugixml's traverse() is iterative, so hostile nesting cannot exhaust the stack here.
  struct DepthCheck : pugi::xml_tree_walker {
    int max_depth = 0;
    bool too_deep = false;
    bool for_each(pugi::xml_node& node) override {
      // Only elements count as nesting levels; text inside the deepest element does not.
      if (node.type() == pugi::node_element && depth() >= max_depth) {
        too_deep = true;
        return false;
      }
      return true;
    }
  } check;
  check.max_depth = limits.max_depth;
  doc->traverse(check);
  if (check.too_deep) return DavError::Make(400, "XML nested too deeply");
  *root = doc->document_element();
  if (!*root) return DavError::Make(400, "no document element");
  return DavError::Ok();
}

DavError ReadNames(const pugi::xml_node& parent, std::vector<PropertyName>* out) {
  for (const pugi::xml_node& c : ElementChildren(parent)) {
    PropertyName name;
    if (!ResolveElement(c, &name)) {
      return DavError::Make(400, "undeclared or empty namespace prefix in request body");
    }
    out->push_back(std::move(name));
  }
  return DavError::Ok();
}

// Copies onto `copy` every namespace declaration (and xml:lang) in scope at `original` that the
// element does not declare itself, so the fragment stands alone.
void AddInScopeDeclarations(const pugi::xml_node& original, pugi::xml_node copy) {
  bool have_lang = static_cast<bool>(copy.attribute("xml:lang"));
  for (pugi::xml_node n = original.parent(); n && n.type() == pugi::node_element; n = n.parent()) {
    for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
      std::string_view name = a.name();
      bool is_decl = name == "xmlns" || name.substr(0, 6) == "xmlns:";
      if (is_decl) {
        if (!copy.attribute(a.name())) copy.append_attribute(a.name()) = a.value();
      } else if (name == "xml:lang" && !have_lang) {
        copy.append_attribute("xml:lang") = a.value();
        have_lang = true;
      }
    }
  }
}

class StringWriter : public pugi::xml_writer {
 public:
  explicit StringWriter(std::string* out) : out_(out) {}
  void write(const void* data, size_t size) override {
    out_->append(static_cast<const char*>(data), size);
  }

 private:
  std::string* out_;
};

}  // namespace

DavError ReadBody(std::istream& in, int64_t content_length, const XmlLimits& limits,
                  std::string* out) {
  out->clear();
  if (content_length > static_cast<int64_t>(limits.max_body_bytes)) {
    return DavError::Make(
        413, "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  char buf[16384];
  while (in) {
    in.read(buf, sizeof buf);
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    if (out->size() + static_cast<size_t>(n) > limits.max_body_bytes) {
      return DavError::Make(
          413, "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes");
    }
    out->append(buf, static_cast<size_t>(n));
  }
  if (in.bad()) return DavError::Make(400, "the request body was cut off or malformed");
  if (content_length >= 0 && static_cast<int64_t>(out->size()) != content_length) {
    return DavError::Make(400, "request body shorter than its Content-Length");
  }
  return DavError::Ok();
}

DavError ParsePropfind(const std::string& body, const XmlLimits& limits, PropfindRequest* out) {
  *out = PropfindRequest();
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return DavError::Ok();
  pugi::xml_document doc;
  pugi::xml_node root;
  DavError err = LoadDocument(body, limits, &doc, &root);
  if (!err.ok()) return err;
  if (!IsDav(root, "propfind", &err)) {
    return err.ok() ? DavError::Make(400, "expected DAV:propfind") : err;
  }
  bool seen = false;
  for (const pugi::xml_node& c : ElementChildren(root)) {
    PropertyName name;
    if (!ResolveElement(c, &name)) return DavError::Make(400, "undeclared namespace prefix");
    if (name.ns != kDav) continue;  // unknown extension elements are ignored (RFC 4918 §17)
    if (name.local == "include") {
      err = ReadNames(c, &out->include);
      if (!err.ok()) return err;
      continue;
    }
    PropfindRequest::Kind kind;
    if (name.local == "prop") {
      kind = PropfindRequest::Kind::kProp;
    } else if (name.local == "allprop") {
      kind = PropfindRequest::Kind::kAllProp;
    } else if (name.local == "propname") {
      kind = PropfindRequest::Kind::kPropName;
    } else {
      continue;
    }
    if (seen) return DavError::Make(400, "propfind names more than one of prop/allprop/propname");
    seen = true;
    out->kind = kind;
    if (kind == PropfindRequest::Kind::kProp) {
      err = ReadNames(c, &out->props);
      if (!err.ok()) return err;
    }
  }
  if (!seen) return DavError::Make(400, "propfind without prop, allprop or propname");
  return DavError::Ok();
}

DavError ParseProppatch(const std::string& body, const XmlLimits& limits,
                        std::vector<storage::PropertyChange>* out) {
  out->clear();
  pugi::xml_document doc;
  pugi::xml_node root;
  DavError err = LoadDocument(body, limits, &doc, &root);
  if (!err.ok()) return err;
  if (!IsDav(root, "propertyupdate", &err)) {
    return err.ok() ? DavError::Make(400, "expected DAV:propertyupdate") : err;
  }
  for (const pugi::xml_node& op : ElementChildren(root)) {
    PropertyName opname;
    if (!ResolveElement(op, &opname)) return DavError::Make(400, "undeclared namespace prefix");
    if (opname.ns != kDav || (opname.local != "set" && opname.local != "remove")) continue;
    bool remove = opname.local == "remove";
    for (const pugi::xml_node& prop : ElementChildren(op)) {
      PropertyName pn;
      if (!ResolveElement(prop, &pn)) return DavError::Make(400, "undeclared namespace prefix");
      if (pn.ns != kDav || pn.local != "prop") continue;
      for (const pugi::xml_node& p : ElementChildren(prop)) {
        storage::PropertyChange change;
        if (!ResolveElement(p, &change.name)) {
          return DavError::Make(400, "undeclared or empty namespace prefix in property name");
        }
        change.remove = remove;
        if (!remove) {
          if (!NamespaceWellFormed(p)) {
            return DavError::Make(
                400, "undeclared or empty namespace prefix in the value of " + change.name.local);
          }
          pugi::xml_document frag;
          pugi::xml_node copy = frag.append_copy(p);
          AddInScopeDeclarations(p, copy);
          StringWriter writer(&change.value);
          frag.save(writer, "", pugi::format_raw | pugi::format_no_declaration,
                    pugi::encoding_utf8);
        }
        out->push_back(std::move(change));
      }
    }
  }
  if (out->empty()) return DavError::Make(400, "propertyupdate without set or remove");
  return DavError::Ok();
}

DavError ParseLockinfo(const std::string& body, const XmlLimits& limits, LockInfo* out) {
  *out = LockInfo();
  pugi::xml_document doc;
  pugi::xml_node root;
  DavError err = LoadDocument(body, limits, &doc, &root);
  if (!err.ok()) return err;
  if (!IsDav(root, "lockinfo", &err)) {
    return err.ok() ? DavError::Make(400, "expected DAV:lockinfo") : err;
  }
  bool have_scope = false, have_type = false;
  for (const pugi::xml_node& c : ElementChildren(root)) {
    PropertyName name;
    if (!ResolveElement(c, &name)) return DavError::Make(400, "undeclared namespace prefix");
    if (name.ns != kDav) continue;  // unknown extension elements are ignored (RFC 4918 §17)
    if (name.local == "lockscope" || name.local == "locktype") {
      bool scope = name.local == "lockscope";
      if ((scope && have_scope) || (!scope && have_type)) {
        return DavError::Make(400, "lockinfo names DAV:" + name.local + " twice");
      }
      std::vector<pugi::xml_node> values = ElementChildren(c);
      PropertyName value;
      if (values.size() != 1 || !ResolveElement(values[0], &value)) {
        return DavError::Make(400, "DAV:" + name.local + " must hold exactly one element");
      }
      if (scope) {
        if (value.ns != kDav || (value.local != "exclusive" && value.local != "shared")) {
          return DavError::Make(400, "DAV:lockscope must be DAV:exclusive or DAV:shared");
        }
        out->exclusive = value.local == "exclusive";
        have_scope = true;
      } else {
        if (value.ns != kDav || value.local != "write") {
          return DavError::Make(422, "only DAV:write locks are supported");
        }
        have_type = true;
      }
    } else if (name.local == "owner") {
      if (!out->owner.empty()) return DavError::Make(400, "lockinfo names DAV:owner twice");
      if (!NamespaceWellFormed(c)) {
        return DavError::Make(400, "undeclared or empty namespace prefix in DAV:owner");
      }
      pugi::xml_document frag;
      pugi::xml_node copy = frag.append_copy(c);
      AddInScopeDeclarations(c, copy);
      StringWriter writer(&out->owner);
      frag.save(writer, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
    }
  }
  if (!have_scope || !have_type) {
    return DavError::Make(400, "lockinfo without DAV:lockscope or DAV:locktype");
  }
  return DavError::Ok();
}

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// The length of the valid UTF-8 character XML may hold at text[i], or 0 when the bytes there
// are not one (then text[i] alone, or the maximal invalid subpart, is replaced). `*len` is the
// number of bytes one U+FFFD stands for.
size_t ValidCharAt(std::string_view text, size_t i, size_t* len) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  *len = 1;
  if (c < 0x80) return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte (RFC 3629 §4)
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= text.size()) return 0;
    unsigned char b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
    *len = k + 1;  // a valid prefix so far: one U+FFFD covers it if the character breaks off
  }
  // U+FFFE and U+FFFF are not XML characters (XML 1.0 §2.2).
  if (n == 3 && c == 0xEF && byte(i + 1) == 0xBF && byte(i + 2) >= 0xBE) {
    *len = 3;
    return 0;
  }
  *len = n;
  return n;
}

// Bytes that are copied as they are: printable ASCII other than the five XML specials. Tab, LF,
// CR and everything from 0x80 go the slow way through ValidCharAt.
constexpr std::array<bool, 256> MakePlainBytes() {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) {
    plain[c] = c != '<' && c != '>' && c != '&' && c != '"' && c != '\'';
  }
  return plain;
}
constexpr std::array<bool, 256> kPlainBytes = MakePlainBytes();

}  // namespace

void AppendXmlEscaped(std::string* out, std::string_view text) {
  // Runs without special characters (nearly everything) are appended in one piece; the tight
  // loop over plain bytes keeps PROPFIND's hrefs and names (several per member) cheap.
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    while (i < text.size() && kPlainBytes[static_cast<unsigned char>(text[i])]) ++i;
    if (i == text.size()) break;
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::string_view entity;
    size_t skip = 1;
    switch (c) {
      case '<':
        entity = "&lt;";
        break;
      case '>':
        entity = "&gt;";
        break;
      case '&':
        entity = "&amp;";
        break;
      case '"':
        entity = "&quot;";
        break;
      case '\'':
        entity = "&apos;";
        break;
      default:
        if (c >= 0x20 && c < 0x80) {
          ++i;
          continue;
        }
        if (size_t n = ValidCharAt(text, i, &skip); n != 0) {
          i += n;
          continue;
        }
        entity = kReplacement;
    }
    out->append(text.data() + start, i - start);
    out->append(entity);
    i += skip;
    start = i;
  }
  out->append(text.data() + start, text.size() - start);
}

}  // namespace keepdav::webdav
