#include "webdav/browser_page.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "storage/ascii.h"
#include "webdav/browser_assets.h"
#include "webdav/href.h"
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

// HTML text and attribute values: the five characters that matter escaped (AppendXmlEscaped
// also turns bytes that are not UTF-8 into U+FFFD, so the page stays valid UTF-8).
void AppendEscaped(std::string* out, std::string_view text) {
  AppendXmlEscaped(out, text);
}

void AppendTime(std::string* out, int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char iso[32], shown[32];
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::strftime(shown, sizeof shown, "%Y-%m-%d %H:%M UTC", &tm);
  *out += "<time datetime=\"";
  *out += iso;
  *out += "\">";
  *out += shown;
  *out += "</time>";
}

void AppendRow(std::string* page, const std::string& href, const Entry& e) {
  const char* kind = KindOf(e.name, e.is_directory);
  *page += "<tr class=\"entry\" data-name=\"";
  AppendEscaped(page, e.name);
  *page += "\" data-href=\"";
  AppendEscaped(page, href);
  *page += "\" data-kind=\"";
  *page += kind;
  *page += "\" data-size=\"";
  *page += std::to_string(e.is_directory ? 0 : e.size);
  *page += "\" data-mtime=\"";
  *page += std::to_string(e.mtime_s);
  *page += "\"><td class=\"name\"><a href=\"";
  AppendEscaped(page, href);
  *page += "\"><span>";
  AppendEscaped(page, e.name);
  *page += "</span></a></td><td class=\"size\"";
  if (!e.is_directory) {
    *page += " title=\"" + ExactBytes(e.size) + "\">" + HumanSize(e.size);
  } else {
    *page += ">";
  }
  *page += "</td><td class=\"mtime\">";
  AppendTime(page, e.mtime_s);
  *page += "</td><td class=\"actions\"></td></tr>\n";
}

// The breadcrumbs: "Home" for the user's root, then a link per folder, the last one plain.
void AppendCrumbs(std::string* page, const storage::ResourcePath& dir, const UrlSpace& space) {
  *page += "<nav id=\"crumbs\" aria-label=\"Breadcrumbs\">";
  std::vector<storage::ResourcePath> chain;
  for (storage::ResourcePath p = dir; !space.IsViewRoot(p); p = p.Parent()) chain.push_back(p);
  const storage::ResourcePath root = space.root;
  if (chain.empty()) {
    *page += "<span aria-current=\"page\">Home</span>";
  } else {
    *page += "<a href=\"";
    AppendEscaped(page, space.Href(root, true));
    *page += "\">Home</a>";
  }
  for (size_t i = chain.size(); i-- > 0;) {
    const std::string name(chain[i].Name());
    *page += " / ";
    if (i == 0) {
      *page += "<span aria-current=\"page\">";
      AppendEscaped(page, name);
      *page += "</span>";
    } else {
      *page += "<a href=\"";
      AppendEscaped(page, space.Href(chain[i], true));
      *page += "\">";
      AppendEscaped(page, name);
      *page += "</a>";
    }
  }
  *page += "</nav>";
}

void WritePage(storage::FileSystem& fs, const storage::ResourcePath& dir, const UrlSpace& space,
               const HiddenMember& hidden, const PageContext& context, std::ostream& out) {
  const std::string base = space.Href(dir, /*is_collection=*/true);
  const std::string assets = std::string(space.base) + std::string(kAssetsPath);
  std::string page;
  page +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"color-scheme\" content=\"light dark\">\n<title>";
  // The folder as the user sees it, with its slash (as the contract's "/a/b/ – keepdav").
  std::string shown = std::string(space.base) + std::string(space.ViewOf(dir));
  if (shown.empty() || shown.back() != '/') shown.push_back('/');
  AppendEscaped(&page, shown);
  page += " \xE2\x80\x93 keepdav</title>\n<link rel=\"stylesheet\" href=\"";
  AppendEscaped(&page, assets);
  page += "browser.css\">\n<script src=\"";
  AppendEscaped(&page, assets);
  page += "browser.js\" defer></script>\n</head>\n<body data-folder=\"";
  AppendEscaped(&page, base);
  page += "\" data-writable=\"";
  page += context.writable ? "true" : "false";
  page += "\" data-partial=\"";
  page += context.partial ? "true" : "false";
  page += "\"";
  if (!context.user.empty()) {
    page += " data-user=\"";
    AppendEscaped(&page, context.user);
    page += "\"";
  }
  page += ">\n<header>";
  AppendCrumbs(&page, dir, space);
  page +=
      "<div id=\"toolbar\"></div></header>\n<main>\n<table id=\"listing\">\n<thead><tr>"
      "<th class=\"name\" data-sort=\"name\">Name</th><th class=\"size\" data-sort=\"size\">"
      "Size</th><th class=\"mtime\" data-sort=\"mtime\">Modified</th><th class=\"actions\">"
      "</th></tr></thead>\n<tbody>\n";
  if (!space.IsViewRoot(dir)) {
    page += "<tr class=\"up\"><td class=\"name\"><a href=\"";
    AppendEscaped(&page, space.Href(dir.Parent(), true));
    page += "\"><span>Parent folder</span></a></td><td></td><td></td><td></td></tr>\n";
  }
  // The head goes out before the folder is read: the browser starts on the styles and script.
  out << page;
  out.flush();
  page.clear();
  if (!out) return;

  // The members are gathered and sorted first: names only, about a hundred bytes each, so a
  // folder of a million entries costs some 100 MB while it is listed.
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

  uint64_t folders = 0, files = 0, bytes = 0;
  size_t flush_at = 16 * 1024;
  for (const Entry& e : entries) {
    std::string href = base;
    AppendHref(&href, e.name, e.is_directory);
    AppendRow(&page, href, e);
    if (e.is_directory) {
      ++folders;
    } else {
      ++files;
      bytes += e.size;
    }
    // The first rows go out at once (the browser shows them while the rest come); then in
    // pieces of 256 KB, since each piece that arrives makes the browser lay out again: a folder
    // of 10,000 files was complete 0.5 s later when sent in 32 KB pieces.
    if (page.size() > flush_at) {
      out << page;
      out.flush();
      page.clear();
      if (!out) return;  // the client went away
      flush_at = 256 * 1024;
    }
  }
  if (!s.ok()) page += "<tr class=\"failed\"><td colspan=\"4\">listing failed</td></tr>\n";
  page += "</tbody></table>\n<p id=\"summary\">";
  page += std::to_string(folders) + (folders == 1 ? " folder, " : " folders, ");
  page += std::to_string(files) + (files == 1 ? " file, " : " files, ");
  page += HumanSize(bytes);
  page +=
      "</p>\n</main>\n<div id=\"messages\" role=\"status\" aria-live=\"polite\"></div>\n"
      "</body></html>\n";
  out << page;
}

bool EndsWithNoCase(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size()) return false;
  std::string_view tail = name.substr(name.size() - suffix.size());
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (storage::ascii::ToLower(tail[i]) != suffix[i]) return false;
  }
  return true;
}

}  // namespace

const char* KindOf(std::string_view name, bool is_directory) {
  if (is_directory) return "folder";
  struct Kind {
    const char* kind;
    std::initializer_list<std::string_view> suffixes;
  };
  static const Kind kKinds[] = {
      {"image", {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".ico", ".avif"}},
      {"text",
       {".txt", ".md", ".csv", ".tsv", ".log", ".json", ".xml", ".yaml", ".yml", ".ini", ".conf",
        ".cfg", ".toml"}},
      {"code",
       {".c", ".cc", ".cpp", ".h", ".hpp", ".py", ".js", ".mjs", ".ts", ".rs", ".go", ".java",
        ".sh", ".rb", ".php", ".html", ".htm", ".css", ".sql"}},
      {"audio", {".mp3", ".wav", ".ogg", ".flac", ".m4a", ".opus", ".aac"}},
      {"video", {".mp4", ".webm", ".mkv", ".mov", ".avi", ".m4v"}},
      {"archive", {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"}},
      {"pdf", {".pdf"}},
  };
  for (const Kind& k : kKinds) {
    for (std::string_view suffix : k.suffixes) {
      if (EndsWithNoCase(name, suffix)) return k.kind;
    }
  }
  return "file";
}

std::string HumanSize(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static const char* const kUnits[] = {"KB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < sizeof kUnits / sizeof kUnits[0]) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

std::string ExactBytes(uint64_t bytes) {
  std::string digits = std::to_string(bytes);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out + (bytes == 1 ? " byte" : " bytes");
}

DavResponse CollectionListing(storage::FileSystem& fs, const storage::ResourcePath& dir,
                              const UrlSpace& space, HiddenMember hidden, PageContext context) {
  DavResponse r = DavResponse::Streamed(200, "text/html; charset=utf-8",
                                        [&fs, dir, space, hidden, context](std::ostream& out) {
                                          WritePage(fs, dir, space, hidden, context, out);
                                        });
  r.AddHeader("Content-Security-Policy", kPagePolicy);
  r.AddHeader("X-Content-Type-Options", "nosniff");
  r.AddHeader("Referrer-Policy", "same-origin");
  // The page changes with the folder: never from a cache without asking.
  r.AddHeader("Cache-Control", "no-cache");
  return r;
}

}  // namespace keepdav::webdav
