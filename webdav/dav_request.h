// DavRequest and ResponseSink: the plain-data boundary between server/ (HTTP, Poco::Net) and
// webdav/ (WebDAV semantics). webdav/ never sees a socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/resource_path.h"
#include "webdav/depth.h"
#include "webdav/url_space.h"

namespace keepdav::webdav {

class AccessPolicy;

// Transparent: Header("If-Modified-Since") and other lookups by a literal or a string_view build
// no std::string (a name over 15 characters is a heap allocation, and a GET looks up a dozen
// names, most of them absent). Both overloads order ASCII names alike (strcasecmp in the "C"
// locale); header names are tokens (RFC 9110 §5.1), never with a NUL or a byte above 0x7f.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(const std::string& a, const std::string& b) const;
  bool operator()(std::string_view a, std::string_view b) const {
    const size_t n = a.size() < b.size() ? a.size() : b.size();
    for (size_t i = 0; i < n; ++i) {
      unsigned char x = static_cast<unsigned char>(a[i]);
      unsigned char y = static_cast<unsigned char>(b[i]);
      if (static_cast<unsigned>(x - 'A') < 26u) x += 'a' - 'A';
      if (static_cast<unsigned>(y - 'A') < 26u) y += 'a' - 'A';
      if (x != y) return x < y;
    }
    return a.size() < b.size();
  }
};
using HeaderMap = std::map<std::string, std::string, CaseInsensitiveLess>;

// Receives progress from deep operations (COPY, MOVE, DELETE, PROPFIND walks). The server uses
// it to tell clients that a long operation is alive; webdav/ only counts, and says when the work
// it is about to do grows with the size of a tree or a file (BeginLong). Thread-safe: the walk
// runs on one thread while another reads the figures and may Cancel().
class Progress {
 public:
  // Announces that the request's remaining work may take long: a COPY of a collection or of a
  // large file, a DELETE of a collection, a MOVE that replaces an existing resource or must copy
  // across devices. The server then starts watching the client (interim responses, hang-ups).
  // Called by the handler's thread before it writes any part of the response; only the first
  // call runs the listener. PROPFIND never calls it: its 207 streams from the first member.
  void BeginLong() {
    if (long_) return;
    long_ = true;
    if (on_begin_long_) on_begin_long_();
  }
  bool long_running() const { return long_; }
  // Set by the server before the handler runs. Runs on the handler's thread, inside BeginLong().
  void set_on_begin_long(std::function<void()> listener) { on_begin_long_ = std::move(listener); }

  void AddDone(uint64_t n = 1) { done_.fetch_add(n, std::memory_order_relaxed); }
  void SetTotal(uint64_t total) { total_.store(total, std::memory_order_relaxed); }
  uint64_t done() const { return done_.load(std::memory_order_relaxed); }
  // 0 when unknown.
  uint64_t total() const { return total_.load(std::memory_order_relaxed); }
  // Set by the server when the client went away; walks stop at the next safe point.
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> total_{0};
  std::atomic<bool> cancelled_{false};
  // Only the handler's thread touches these.
  bool long_ = false;
  std::function<void()> on_begin_long_;
};

struct DavRequest {
  std::string method;   // as sent, e.g. "PROPFIND"
  std::string target;   // the raw request-target (path or absolute URI, percent-encoded)
  bool http10 = false;  // HTTP/1.0 request
  std::string host;     // Host header ("" if absent)
  std::string scheme = "http";
  // Who sent it: the user the server authenticated ("" = anonymous: no --users, no credentials,
  // or OPTIONS, which needs none), and the client's address (the connection's peer, or the
  // address a trusted proxy reported). When a trusted proxy reports the public scheme and host,
  // `scheme` and `host` above hold those. Set by server/ before DavHandler::Handle; webdav/
  // authorises with `user` and never authenticates.
  std::string user;
  std::string client_address;
  HeaderMap headers;
  // The request body; never null (an empty stream when there is none). Reading it may send
  // "100 Continue" first (the server arranges that).
  std::istream* body = nullptr;
  // Content-Length, or -1 when absent (chunked or no body).
  int64_t content_length = -1;
  bool chunked = false;
  Progress* progress = nullptr;  // never null while a handler runs

  // Filled by DavHandler::Handle before it dispatches, once per request (request_target.h,
  // depth.h): the URL space of the request's user (--base-path, the user's root: url_space.h),
  // the resource the request-target names (the root for OPTIONS "*"), the Destination of a COPY
  // or MOVE, both as storage paths inside space.root, and the Depth header.
  UrlSpace space;
  storage::ResourcePath path;
  std::optional<storage::ResourcePath> destination;
  DepthHeader depth;
  // The access policy this request is judged by, taken once when dispatch starts (a reload of
  // --access while it runs does not change it halfway).
  std::shared_ptr<const AccessPolicy> access;

  // The header's value, or nullptr.
  const std::string* Header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
  }
  // True when a body was announced (Content-Length > 0 or chunked).
  bool HasBody() const { return chunked || content_length > 0; }
};

// Where WriteResponse (dav_response.h) writes a handler's response. Exactly one of
// SendEmpty/SendBody may be called, once.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void SetStatus(int code) = 0;
  virtual void SetHeader(const std::string& name, const std::string& value) = 0;
  // Sends the status line and headers with "Content-Length: 0" (no body for 1xx/204/304).
  virtual void SendEmpty() = 0;
  // Sends status and headers and returns the body stream. `length` >= 0 sets Content-Length;
  // -1 streams the body chunked (or, for HTTP/1.0, until the connection closes).
  virtual std::ostream& SendBody(int64_t length) = 0;
  // Sends `length` bytes of an open file from `offset` (zero-copy where possible). Returns false
  // if the client went away. REQUIRES: SendBody(length) was called and nothing written yet.
  virtual bool SendFileRange(int fd, uint64_t offset, uint64_t length) = 0;
  // Sets every header of `headers`, in order, as SetHeader would (a repeated name keeps its
  // last value). WriteResponse hands a response's own list over with this instead of copying
  // each name and value through SetHeader; a sink may take the vector as it is.
  virtual void SetHeaders(std::vector<std::pair<std::string, std::string>>&& headers) {
    for (const auto& [name, value] : headers) SetHeader(name, value);
  }
  // Sends the status line and headers with Content-Length `length`, then `length` bytes of an
  // open file from `offset` (nothing for HEAD): what SendBody(length) and SendFileRange do
  // together, for a sink that can do it without a body stream (a small GET should not pay for
  // one). Returns false if the client went away.
  virtual bool SendFile(int fd, uint64_t offset, uint64_t length) {
    SendBody(static_cast<int64_t>(length));
    if (head_only() || length == 0) return true;
    return SendFileRange(fd, offset, length);
  }
  virtual bool sent() const = 0;
  // True for HEAD requests: the body stream discards what is written.
  virtual bool head_only() const = 0;
};

}  // namespace keepdav::webdav
