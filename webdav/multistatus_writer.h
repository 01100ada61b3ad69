// MultistatusWriter: streams a 207 Multi-Status body (RFC 4918 §13) to an output stream.
//
// Output is buffered in a small string and flushed to the stream whenever it grows past
// kFlushBytes, so a PROPFIND over a huge tree uses constant memory and the client sees the first
// <response> long before the walk ends. Elements in DAV: use the prefix "D"; others declare their
// namespace on the element itself. Not thread-safe.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>

#include "storage/property_store.h"
#include "webdav/href.h"  // EncodeHrefPath, for callers of this writer

namespace keepdav::webdav {

class MultistatusWriter {
 public:
  static constexpr size_t kFlushBytes = 32 * 1024;

  explicit MultistatusWriter(std::ostream& out);
  ~MultistatusWriter();

  // `namespace_declarations` (e.g. ` xmlns:oc="http://owncloud.org/ns"`, with its leading space)
  // go on the root element, for the elements of a namespace that every response carries.
  void Begin(std::string_view namespace_declarations = {});
  // A <response> with just a status (for DELETE/COPY/MOVE member failures).
  void WriteStatusResponse(std::string_view href, int status, std::string_view precondition = {});

  void BeginResponse(std::string_view href);
  // The same for a resource's own path, percent-encoded straight into the buffer (the encoded
  // form needs no XML escaping); `slash` appends the collection's trailing slash (href.h).
  void BeginResponseForPath(std::string_view decoded_path, bool slash) {
    BeginResponseForPath({}, decoded_path, slash);
  }
  // The same after `encoded_prefix` (--base-path: already a valid href, url_space.h).
  void BeginResponseForPath(std::string_view encoded_prefix, std::string_view decoded_path,
                            bool slash);
  void BeginPropstat();
  // <prefix:name/> with the right namespace handling.
  void WriteEmptyProperty(const storage::PropertyName& name);
  // <prefix:name>inner</prefix:name>; `inner_xml` must already be well-formed XML content.
  void WriteProperty(const storage::PropertyName& name, std::string_view inner_xml);
  // <D:local>inner</D:local>, or <D:local/> when `inner_xml` is empty.
  void WriteDavProperty(const char* local, std::string_view inner_xml);
  // Writes <D:local>, lets `fill` append the inner XML straight to the buffer, then closes the
  // element (<D:local/> when `fill` appended nothing). `fill` returns false to write nothing.
  template <typename Fill>
  void WriteDavPropertyWith(const char* local, Fill fill) {
    size_t mark = buf_.size();
    buf_.append("<D:");
    buf_.append(local);
    buf_.push_back('>');
    size_t inner = buf_.size();
    if (!fill(&buf_)) {
      buf_.resize(mark);
    } else if (buf_.size() == inner) {
      buf_.back() = '/';
      buf_.push_back('>');
    } else {
      buf_.append("</D:");
      buf_.append(local);
      buf_.push_back('>');
    }
  }
  // A stored dead property: a complete element (see ParseProppatch).
  void WriteRawElement(std::string_view element_xml) { buf_.append(element_xml); }
  void EndPropstat(int status, std::string_view precondition = {});
  void EndResponse();
  // Closes the document and flushes.
  void End();
  // Pushes buffered output to the stream now.
  void Flush();

 private:
  void OpenTag(const storage::PropertyName& name, bool empty);
  // Flushes when the buffer is full, and at least once a second while a slow walk produces
  // little, so that a client (or a proxy's read timeout) never waits long for the next bytes.
  void MaybeFlush() {
    if (buf_.size() >= kFlushBytes) {
      Flush();
    } else if (!buf_.empty() && ++since_check_ >= 64) {
      since_check_ = 0;
      auto now = std::chrono::steady_clock::now();
      if (now - last_flush_ >= std::chrono::seconds(1)) {
        Flush();
        out_.flush();
      }
    }
  }
  std::ostream& out_;
  std::string buf_;
  unsigned since_check_ = 0;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

// "HTTP/1.1 200 OK"
std::string StatusLine(int status);

}  // namespace keepdav::webdav
