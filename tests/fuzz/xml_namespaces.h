// Namespace-aware reading of pugixml trees for the XML fuzz targets (pugixml itself is not
// namespace-aware): the namespace an element or attribute prefix resolves to where it stands,
// and whether two trees mean the same XML once namespaces are resolved.
#pragma once

#include <pugixml.hpp>

#include <string>
#include <string_view>

namespace keepdav::fuzz {

// What an unbound prefix resolves to. It starts with a NUL byte, which no pugixml attribute value
// (a C string) can hold, so no declared namespace URI can look like it ("<unbound>" could: pugixml
// accepts '<' in attribute values, and the xml_request fuzzer found `xmlns:Z="<unbound>"`).
inline const std::string kUnbound("\0unbound", 8);

// The namespace URI of `qname` (an element's or attribute's name) at `node`: the nearest xmlns
// declaration from `node` up, "" for an unprefixed element without a default namespace and for
// every unprefixed attribute, kUnbound for an undeclared prefix (or one bound to "").
inline std::string ResolveNamespace(const pugi::xml_node& node, std::string_view qname,
                                    bool is_attribute) {
  size_t colon = qname.find(':');
  std::string prefix(colon == std::string_view::npos ? "" : qname.substr(0, colon));
  if (prefix == "xml") return "http://www.w3.org/XML/1998/namespace";
  if (prefix == "xmlns") return "http://www.w3.org/2000/xmlns/";
  if (prefix.empty() && is_attribute) return "";
  std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) {
      if (!prefix.empty() && a.value()[0] == '\0') return kUnbound;
      return a.value();
    }
  }
  return prefix.empty() ? "" : kUnbound;
}

inline std::string LocalName(std::string_view qname) {
  size_t colon = qname.find(':');
  return std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
}

// "{ns}local" of an element.
inline std::string ExpandedName(const pugi::xml_node& element) {
  return "{" + ResolveNamespace(element, element.name(), false) + "}" + LocalName(element.name());
}

// True when every element and attribute prefix below and at `element` is declared.
inline bool NamespaceWellFormed(const pugi::xml_node& element) {
  if (ResolveNamespace(element, element.name(), false) == kUnbound) return false;
  for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
    if (ResolveNamespace(element, a.name(), true) == kUnbound) return false;
  }
  for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && !NamespaceWellFormed(c)) return false;
  }
  return true;
}

// Compares two trees as XML with namespaces: element and attribute names by (namespace, local
// name), attribute values, text (PCDATA and CDATA alike), comments and processing instructions,
// in order. Namespace declarations themselves are not compared, only what they resolve. Returns
// "" when equal, else where they first differ.
inline std::string CompareTrees(const pugi::xml_node& a, const pugi::xml_node& b) {
  auto is_text = [](pugi::xml_node_type t) {
    return t == pugi::node_pcdata || t == pugi::node_cdata;
  };
  if (is_text(a.type()) && is_text(b.type())) {
    return std::string_view(a.value()) == b.value() ? "" : "text differs";
  }
  if (a.type() != b.type()) return "node types differ";
  if (a.type() != pugi::node_element) {
    return std::string_view(a.name()) == b.name() && std::string_view(a.value()) == b.value()
               ? ""
               : "comment or PI differs";
  }
  if (ExpandedName(a) != ExpandedName(b)) return ExpandedName(a) + " vs " + ExpandedName(b);
  auto attributes = [](const pugi::xml_node& e) {
    std::string out;
    for (pugi::xml_attribute at = e.first_attribute(); at; at = at.next_attribute()) {
      std::string_view name = at.name();
      if (name == "xmlns" || name.substr(0, 6) == "xmlns:") continue;
      out +=
          "{" + ResolveNamespace(e, name, true) + "}" + LocalName(name) + "=" + at.value() + '\0';
    }
    return out;
  };
  if (attributes(a) != attributes(b)) return "attributes of " + ExpandedName(a) + " differ";
  pugi::xml_node ca = a.first_child(), cb = b.first_child();
  for (; ca && cb; ca = ca.next_sibling(), cb = cb.next_sibling()) {
    std::string diff = CompareTrees(ca, cb);
    if (!diff.empty()) return diff + " in " + ExpandedName(a);
  }
  if (ca || cb) return "children of " + ExpandedName(a) + " differ in number";
  return "";
}

}  // namespace keepdav::fuzz
