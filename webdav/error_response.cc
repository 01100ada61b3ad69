#include "webdav/error_response.h"

#include "webdav/href.h"
#include "webdav/multistatus_writer.h"
#include "webdav/options.h"
#include "webdav/xml_request.h"

namespace keepdav::webdav {

void WriteErrorResponse(const DavRequest& req, ResponseSink& sink, const DavError& err) {
  sink.SetStatus(err.status);
  if (err.status == 405 || err.status == 501) sink.SetHeader("Allow", AllowedMethods());
  if (req.method == "HEAD" || err.status == 304) {
    sink.SendEmpty();
    return;
  }
  std::string body;
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
    sink.SetHeader("Content-Type", "application/xml; charset=utf-8");
  } else {
    body = std::to_string(err.status) + " " + ReasonPhrase(err.status) + ": " + err.message + "\n";
    sink.SetHeader("Content-Type", "text/plain; charset=utf-8");
  }
  std::ostream& out = sink.SendBody(static_cast<int64_t>(body.size()));
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  out.flush();
}

void WriteMemberFailures(ResponseSink& sink, const std::vector<MemberFailure>& failures) {
  sink.SetStatus(207);
  sink.SetHeader("Content-Type", "application/xml; charset=utf-8");
  MultistatusWriter writer(sink.SendBody(-1));
  writer.Begin();
  for (const MemberFailure& f : failures) {
    // A member that could not be removed because its own members could not: RFC 4918 §9.6.1
    // asks for the member's error, which is what `status` is.
    writer.WriteStatusResponse(HrefFor(f.path, f.is_directory), DavError::HttpStatusFor(f.status));
  }
  writer.End();
}

}  // namespace keepdav::webdav
