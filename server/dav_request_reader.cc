#include "server/dav_request_reader.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "storage/ascii.h"

namespace keepdav::server {

namespace {

// RFC 9110 §5.6.2 tchar.
bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

using storage::ascii::EqualsIgnoreCase;
using storage::ascii::Trim;

// Calls f(element) for each comma-separated element of a list value, trimmed, empty ones
// skipped (RFC 9110 §5.6.1).
template <typename F>
void ForEachListElement(std::string_view value, F f) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = Trim(value.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

RequestRefusal Refuse(int status, std::string reason) {
  return RequestRefusal{status, std::move(reason)};
}

// Header fields that decide the framing.
struct FramingFields {
  bool saw_host = false;
  bool saw_transfer_encoding = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
};

// method SP request-target SP HTTP-version, as Poco split it.
std::optional<RequestRefusal> CheckRequestLine(const Poco::Net::HTTPRequest& head,
                                               webdav::DavRequest* request) {
  const std::string& method = head.getMethod();
  const std::string& target = head.getURI();
  const std::string& version = head.getVersion();
  if (!IsToken(method)) return Refuse(400, "malformed method");
  if (target.empty()) return Refuse(400, "empty request target");
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Refuse(400, "control character in the request target");
  }
  // Poco takes the word after the target for the version: "MKCOL /New folder HTTP/1.1" (an
  // unencoded space, which a lenient split would serve as "/New") arrives with "folder" here.
  if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return Refuse(400, "malformed HTTP version");
  }
  if (version[5] != '1') return Refuse(505, "HTTP version not supported");
  request->method = method;
  request->target = target;
  request->http10 = version[7] == '0';
  return std::nullopt;
}

// "5" (Poco closed the connection already for what is not a number); a repeated field must
// repeat the value (RFC 9112 §6.3).
std::optional<RequestRefusal> ParseContentLength(std::string_view value,
                                                 webdav::DavRequest* request) {
  int64_t n = 0;
  if (value.empty() || value.size() > 18) return Refuse(400, "invalid Content-Length");
  for (char c : value) {
    if (c < '0' || c > '9') return Refuse(400, "invalid Content-Length");
    n = n * 10 + (c - '0');
  }
  if (request->content_length >= 0 && request->content_length != n) {
    return Refuse(400, "differing Content-Lengths");
  }
  request->content_length = n;
  return std::nullopt;
}

// Only "chunked", once (RFC 9112 §6.1); other codings are 501.
std::optional<RequestRefusal> ParseTransferEncoding(std::string_view value, FramingFields* fields,
                                                    webdav::DavRequest* request) {
  bool only_chunked = true;
  int codings = 0;
  ForEachListElement(value, [&](std::string_view v) {
    ++codings;
    if (!EqualsIgnoreCase(v, "chunked")) only_chunked = false;
  });
  if (fields->saw_transfer_encoding || codings != 1) {
    return Refuse(codings == 0 ? 400 : 501, "unsupported transfer coding");
  }
  if (!only_chunked) return Refuse(501, "unsupported transfer coding");
  fields->saw_transfer_encoding = true;
  request->chunked = true;
  return std::nullopt;
}

// Interprets the fields that frame the request or shape the connection; others only land in
// `request->headers`.
std::optional<RequestRefusal> InterpretField(std::string_view name, std::string_view value,
                                             FramingFields* fields, webdav::DavRequest* request,
                                             RequestFraming* framing) {
  if (EqualsIgnoreCase(name, "Content-Length")) return ParseContentLength(value, request);
  if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
    return ParseTransferEncoding(value, fields, request);
  }
  if (EqualsIgnoreCase(name, "Host")) {
    if (fields->saw_host) return Refuse(400, "more than one Host");
    fields->saw_host = true;
    request->host.assign(value);
  } else if (EqualsIgnoreCase(name, "Connection")) {
    ForEachListElement(value, [&](std::string_view v) {
      if (EqualsIgnoreCase(v, "close")) fields->connection_close = true;
      if (EqualsIgnoreCase(v, "keep-alive")) fields->connection_keep_alive = true;
    });
  } else if (EqualsIgnoreCase(name, "Expect")) {
    // RFC 9110 §10.1.1: 100-continue is the only expectation; others may be answered 417.
    if (!EqualsIgnoreCase(value, "100-continue")) return Refuse(417, "unsupported expectation");
    framing->expect_continue = !request->http10;
  }
  return std::nullopt;
}

// One field: checked (RFC 9112 §5), interpreted, and added to the request's headers.
std::optional<RequestRefusal> ReadField(const std::string& name, std::string_view value,
                                        FramingFields* fields, webdav::DavRequest* request,
                                        RequestFraming* framing) {
  // Poco keeps everything before the colon as the name: "Host : x" arrives as "Host ".
  // RFC 9112 §5.1: whitespace between name and colon MUST be rejected with 400.
  if (!IsToken(name)) return Refuse(400, "malformed header name");
  value = Trim(value);
  if (value.find('\0') != std::string_view::npos) return Refuse(400, "NUL in a header value");
  if (auto refusal = InterpretField(name, value, fields, request, framing)) return refusal;
  auto it = request->headers.find(name);
  if (it == request->headers.end()) {
    request->headers.emplace(name, std::string(value));
  } else {
    it->second += ", ";
    it->second.append(value);
  }
  return std::nullopt;
}

// The checks that need the whole head, and whether the connection stays open.
std::optional<RequestRefusal> FinishFraming(const FramingFields& fields,
                                            const webdav::DavRequest& request,
                                            RequestFraming* framing) {
  if (fields.saw_transfer_encoding && request.content_length >= 0) {
    return Refuse(400, "both Content-Length and Transfer-Encoding");  // §6.3 item 3
  }
  if (fields.saw_transfer_encoding && request.http10) {
    return Refuse(400, "Transfer-Encoding in an HTTP/1.0 request");  // §6.1
  }
  if (!request.http10 && !fields.saw_host) return Refuse(400, "HTTP/1.1 request without Host");
  framing->keep_alive = request.http10 ? fields.connection_keep_alive && !fields.connection_close
                                       : !fields.connection_close;
  return std::nullopt;
}

}  // namespace

RequestRefusal ReadDavRequest(const Poco::Net::HTTPRequest& head, bool secure, size_t max_head,
                              webdav::DavRequest* request, RequestFraming* framing) {
  *request = webdav::DavRequest();
  *framing = RequestFraming();
  request->scheme = secure ? "https" : "http";
  if (auto refusal = CheckRequestLine(head, request)) return *refusal;
  // "METHOD SP target SP version CRLF", each "name: value CRLF", the empty line.
  size_t size = head.getMethod().size() + head.getURI().size() + head.getVersion().size() + 4 + 2;
  for (const auto& [name, value] : head) size += name.size() + value.size() + 4;
  if (size > max_head) {
    return Refuse(431, "request head larger than " + std::to_string(max_head) + " bytes");
  }
  FramingFields fields;
  for (const auto& [name, value] : head) {
    if (auto refusal = ReadField(name, value, &fields, request, framing)) return *refusal;
  }
  if (auto refusal = FinishFraming(fields, *request, framing)) return *refusal;
  return RequestRefusal();
}

}  // namespace keepdav::server
