#include "webdav/options.h"

namespace keepdav::webdav {

const char* AllowedMethods() {
  return "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";
}

void WriteOptionsResponse(ResponseSink& sink) {
  sink.SetStatus(200);
  // Class 2: LOCK and UNLOCK (RFC 4918 §18.2). Finder mounts read-write only with it.
  sink.SetHeader("DAV", "1, 2");
  // Microsoft Office (and Microsoft-WebDAV-MiniRedir) look for it before they author over WebDAV.
  sink.SetHeader("MS-Author-Via", "DAV");
  sink.SetHeader("Allow", AllowedMethods());
  sink.SetHeader("Accept-Ranges", "bytes");
  sink.SendEmpty();
}

}  // namespace keepdav::webdav
