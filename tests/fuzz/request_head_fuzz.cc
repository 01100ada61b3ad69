// Fuzz target: the request-head checks (server/dav_request_reader.h) on what Poco's parser makes
// of the bytes, as in the server (Poco::Net::HTTPRequest::read, which HTTPServerConnection runs
// before any keepdav code; what it throws on is Poco's own refusal).
//
// Input: byte 0's low bit says TLS, the rest is the request head as sent.
// Invariants: the answer is 0 or one of the documented statuses (400, 417, 431, 501, 505), with
// a reason; the same head gives the same answer twice; a --max-request-head one byte below the
// head's size answers 431 or the same refusal, and 0 never; an accepted request has a token
// method, a target without controls or blanks, Host in HTTP/1.1, never Content-Length together
// with chunked, a Content-Length of -1 or more, no CR, LF or NUL in any header value, and
// Expect: 100-continue only for HTTP/1.1.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

#include "server/dav_request_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool IsTokenChar(unsigned char c) {
  static const std::string kSpecials = "!#$%&'*+-.^_`|~";
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         kSpecials.find(static_cast<char>(c)) != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using keepdav::server::ReadDavRequest;
  using keepdav::server::RequestFraming;
  using keepdav::server::RequestRefusal;
  if (size < 1) return 0;
  const bool secure = data[0] & 1;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  Poco::Net::HTTPRequest head;
  try {
    head.read(in);
  } catch (const Poco::Exception&) {
    return 0;  // Poco refuses it (400 or a closed connection) before keepdav sees it
  }
  keepdav::webdav::DavRequest request;
  RequestFraming framing;
  const size_t unlimited = std::numeric_limits<size_t>::max();
  RequestRefusal refusal = ReadDavRequest(head, secure, unlimited, &request, &framing);
  const std::string where = " for " + Printable(std::string(reinterpret_cast<const char*>(data),
                                                            size < 400 ? size : 400));
  const int s = refusal.status;
  FUZZ_CHECK(s == 0 || s == 400 || s == 417 || s == 501 || s == 505,
             "undocumented status " + std::to_string(s) + where);
  FUZZ_CHECK((s == 0) == refusal.reason.empty(), "a refusal without a reason" + where);
  {
    keepdav::webdav::DavRequest again;
    RequestFraming again_framing;
    RequestRefusal second = ReadDavRequest(head, secure, unlimited, &again, &again_framing);
    FUZZ_CHECK(second.status == s && second.reason == refusal.reason, "not deterministic" + where);
  }
  // The head size counted against --max-request-head (request line and fields, CRLF ends).
  size_t head_size =
      head.getMethod().size() + head.getURI().size() + head.getVersion().size() + 4 + 2;
  for (const auto& [name, value] : head) head_size += name.size() + value.size() + 4;
  {
    keepdav::webdav::DavRequest small;
    RequestFraming small_framing;
    RequestRefusal r = ReadDavRequest(head, secure, head_size - 1, &small, &small_framing);
    FUZZ_CHECK(r.status == 431 || (s != 0 && r.status == s),
               "a head over --max-request-head got " + std::to_string(r.status) + where);
    RequestRefusal exact = ReadDavRequest(head, secure, head_size, &small, &small_framing);
    FUZZ_CHECK(exact.status == s, "a head of exactly --max-request-head refused" + where);
  }
  if (s != 0) return 0;
  FUZZ_CHECK(!request.method.empty(), "empty method" + where);
  for (unsigned char c : request.method) FUZZ_CHECK(IsTokenChar(c), "method not a token" + where);
  FUZZ_CHECK(!request.target.empty(), "empty target" + where);
  for (unsigned char c : request.target) {
    FUZZ_CHECK(c > 0x20 && c != 0x7f, "control or blank in the target" + where);
  }
  FUZZ_CHECK(request.scheme == (secure ? "https" : "http"), "scheme" + where);
  FUZZ_CHECK(request.http10 || request.Header("Host") || head.has("Host"),
             "HTTP/1.1 without Host" + where);
  FUZZ_CHECK(!(request.chunked && request.content_length >= 0),
             "Content-Length together with chunked" + where);
  FUZZ_CHECK(request.content_length >= -1, "negative Content-Length" + where);
  FUZZ_CHECK(!(framing.expect_continue && request.http10), "100-continue in HTTP/1.0" + where);
  for (const auto& [name, value] : request.headers) {
    FUZZ_CHECK(!name.empty(), "empty header name" + where);
    FUZZ_CHECK(value.find_first_of(std::string("\r\n\0", 3)) == std::string::npos,
               "CR, LF or NUL in the value of " + Printable(name) + where);
  }
  return 0;
}
