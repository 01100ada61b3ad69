#include "webdav/options.h"

namespace keepdav::webdav {

const char* AllowedMethods() {
  return "OPTIONS, GET, HEAD, PUT, PATCH, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, "
         "UNLOCK";
}

DavResponse OptionsResponse(bool partial_updates) {
  DavResponse r = DavResponse::Empty(200);
  // Class 2: LOCK and UNLOCK (RFC 4918 §18.2). Finder mounts read-write only with it.
  // sabredav-partialupdate: PATCH with X-Update-Range (https://sabre.io/dav/http-patch/), which
  // clients look for here before they resume an upload.
  r.AddHeader("DAV", partial_updates ? "1, 2, sabredav-partialupdate" : "1, 2");
  // Microsoft Office (and Microsoft-WebDAV-MiniRedir) look for it before they author over WebDAV.
  r.AddHeader("MS-Author-Via", "DAV");
  r.AddHeader("Allow", AllowedMethods());
  r.AddHeader("Accept-Ranges", "bytes");
  return r;
}

}  // namespace keepdav::webdav
