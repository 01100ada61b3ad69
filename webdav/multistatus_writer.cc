#include "webdav/multistatus_writer.h"

#include "webdav/dav_error.h"
#include "webdav/href.h"
#include "webdav/xml_request.h"

namespace keepdav::webdav {

std::string StatusLine(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status);
}

namespace {

// The status line of a propstat or response: 200 and 404 come from constants (once per member).
void AppendStatusLine(std::string* out, int status) {
  static const std::string k200 = StatusLine(200);
  static const std::string k404 = StatusLine(404);
  if (status == 200) {
    out->append(k200);
  } else if (status == 404) {
    out->append(k404);
  } else {
    out->append(StatusLine(status));
  }
}

}  // namespace

MultistatusWriter::MultistatusWriter(std::ostream& out) : out_(out) {
  buf_.reserve(kFlushBytes + 4096);
}

MultistatusWriter::~MultistatusWriter() = default;

void MultistatusWriter::Begin(std::string_view namespace_declarations) {
  buf_.append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\"");
  buf_.append(namespace_declarations);
  buf_.append(">\n");
}

void MultistatusWriter::WriteStatusResponse(std::string_view href, int status,
                                            std::string_view precondition) {
  buf_.append("<D:response><D:href>");
  AppendXmlEscaped(&buf_, href);
  buf_.append("</D:href><D:status>");
  AppendStatusLine(&buf_, status);
  buf_.append("</D:status>");
  if (!precondition.empty()) {
    buf_.append("<D:error><D:");
    buf_.append(precondition);
    buf_.append("/></D:error>");
  }
  buf_.append("</D:response>\n");
  MaybeFlush();
}

void MultistatusWriter::BeginResponse(std::string_view href) {
  buf_.append("<D:response><D:href>");
  AppendXmlEscaped(&buf_, href);
  buf_.append("</D:href>");
}

void MultistatusWriter::BeginResponseForPath(std::string_view encoded_prefix,
                                             std::string_view decoded_path, bool slash) {
  buf_.append("<D:response><D:href>");
  buf_.append(encoded_prefix);
  AppendHref(&buf_, decoded_path, slash);
  buf_.append("</D:href>");
}

void MultistatusWriter::BeginPropstat() {
  buf_.append("<D:propstat><D:prop>");
}

void MultistatusWriter::OpenTag(const storage::PropertyName& name, bool empty) {
  buf_.push_back('<');
  if (name.ns == "DAV:") {
    buf_.append("D:");
    buf_.append(name.local);
  } else if (name.ns.empty()) {
    // The document declares no default namespace, so an unprefixed name is in no namespace.
    buf_.append(name.local);
  } else {
    buf_.append("K:");
    buf_.append(name.local);
    buf_.append(" xmlns:K=\"");
    AppendXmlEscaped(&buf_, name.ns);
    buf_.push_back('"');
  }
  buf_.append(empty ? "/>" : ">");
}

void MultistatusWriter::WriteEmptyProperty(const storage::PropertyName& name) {
  OpenTag(name, true);
}

void MultistatusWriter::WriteProperty(const storage::PropertyName& name,
                                      std::string_view inner_xml) {
  OpenTag(name, false);
  buf_.append(inner_xml);
  buf_.append("</");
  if (name.ns == "DAV:") {
    buf_.append("D:");
  } else if (!name.ns.empty()) {
    buf_.append("K:");
  }
  buf_.append(name.local);
  buf_.push_back('>');
}

void MultistatusWriter::WriteDavProperty(const char* local, std::string_view inner_xml) {
  buf_.append("<D:");
  buf_.append(local);
  if (inner_xml.empty()) {
    buf_.append("/>");
    return;
  }
  buf_.push_back('>');
  buf_.append(inner_xml);
  buf_.append("</D:");
  buf_.append(local);
  buf_.push_back('>');
}

void MultistatusWriter::EndPropstat(int status, std::string_view precondition) {
  buf_.append("</D:prop><D:status>");
  AppendStatusLine(&buf_, status);
  buf_.append("</D:status>");
  if (!precondition.empty()) {
    buf_.append("<D:error><D:");
    buf_.append(precondition);
    buf_.append("/></D:error>");
  }
  buf_.append("</D:propstat>");
}

void MultistatusWriter::EndResponse() {
  buf_.append("</D:response>\n");
  MaybeFlush();
}

void MultistatusWriter::End() {
  buf_.append("</D:multistatus>\n");
  Flush();
  out_.flush();
}

void MultistatusWriter::Flush() {
  last_flush_ = std::chrono::steady_clock::now();
  if (!buf_.empty()) {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }
}

}  // namespace keepdav::webdav
