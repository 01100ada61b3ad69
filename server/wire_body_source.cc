#include "server/wire_body_source.h"

#include <algorithm>
#include <exception>

namespace keepdav::server {

namespace {

// HTTPSession::buffered() and read() are protected. Naming them through a derived class yields
// member pointers that may be applied to any HTTPSession (C++17 [class.protected]); no object of
// this class is ever made.
class SessionBuffer : public Poco::Net::HTTPSession {
 public:
  static int Buffered(const Poco::Net::HTTPSession& session) {
    return (session.*&SessionBuffer::buffered)();
  }
  // REQUIRES: 0 < length <= Buffered(session): served from the buffer, no socket read.
  static int Take(Poco::Net::HTTPSession& session, char* dst, std::streamsize length) {
    return (session.*&SessionBuffer::read)(dst, length);
  }
};

}  // namespace

int WireBodySource::Get() {
  char c;
  return Read(&c, 1) == 1 ? static_cast<unsigned char>(c) : -1;
}

long WireBodySource::Read(char* dst, size_t max) {
  if (max == 0) return 0;
  if (int buffered = SessionBuffer::Buffered(session_); buffered > 0) {
    auto n = static_cast<std::streamsize>(std::min(max, static_cast<size_t>(buffered)));
    return SessionBuffer::Take(session_, dst, n);
  }
  return wire_.Read(dst, max);
}

bool WireBodySource::SendContinue() {
  static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  struct iovec iov = {const_cast<char*>(kContinue), sizeof kContinue - 1};
  try {
    wire_.Write(&iov, 1, /*more=*/false);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace keepdav::server
