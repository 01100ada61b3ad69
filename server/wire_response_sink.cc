#include "server/wire_response_sink.h"

#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <streambuf>
#include <string_view>

#include "server/authenticator.h"
#include "webdav/conditional.h"
#include "webdav/dav_error.h"

namespace keepdav::server {

namespace {

constexpr size_t kBodyBuffer = 64 * 1024;

bool NoBodyAllowed(int status) {
  return status < 200 || status == 204 || status == 304;
}

// Header names compared as RFC 9110 §5.1 says (case-insensitively); the lengths first, so that
// SetHeaders' check of a GET's five names makes one strcasecmp call, not ten.
bool SameName(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strcasecmp(a.c_str(), b.c_str()) == 0;
}

// The head's buffer, kept per thread between responses: a connection's requests run one after
// another on its thread, and a fresh 512-byte buffer per response was a malloc and a free. A
// second sink alive on the same thread just finds it empty and allocates its own.
std::string& SpareHeadBuffer() {
  thread_local std::string spare;
  return spare;
}

}  // namespace

// Buffers body bytes and hands them to the sink 64 KiB at a time. The buffer is allocated on the
// first write: a response whose body goes out with SendFileRange never needs it.
class WireResponseSink::BodyBuf : public std::streambuf {
 public:
  explicit BodyBuf(WireResponseSink& sink) : sink_(sink) {}
  // Sends what is buffered; true on success.
  bool Drain() {
    size_t n = static_cast<size_t>(pptr() - pbase());
    if (n > 0 || !sink_.pending_.empty()) sink_.SendOut(pbase(), n);
    setp(buf_.get(), buf_.get() + (buf_ ? kBodyBuffer : 0));
    return true;
  }
  bool empty() const { return pptr() == pbase(); }

 protected:
  int_type overflow(int_type c) override {
    if (!buf_) {
      buf_.reset(new char[kBodyBuffer]);  // not zeroed: every byte is written before it is sent
      setp(buf_.get(), buf_.get() + kBodyBuffer);
    } else {
      try {
        Drain();
      } catch (const std::exception&) {
        return traits_type::eof();
      }
    }
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::streamsize done = 0;
    while (done < n) {
      std::streamsize room = epptr() - pptr();
      if (room == 0) {
        if (traits_type::eq_int_type(overflow(traits_type::eof()), traits_type::eof())) break;
        continue;
      }
      std::streamsize take = std::min(room, n - done);
      std::memcpy(pptr(), s + done, static_cast<size_t>(take));
      pbump(static_cast<int>(take));
      done += take;
    }
    return done;
  }
  int sync() override {
    try {
      Drain();
    } catch (const std::exception&) {
      return -1;
    }
    return 0;
  }

 private:
  WireResponseSink& sink_;
  std::unique_ptr<char[]> buf_;
};

WireResponseSink::WireResponseSink(Wire& wire, bool keep_alive, bool http10, bool head_only,
                                   std::function<void()> before_send)
    : wire_(wire),
      http10_(http10),
      head_only_(head_only),
      before_send_(std::move(before_send)),
      keep_alive_(keep_alive) {
  pending_.swap(SpareHeadBuffer());
}

WireResponseSink::~WireResponseSink() {
  std::string& spare = SpareHeadBuffer();
  if (pending_.capacity() > spare.capacity()) {
    pending_.clear();
    pending_.swap(spare);
  }
}

void WireResponseSink::SetHeader(const std::string& name, const std::string& value) {
  for (auto& [n, v] : headers_) {
    if (SameName(n, name)) {
      v = value;
      return;
    }
  }
  headers_.emplace_back(name, value);
}

void WireResponseSink::SetHeaders(std::vector<std::pair<std::string, std::string>>&& headers) {
  if (!headers_.empty()) {
    for (auto& [name, value] : headers) SetHeader(name, value);
    return;
  }
  headers_ = std::move(headers);
  // As SetHeader would have left them: a repeated name keeps its first place and last value.
  for (size_t i = 1; i < headers_.size();) {
    size_t first = 0;
    while (first < i && !SameName(headers_[first].first, headers_[i].first)) ++first;
    if (first < i) {
      headers_[first].second = std::move(headers_[i].second);
      headers_.erase(headers_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

bool WireResponseSink::HasHeader(const std::string& name) const {
  for (const auto& header : headers_) {
    if (SameName(header.first, name)) return true;
  }
  return false;
}

namespace {

// The Date header's value for `now`, formatted once per second per thread (HttpDate costs as
// much as the rest of the head).
const std::string& DateFor(int64_t now) {
  thread_local int64_t when = -1;
  thread_local std::string text;
  if (now != when) {
    text = webdav::HttpDate(now);
    when = now;
  }
  return text;
}

// Makes room for `n` more bytes at the end of `out` and returns where they go. The head is
// written with memcpy into room made once per part: appending its ~25 pieces one by one cost
// ~1,000 instructions a response (a capacity check and a call each).
char* Grow(std::string* out, size_t n) {
  const size_t old = out->size();
  out->resize(old + n);
  return out->data() + old;
}

char* Put(char* p, std::string_view piece) {
  // An empty piece may have no data at all (a value-initialised string_view), and memcpy from
  // a null pointer is undefined even for no bytes (UBSan stops there).
  if (piece.empty()) return p;
  std::memcpy(p, piece.data(), piece.size());
  return p + piece.size();
}

}  // namespace

void WireResponseSink::Begin(Framing framing, int64_t length) {
  if (before_send_) before_send_();
  sent_ = true;
  if (framing == Framing::kUntilClose) keep_alive_ = false;
  framing_ = framing;
  length_ = length;
  pending_.clear();
  pending_.reserve(512);
  {
    char digits[24];
    const std::string_view status(
        digits,
        static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, status_).ptr - digits));
    const std::string_view reason = webdav::ReasonPhrase(status_);
    const std::string& date = DateFor(static_cast<int64_t>(::time(nullptr)));
    constexpr std::string_view kVersion = "HTTP/1.1 ";
    constexpr std::string_view kDate = "\r\nDate: ";
    constexpr std::string_view kServer = "\r\nServer: keepdav/0.1\r\n";
    char* p = Grow(&pending_, kVersion.size() + status.size() + 1 + reason.size() + kDate.size() +
                                  date.size() + kServer.size());
    p = Put(p, kVersion);
    p = Put(p, status);
    *p++ = ' ';
    p = Put(p, reason);
    p = Put(p, kDate);
    p = Put(p, date);
    Put(p, kServer);
  }
  // Every 401 carries the challenge (RFC 9110 §11.6.1), the authenticator's and webdav's alike.
  if (status_ == 401 && !HasHeader("WWW-Authenticate")) {
    pending_.append("WWW-Authenticate: ");
    pending_.append(Challenge());
    pending_.append("\r\n");
  }
  {
    size_t size = 0;
    for (const auto& [n, v] : headers_) size += n.size() + v.size() + 4;
    char* p = Grow(&pending_, size);
    for (const auto& [n, v] : headers_) {
      p = Put(p, n);
      p = Put(p, ": ");
      p = Put(p, v);
      p = Put(p, "\r\n");
    }
  }
  if (cors_ != nullptr) cors_->AppendResponseHeaders(cors_verdict_, &pending_);
  {
    char digits[24];
    std::string_view number;
    std::string_view framing_name;
    if (framing == Framing::kLength) {
      framing_name = "Content-Length: ";
      number = std::string_view(
          digits,
          static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, length).ptr - digits));
    } else if (framing == Framing::kChunked) {
      framing_name = "Transfer-Encoding: chunked";
    }
    const std::string_view connection = !keep_alive_ ? "Connection: close\r\n"
                                        : http10_    ? "Connection: Keep-Alive\r\n"
                                                     : "";
    const size_t framing_size = framing_name.empty() ? 0 : framing_name.size() + number.size() + 2;
    char* p = Grow(&pending_, framing_size + connection.size() + 2);
    if (!framing_name.empty()) {
      p = Put(p, framing_name);
      p = Put(p, number);
      p = Put(p, "\r\n");
    }
    p = Put(p, connection);
    Put(p, "\r\n");
  }
}

void WireResponseSink::WriteAll(const ::iovec* iov, int count, bool more) {
  try {
    wire_.Write(iov, count, more);
  } catch (const std::exception&) {
    keep_alive_ = false;  // part of the response may be out: the connection cannot be reused
    throw;
  }
}

void WireResponseSink::SendOut(const char* data, size_t len) {
  if (head_only_) len = 0;
  if (framing_ == Framing::kLength && len > 0) {
    // Never more than announced: the rest would be read as the next response.
    int64_t room = length_ - body_sent_;
    if (static_cast<int64_t>(len) > room) len = static_cast<size_t>(std::max<int64_t>(room, 0));
  }
  struct iovec iov[4];
  int count = 0;
  char chunk_head[24];
  if (!pending_.empty()) iov[count++] = {pending_.data(), pending_.size()};
  if (len > 0) {
    if (framing_ == Framing::kChunked) {
      int n = std::snprintf(chunk_head, sizeof chunk_head, "%zx\r\n", len);
      iov[count++] = {chunk_head, static_cast<size_t>(n)};
    }
    iov[count++] = {const_cast<char*>(data), len};
    if (framing_ == Framing::kChunked) iov[count++] = {const_cast<char*>("\r\n"), 2};
  }
  if (count == 0) return;
  WriteAll(iov, count);
  pending_.clear();
  body_sent_ += static_cast<int64_t>(len);
}

void WireResponseSink::SendEmpty() {
  Begin(NoBodyAllowed(status_) ? Framing::kNone : Framing::kLength, 0);
  SendOut(nullptr, 0);
  finished_ = true;
}

std::ostream& WireResponseSink::SendBody(int64_t length) {
  Framing framing = length >= 0 ? Framing::kLength
                    : http10_   ? Framing::kUntilClose
                                : Framing::kChunked;
  Begin(framing, length);
  body_buf_ = std::make_unique<BodyBuf>(*this);
  body_ = std::make_unique<std::ostream>(body_buf_.get());
  return *body_;
}

bool WireResponseSink::SendFile(int fd, uint64_t offset, uint64_t length) {
  Begin(Framing::kLength, static_cast<int64_t>(length));
  if (head_only_ || length == 0) return true;  // Finish sends the head
  return SendFileBytes(fd, offset, length);
}

bool WireResponseSink::SendFileRange(int fd, uint64_t offset, uint64_t length) {
  if (!body_ || framing_ != Framing::kLength) return false;
  return SendFileBytes(fd, offset, length);
}

bool WireResponseSink::SendFileBytes(int fd, uint64_t offset, uint64_t length) {
  try {
    if (body_buf_ && !body_buf_->empty()) body_->flush();
    if (!pending_.empty() && length <= kBodyBuffer) {
      // A small file goes out with the headers in one send: one packet, one wake-up of the
      // client (a separate sendfile costs a second of each).
      thread_local std::unique_ptr<char[]> scratch(new char[kBodyBuffer]);
      size_t got = 0;
      while (got < length) {
        ssize_t n =
            ::pread(fd, scratch.get() + got, length - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the file shrank: what was read goes out, then the connection closes
        got += static_cast<size_t>(n);
      }
      SendOut(scratch.get(), got);
      if (got < length) keep_alive_ = false;
      return got == length;
    }
    if (!pending_.empty()) {
      // Headers go out with MSG_MORE so that they share a packet with the file's start.
      struct iovec iov = {pending_.data(), pending_.size()};
      WriteAll(&iov, 1, /*more=*/true);
      pending_.clear();
    }
  } catch (const std::exception&) {
    return false;
  }
  if (!wire_.SendFile(fd, offset, length)) {
    // The client went away, or the file shrank: the connection cannot be reused.
    keep_alive_ = false;
    return false;
  }
  body_sent_ += static_cast<int64_t>(length);
  return true;
}

void WireResponseSink::Finish() {
  if (finished_ || !sent_) return;
  finished_ = true;
  if (body_) {
    body_->flush();
    if (!*body_) {
      keep_alive_ = false;
      return;
    }
  }
  if (!pending_.empty()) SendOut(nullptr, 0);
  if (framing_ == Framing::kChunked && !head_only_) {  // a HEAD response has no body at all
    struct iovec iov = {const_cast<char*>("0\r\n\r\n"), 5};
    WriteAll(&iov, 1);
  } else if (framing_ == Framing::kLength && !head_only_ && body_sent_ != length_) {
    // Short body: only closing the connection tells the client.
    keep_alive_ = false;
  }
}

}  // namespace keepdav::server
