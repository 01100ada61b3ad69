#include "webdav/browser_assets.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace keepdav::webdav {

namespace {

struct AssetType {
  std::string_view suffix;
  const char* content_type;
};

const char* ContentTypeOf(std::string_view name) {
  static constexpr AssetType kTypes[] = {
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
  };
  for (const AssetType& t : kTypes) {
    if (name.size() > t.suffix.size() && name.substr(name.size() - t.suffix.size()) == t.suffix) {
      return t.content_type;
    }
  }
  return "application/octet-stream";
}

// A strong validator from the bytes (FNV-1a, 64 bits): the assets change only with the binary
// (or, with KEEPDAV_DEV_ASSETS_DIR, with the file), and the ETag with them.
std::string ETagOf(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

bool KnownName(std::string_view name) {
  for (size_t i = 0; i < embedded::kFileCount; ++i) {
    if (name == embedded::kFiles[i].name) return true;
  }
  return false;
}

}  // namespace

std::string BrowserAsset(std::string_view name) {
  if (!KnownName(name)) return "";
  if (const char* dir = std::getenv("KEEPDAV_DEV_ASSETS_DIR"); dir && *dir) {
    std::ifstream in(std::string(dir) + "/" + std::string(name), std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
  }
  for (size_t i = 0; i < embedded::kFileCount; ++i) {
    const embedded::EmbeddedFile& f = embedded::kFiles[i];
    if (name == f.name) return std::string(reinterpret_cast<const char*>(f.data), f.size);
  }
  return "";
}

bool IsAssetRequest(const DavRequest& req, std::string_view base_path, std::string* name) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  std::string_view target = req.target;
  // An absolute-form target (RFC 9112 §3.2.2): the path after the authority.
  if (size_t scheme = target.find("://"); scheme != std::string_view::npos && target[0] != '/') {
    size_t path = target.find('/', scheme + 3);
    if (path == std::string_view::npos) return false;
    target.remove_prefix(path);
  }
  if (size_t query = target.find('?'); query != std::string_view::npos) {
    target = target.substr(0, query);
  }
  if (target.substr(0, base_path.size()) != base_path) return false;
  target.remove_prefix(base_path.size());
  if (target.substr(0, kAssetsPath.size()) != kAssetsPath) return false;
  target.remove_prefix(kAssetsPath.size());
  name->assign(target);
  return true;
}

DavResponse BrowserAssetResponse(const DavRequest& req, const std::string& name) {
  std::string body = BrowserAsset(name);
  if (body.empty()) return DavError::Make(404, "no such asset");
  const std::string etag = ETagOf(body);
  const std::string* match = req.Header("If-None-Match");
  DavResponse r = match && *match == etag
                      ? DavResponse::Empty(304)
                      : DavResponse::Text(200, ContentTypeOf(name), std::move(body));
  r.AddHeader("ETag", etag);
  // An hour, then revalidated: a new binary's assets are picked up soon without a reload.
  r.AddHeader("Cache-Control", "max-age=3600");
  r.AddHeader("X-Content-Type-Options", "nosniff");
  r.AddHeader("Content-Security-Policy", kPagePolicy);
  return r;
}

}  // namespace keepdav::webdav
