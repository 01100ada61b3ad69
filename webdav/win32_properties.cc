#include "webdav/win32_properties.h"

#include <pugixml.hpp>

#include "storage/ascii.h"
#include "webdav/conditional.h"

namespace keepdav::webdav {

bool IsWin32LastModifiedTime(const storage::PropertyName& name) {
  return name.ns == kMicrosoftNamespace && name.local == "Win32LastModifiedTime";
}

std::optional<int64_t> ParseWin32Time(const std::string& element_xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(element_xml.data(), element_xml.size(), pugi::parse_default,
                       pugi::encoding_utf8)) {
    return std::nullopt;
  }
  pugi::xml_node element = doc.first_child();
  // Only text: a value with child elements is not a date.
  for (pugi::xml_node child : element.children()) {
    if (child.type() != pugi::node_pcdata && child.type() != pugi::node_cdata) return std::nullopt;
  }
  std::string text(storage::ascii::Trim(element.text().get(), storage::ascii::kWhitespace));
  if (text.empty()) return std::nullopt;
  return ParseHttpDate(text);
}

}  // namespace keepdav::webdav
