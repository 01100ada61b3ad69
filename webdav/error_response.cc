#include "webdav/error_response.h"

#include <memory>

#include "webdav/href.h"
#include "webdav/multistatus_writer.h"
#include "webdav/options.h"
#include "webdav/xml_request.h"

namespace keepdav::webdav {

DavResponse ErrorResponse(const DavError& err) {
  std::string body;
  std::string type;
  if (!err.precondition.empty()) {
    body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:" +
           err.precondition;
    if (err.href.empty()) {
      body += "/>";
    } else {
      body += "><D:href>";
      AppendXmlEscaped(&body, err.href);
      body += "</D:href></D:" + err.precondition + ">";
    }
    body += "</D:error>\n";
    type = "application/xml; charset=utf-8";
  } else {
    body = std::to_string(err.status) + " " + ReasonPhrase(err.status) + ": " + err.message + "\n";
    type = "text/plain; charset=utf-8";
  }
  DavResponse r = DavResponse::Text(err.status, std::move(type), std::move(body));
  if (err.status == 405 || err.status == 501) r.AddHeader("Allow", AllowedMethods());
  if (err.retry_after_s > 0) r.AddHeader("Retry-After", std::to_string(err.retry_after_s));
  return r;
}

DavResponse MemberFailuresResponse(std::vector<MemberFailure> failures, const UrlSpace& space) {
  // std::function wants a copyable callable: the list is shared, not copied.
  auto list = std::make_shared<std::vector<MemberFailure>>(std::move(failures));
  return DavResponse::Streamed(207, "application/xml; charset=utf-8",
                               [list, space](std::ostream& out) {
                                 MultistatusWriter writer(out);
                                 writer.Begin();
                                 for (const MemberFailure& f : *list) {
                                   // A member that could not be removed because its own members
                                   // could not: RFC 4918 §9.6.1 asks for the member's error, which
                                   // is what `status` is.
                                   writer.WriteStatusResponse(space.Href(f.path, f.is_directory),
                                                              DavError::HttpStatusFor(f.status));
                                 }
                                 writer.End();
                               });
}

}  // namespace keepdav::webdav
