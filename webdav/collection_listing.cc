#include "webdav/collection_listing.h"

#include "webdav/conditional.h"
#include "webdav/href.h"
#include "webdav/multistatus_writer.h"
#include "webdav/xml_request.h"

namespace keepdav::webdav {

namespace {

void WritePage(storage::FileSystem& fs, const storage::ResourcePath& dir, std::ostream& out) {
  std::string page;
  std::string title;
  AppendXmlEscaped(&title, dir.str());
  page += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of " + title +
          "</title></head>\n<body><h1>Index of " + title + "</h1>\n<table>\n";
  page += "<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n";
  const std::string base = HrefFor(dir, /*is_collection=*/true);
  if (!dir.IsRoot()) page += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  storage::Status s = fs.List(dir, [&](std::string_view name, const storage::FileInfo& info) {
    std::string href = base;
    AppendHref(&href, name, info.IsDirectory());
    std::string shown;
    AppendXmlEscaped(&shown, name);
    if (info.IsDirectory()) shown.push_back('/');
    page += "<tr><td><a href=\"";
    AppendXmlEscaped(&page, href);
    page += "\">" + shown + "</a></td><td>" +
            (info.IsDirectory() ? std::string("-") : std::to_string(info.size)) + "</td><td>" +
            HttpDate(info.mtime_ns / 1000000000) + "</td></tr>\n";
    if (page.size() > 32 * 1024) {
      out << page;
      page.clear();
    }
    return static_cast<bool>(out);
  });
  if (!s.ok()) page += "<tr><td colspan=\"3\">listing failed</td></tr>\n";
  page += "</table>\n</body></html>\n";
  out << page;
}

}  // namespace

DavResponse CollectionListing(storage::FileSystem& fs, const storage::ResourcePath& dir) {
  return DavResponse::Streamed(200, "text/html; charset=utf-8",
                               [&fs, dir](std::ostream& out) { WritePage(fs, dir, out); });
}

}  // namespace keepdav::webdav
