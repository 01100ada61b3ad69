#include "webdav/mime_types.h"

#include <algorithm>
#include <unordered_map>

#include "storage/ascii.h"

namespace keepdav::webdav {

const std::string& ContentTypeFor(std::string_view file_name) {
  // Keys are literals, so the map can be searched by a view of a stack buffer.
  static const std::unordered_map<std::string_view, std::string> kTypes = {
      {"txt", "text/plain; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"pdf", "application/pdf"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"svg", "image/svg+xml"},
      {"ico", "image/vnd.microsoft.icon"},
      {"mp3", "audio/mpeg"},
      {"ogg", "audio/ogg"},
      {"wav", "audio/wav"},
      {"mp4", "video/mp4"},
      {"webm", "video/webm"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"doc", "application/msword"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"xls", "application/vnd.ms-excel"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"ppt", "application/vnd.ms-powerpoint"},
      {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
      {"odp", "application/vnd.oasis.opendocument.presentation"},
  };
  static const std::string kOctetStream = "application/octet-stream";
  auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == file_name.size()) return kOctetStream;
  // Lower-cased into a buffer on the stack: no allocation, no locale call per character. An
  // extension longer than every key cannot match.
  static const size_t kLongest = [] {
    size_t n = 0;
    for (const auto& [ext, type] : kTypes) n = std::max(n, ext.size());
    return n;
  }();
  std::string_view ext = file_name.substr(dot + 1);
  if (ext.size() > kLongest) return kOctetStream;
  char lower[16];
  static_assert(sizeof lower >= 5, "the longest key, xlsx/pptx, fits");
  if (ext.size() > sizeof lower) return kOctetStream;
  for (size_t i = 0; i < ext.size(); ++i) lower[i] = storage::ascii::ToLower(ext[i]);
  auto it = kTypes.find(std::string_view(lower, ext.size()));
  return it == kTypes.end() ? kOctetStream : it->second;
}

}  // namespace keepdav::webdav
