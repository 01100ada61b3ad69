// The browser page's assets (webdav/assets/: browser.js and browser.css), compiled into
// the binary by embed_assets.cmake and served from the reserved path kAssetsPath under
// --base-path ("/.keepdav-assets/browser.js"): no file can have that name (".keepdav-" names
// are reserved, safety.h), nothing is fetched from elsewhere, and they are answered to
// anyone, before authorisation, since they are the same public bytes for everybody.
//
// Development aid: when the environment variable KEEPDAV_DEV_ASSETS_DIR names a directory, the
// assets are read from there on each request instead (edit the script, reload the page).
// Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "webdav/dav_request.h"
#include "webdav/dav_response.h"

namespace keepdav::webdav {

namespace embedded {
struct EmbeddedFile {
  const char* name;
  const unsigned char* data;
  size_t size;
};
extern const EmbeddedFile kFiles[];
extern const size_t kFileCount;
}  // namespace embedded

inline constexpr std::string_view kAssetsPath = "/.keepdav-assets/";

// The policy of the page and its assets: scripts, styles and images from the server itself (and
// blob: images for previews, data: for the icons inlined in the stylesheet), requests only to it,
// no frames, no plugins, no forms elsewhere.
inline constexpr const char kPagePolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'";

// The content of the asset `name` ("browser.js"), "" when there is none.
std::string BrowserAsset(std::string_view name);

// When `req` is a GET or HEAD of kAssetsPath + NAME under `base_path` (the raw request-target,
// as the page writes it), sets `*name` and returns true.
bool IsAssetRequest(const DavRequest& req, std::string_view base_path, std::string* name);

// 200 with the asset (ETag, Cache-Control, nosniff), 304 for a matching If-None-Match, 404 for
// a name that is not one.
DavResponse BrowserAssetResponse(const DavRequest& req, const std::string& name);

}  // namespace keepdav::webdav
