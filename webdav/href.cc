#include "webdav/href.h"

namespace keepdav::webdav {

namespace {

// RFC 3986 unreserved characters and '/' stay; everything else is percent-encoded.
void AppendEncodedPath(std::string* out, std::string_view decoded_path) {
  static const char* kHex = "0123456789ABCDEF";
  size_t start = 0;
  for (size_t i = 0; i < decoded_path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(decoded_path[i]);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) continue;
    out->append(decoded_path.data() + start, i - start);
    char escaped[3] = {'%', kHex[c >> 4], kHex[c & 15]};
    out->append(escaped, 3);
    start = i + 1;
  }
  out->append(decoded_path.data() + start, decoded_path.size() - start);
}

}  // namespace

std::string EncodeHrefPath(std::string_view decoded_path) {
  std::string out;
  out.reserve(decoded_path.size() + 8);
  AppendEncodedPath(&out, decoded_path);
  return out;
}

void AppendHref(std::string* out, std::string_view decoded_path, bool is_collection) {
  AppendEncodedPath(out, decoded_path);
  if (is_collection && (decoded_path.empty() || decoded_path.back() != '/')) out->push_back('/');
}

std::string HrefFor(const storage::ResourcePath& path, bool is_collection) {
  std::string out;
  out.reserve(path.str().size() + 8);
  AppendHref(&out, path.str(), is_collection);
  return out;
}

}  // namespace keepdav::webdav
