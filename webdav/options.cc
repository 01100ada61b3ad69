#include "webdav/options.h"

namespace keepdav::webdav {

const char* AllowedMethods() {
  return "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";
}

DavResponse OptionsResponse() {
  DavResponse r = DavResponse::Empty(200);
  // Class 2: LOCK and UNLOCK (RFC 4918 §18.2). Finder mounts read-write only with it.
  r.AddHeader("DAV", "1, 2");
  // Microsoft Office (and Microsoft-WebDAV-MiniRedir) look for it before they author over WebDAV.
  r.AddHeader("MS-Author-Via", "DAV");
  r.AddHeader("Allow", AllowedMethods());
  r.AddHeader("Accept-Ranges", "bytes");
  return r;
}

}  // namespace keepdav::webdav
