#include "webdav/url_space.h"

#include "webdav/href.h"

namespace keepdav::webdav {

using storage::ResourcePath;

const UrlSpace& UrlSpace::Whole() {
  static const UrlSpace kWhole;
  return kWhole;
}

std::string_view UrlSpace::ViewOf(const ResourcePath& p) const {
  if (root.IsRoot()) return p.str();
  if (!root.Contains(p) || p == root) return "/";
  return std::string_view(p.str()).substr(root.str().size());
}

ResourcePath UrlSpace::ViewPath(const ResourcePath& p) const {
  if (root.IsRoot()) return p;
  if (!root.Contains(p)) return ResourcePath();
  return root.Rebase(p, ResourcePath());
}

bool UrlSpace::StripBase(std::string* path) const {
  if (base.empty()) return true;
  if (path->compare(0, base.size(), base) != 0 ||
      (path->size() > base.size() && (*path)[base.size()] != '/')) {
    return false;
  }
  path->erase(0, base.size());
  if (path->empty()) *path = "/";
  return true;
}

ResourcePath UrlSpace::ToStorage(const ResourcePath& view) const {
  if (root.IsRoot()) return view;
  return ResourcePath().Rebase(view, root);
}

std::string UrlSpace::Href(const ResourcePath& p, bool is_collection) const {
  std::string out = base;
  std::string_view view = ViewOf(p);
  if (view == "/") {
    out.push_back('/');
    return out;
  }
  AppendHref(&out, view, is_collection);
  return out;
}

bool ParseBasePath(std::string_view text, std::string* out, std::string* error) {
  out->clear();
  while (text.size() > 1 && text.back() == '/') text.remove_suffix(1);
  if (text.empty() || text == "/") return true;
  if (text.front() != '/') {
    *error = "must start with '/'";
    return false;
  }
  size_t start = 1;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view seg = text.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") {
      *error = "has an empty, '.' or '..' segment";
      return false;
    }
    for (char c : seg) {
      bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
      if (!unreserved) {
        *error = "may hold only letters, digits, '-', '.', '_', '~' and '/'";
        return false;
      }
    }
    start = end + 1;
  }
  *out = std::string(text);
  return true;
}

}  // namespace keepdav::webdav
