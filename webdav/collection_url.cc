#include "webdav/collection_url.h"

#include <string_view>

#include "webdav/href.h"

namespace keepdav::webdav {

namespace {

// The path part of a request-target and its query ("" or "?..."). An absolute-form target
// ("http://host/up?x") starts its path at the first '/' after "//".
void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query) {
  size_t start = 0;
  if (target.empty() || target.front() != '/') {
    size_t scheme = target.find("://");
    start = scheme == std::string_view::npos ? target.size() : target.find('/', scheme + 3);
    if (start == std::string_view::npos) start = target.size();
  }
  size_t q = target.find('?', start);
  *path = target.substr(start, q == std::string_view::npos ? std::string_view::npos : q - start);
  *query = q == std::string_view::npos ? std::string_view() : target.substr(q);
}

}  // namespace

bool NamedWithoutSlash(const DavRequest& req) {
  if (req.space.IsViewRoot(req.path)) return false;
  std::string_view path, query;
  SplitTarget(req.target, &path, &query);
  return path.empty() || path.back() != '/';
}

DavResponse RedirectToCollection(const DavRequest& req) {
  std::string_view path, query;
  SplitTarget(req.target, &path, &query);
  std::string location = req.space.Href(req.path, /*is_collection=*/true);
  location.append(query);
  DavResponse r = DavResponse::Empty(301);
  r.AddHeader("Location", std::move(location));
  return r;
}

void AddCollectionLocation(const DavRequest& req, bool is_collection, DavResponse* response) {
  if (!is_collection || !NamedWithoutSlash(req)) return;
  response->AddHeader("Content-Location", req.space.Href(req.path, /*is_collection=*/true));
}

}  // namespace keepdav::webdav
