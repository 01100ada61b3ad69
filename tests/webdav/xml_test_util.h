// Helpers for tests that read multistatus and other DAV XML back with pugixml, which is not
// namespace-aware: namespaces are resolved by hand from the xmlns declarations in scope.
#pragma once

#include <pugixml.hpp>

#include <string>
#include <vector>

namespace keepdav::webdav::testing {

// The namespace URI of an element; "?" when its prefix is unbound.
inline std::string NamespaceOf(const pugi::xml_node& node) {
  std::string name = node.name();
  auto colon = name.find(':');
  std::string prefix = colon == std::string::npos ? "" : name.substr(0, colon);
  std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) return a.value();
  }
  return prefix.empty() ? "" : "?";
}

inline std::string LocalName(const pugi::xml_node& node) {
  std::string name = node.name();
  auto colon = name.find(':');
  return colon == std::string::npos ? name : name.substr(colon + 1);
}

inline bool Is(const pugi::xml_node& node, const std::string& ns, const std::string& local) {
  return node.type() == pugi::node_element && NamespaceOf(node) == ns && LocalName(node) == local;
}

inline std::vector<pugi::xml_node> Children(const pugi::xml_node& node, const std::string& ns,
                                            const std::string& local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (Is(c, ns, local)) out.push_back(c);
  }
  return out;
}

inline pugi::xml_node Child(const pugi::xml_node& node, const std::string& ns,
                            const std::string& local) {
  auto all = Children(node, ns, local);
  return all.empty() ? pugi::xml_node() : all.front();
}

}  // namespace keepdav::webdav::testing
