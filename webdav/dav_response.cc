#include "webdav/dav_response.h"

#include <algorithm>

#include "webdav/error_response.h"

namespace keepdav::webdav {

DavResponse::DavResponse(DavError error) : status_(error.status), error_(std::move(error)) {}

DavResponse DavResponse::Empty(int status) {
  DavResponse r;
  r.status_ = status;
  return r;
}

DavResponse DavResponse::Text(int status, std::string content_type, std::string body) {
  DavResponse r;
  r.status_ = status;
  r.body_ = Body::kText;
  r.text_ = std::move(body);
  r.AddHeader("Content-Type", std::move(content_type));
  return r;
}

DavResponse DavResponse::FileRange(int status, std::unique_ptr<storage::ReadableFile> file,
                                   uint64_t offset, uint64_t length) {
  DavResponse r;
  r.headers_.reserve(6);  // a GET adds five: one allocation, not three
  r.status_ = status;
  r.body_ = Body::kFileRange;
  r.file_ = std::move(file);
  r.offset_ = offset;
  r.length_ = length;
  return r;
}

DavResponse DavResponse::Streamed(int status, std::string content_type, BodyWriter writer) {
  DavResponse r;
  r.status_ = status;
  r.body_ = Body::kStreamed;
  r.writer_ = std::move(writer);
  r.AddHeader("Content-Type", std::move(content_type));
  return r;
}

DavResponse& DavResponse::AddHeader(std::string name, std::string value) {
  headers_.emplace_back(std::move(name), std::move(value));
  return *this;
}

namespace {

// The file range of a GET from a file without a descriptor (the in-memory file system): read in
// pieces into the body stream.
void CopyFile(storage::ReadableFile& file, uint64_t offset, uint64_t length, std::ostream& out) {
  std::vector<char> buf(64 * 1024);
  while (length > 0 && out) {
    auto n = file.ReadAt(offset, buf.data(), std::min<uint64_t>(buf.size(), length));
    if (!n.ok() || n.value() == 0) break;  // the file shrank or failed: a short body
    out.write(buf.data(), static_cast<std::streamsize>(n.value()));
    offset += n.value();
    length -= n.value();
  }
}

}  // namespace

void WriteResponse(const DavRequest& req, DavResponse response, ResponseSink& sink) {
  if (response.is_error()) {
    DavResponse error = ErrorResponse(response.error());
    for (auto& h : response.headers_) error.AddHeader(std::move(h.first), std::move(h.second));
    response = std::move(error);
    // RFC 9110 §9.3.2 and §15.4.5: no body for HEAD and 304.
    if (req.method == "HEAD" || response.status_ == 304) response.body_ = DavResponse::Body::kNone;
  }
  sink.SetStatus(response.status_);
  // Handed over, not copied: a GET's five headers cost five copies (allocations for the ETag,
  // Last-Modified and Content-Type values) when set one by one.
  sink.SetHeaders(std::move(response.headers_));
  switch (response.body_) {
    case DavResponse::Body::kNone:
      sink.SendEmpty();
      return;
    case DavResponse::Body::kText: {
      const std::string& text = response.text_;
      std::ostream& out = sink.SendBody(static_cast<int64_t>(text.size()));
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      out.flush();
      return;
    }
    case DavResponse::Body::kFileRange: {
      // A file with a descriptor goes out without a body stream (ResponseSink::SendFile).
      if (int fd = response.file_->NativeHandle(); fd >= 0) {
        sink.SendFile(fd, response.offset_, response.length_);  // false: the client went away
        return;
      }
      std::ostream& out = sink.SendBody(static_cast<int64_t>(response.length_));
      if (sink.head_only() || response.length_ == 0) return;
      CopyFile(*response.file_, response.offset_, response.length_, out);
      return;
    }
    case DavResponse::Body::kStreamed: {
      std::ostream& out = sink.SendBody(-1);
      if (sink.head_only()) return;
      response.writer_(out);
      out.flush();
      return;
    }
  }
}

}  // namespace keepdav::webdav
