// Content-Type by file name extension (case-insensitive), "application/octet-stream" otherwise.
#pragma once

#include <string>
#include <string_view>

namespace keepdav::webdav {

// The reference stays valid for the program's life (PROPFIND asks once per member).
const std::string& ContentTypeFor(std::string_view file_name);

}  // namespace keepdav::webdav
