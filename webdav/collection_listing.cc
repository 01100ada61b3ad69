#include "webdav/collection_listing.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <string>
#include <vector>

#include "storage/ascii.h"
#include "webdav/conditional.h"
#include "webdav/href.h"
#include "webdav/multistatus_writer.h"
#include "webdav/xml_request.h"

namespace keepdav::webdav {

namespace {

struct Entry {
  std::string name;
  bool is_directory = false;
  uint64_t size = 0;
  int64_t mtime_s = 0;
};

// Folders first, then by name: ASCII letters compared without case ("b" after "A"), ties (and
// everything else, UTF-8 included) by bytes, so the order is total and stable across runs.
bool ListedBefore(const Entry& a, const Entry& b) {
  if (a.is_directory != b.is_directory) return a.is_directory;
  size_t n = std::min(a.name.size(), b.name.size());
  for (size_t i = 0; i < n; ++i) {
    char x = storage::ascii::ToLower(a.name[i]), y = storage::ascii::ToLower(b.name[i]);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  }
  if (a.name.size() != b.name.size()) return a.name.size() < b.name.size();
  return a.name < b.name;
}

void AppendRow(std::string* page, const std::string& href, const std::string& shown,
               const std::string& size, const std::string& date) {
  *page += "<tr><td><a href=\"";
  AppendXmlEscaped(page, href);
  *page += "\">";
  AppendXmlEscaped(page, shown);
  *page += "</a></td><td>" + size + "</td><td>" + date + "</td></tr>\n";
}

// The page: every link an absolute path from the root, percent-encoded (href.h), so it works
// whatever URL the page was reached by. The members are gathered and sorted first: names only,
// about a hundred bytes each, so a folder of a million entries costs some 100 MB while it is
// listed (a browser could not show it anyway).
void WritePage(storage::FileSystem& fs, const storage::ResourcePath& dir, const UrlSpace& space,
               const HiddenMember& hidden, std::ostream& out) {
  std::vector<Entry> entries;
  storage::Status s = fs.List(dir, [&](std::string_view name, const storage::FileInfo& info) {
    if (hidden && hidden(dir.Child(name))) return true;
    entries.push_back(
        {std::string(name), info.IsDirectory(), info.size, info.mtime_ns / 1000000000});
    return true;
  });
  if (!s.ok()) {
    Poco::Logger::get("keepdav.dav").warning("listing %s failed: %s", dir.str(), s.message());
  }
  std::sort(entries.begin(), entries.end(), ListedBefore);

  std::string page;
  std::string title;
  AppendXmlEscaped(&title, std::string(space.base) + std::string(space.ViewOf(dir)));
  page += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of " + title +
          "</title></head>\n<body><h1>Index of " + title + "</h1>\n<table>\n";
  page += "<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n";
  const std::string base = space.Href(dir, /*is_collection=*/true);
  if (!space.IsViewRoot(dir)) AppendRow(&page, space.Href(dir.Parent(), true), "../", "", "");
  for (const Entry& e : entries) {
    std::string href = base;
    AppendHref(&href, e.name, e.is_directory);
    AppendRow(&page, href, e.is_directory ? e.name + "/" : e.name,
              e.is_directory ? std::string("-") : std::to_string(e.size), HttpDate(e.mtime_s));
    if (page.size() > 32 * 1024) {
      out << page;
      page.clear();
      if (!out) return;  // the client went away
    }
  }
  if (!s.ok()) page += "<tr><td colspan=\"3\">listing failed</td></tr>\n";
  page += "</table>\n</body></html>\n";
  out << page;
}

}  // namespace

DavResponse CollectionListing(storage::FileSystem& fs, const storage::ResourcePath& dir,
                              const UrlSpace& space, HiddenMember hidden) {
  return DavResponse::Streamed(
      200, "text/html; charset=utf-8",
      [&fs, dir, space, hidden](std::ostream& out) { WritePage(fs, dir, space, hidden, out); });
}

}  // namespace keepdav::webdav
