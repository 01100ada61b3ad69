// The browser page answered to GET on a collection (issue 14): a complete HTML listing that
// works without JavaScript (breadcrumbs, name, size, modified, folders first, an icon per kind),
// which browser.js enhances (sort, filter, upload, new folder, rename, move, delete, preview).
// webdav/assets/README.md is the contract of its markup. Names are escaped for HTML and links
// percent-encoded from the names' bytes; the page streams (the head and the table header go out
// before the folder is read). Its assets come from the reserved path of browser_assets.h, and
// the Content-Security-Policy allows nothing else.
#pragma once

#include <functional>
#include <string>

#include "storage/file_system.h"
#include "webdav/dav_response.h"
#include "webdav/url_space.h"

namespace keepdav::webdav {

// Members for which it returns true are left out (a subtree the user may not read:
// authorisation.h); may be empty.
using HiddenMember = std::function<bool(const storage::ResourcePath&)>;

// What the page tells the script about the request (body's data-* attributes).
struct PageContext {
  bool writable = false;  // the user may write in this folder: offer upload, new folder, ...
  bool partial = false;   // partial uploads are enabled: big files go in pieces
  std::string user;       // the authenticated user, "" when anonymous
};

// The 200 page of `dir`, listed while it is sent (not at all for HEAD). `fs` must outlive the
// response. `space` names the links (url_space.h).
DavResponse CollectionListing(storage::FileSystem& fs, const storage::ResourcePath& dir,
                              const UrlSpace& space, HiddenMember hidden, PageContext context);

// For tests: the kind browser.js and the icons know a name by ("folder" for collections).
const char* KindOf(std::string_view name, bool is_directory);
// For tests: "123 B", "1.2 KB", "3.4 MB" (powers of 1024), and "1,234 bytes".
std::string HumanSize(uint64_t bytes);
std::string ExactBytes(uint64_t bytes);

}  // namespace keepdav::webdav
