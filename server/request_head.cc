#include "server/request_head.h"

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

HeadParse Error(int status, std::string reason) {
  HeadParse r;
  r.outcome = HeadParse::Outcome::kError;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

// Splits off the next line (without CRLF or bare LF). REQUIRES: a '\n' remains in `*rest`.
std::string_view NextLine(std::string_view* rest) {
  size_t lf = rest->find('\n');
  std::string_view line = rest->substr(0, lf);
  rest->remove_prefix(lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The end of the head (just past its empty line) in `data`, searching from `from`; 0 if absent.
size_t FindHeadEnd(std::string_view data, size_t from) {
  for (size_t i = data.find('\n', from); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    // An empty line: "\n\n" or "\n\r\n".
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return 0;
}

// Header fields that decide the framing, as far as the head has been read.
struct FramingFields {
  bool saw_host = false;
  bool saw_transfer_encoding = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
};

// Where the head lies in `data`: [*start, *end) once complete. Otherwise the result to return
// (kIncomplete, or a 400/431 error), and `*scan_from` updated for the next call.
std::optional<HeadParse> LocateHead(std::string_view data, size_t max_head, size_t* scan_from,
                                    size_t* start, size_t* end) {
  // RFC 9112 §2.2: empty lines before the request line are ignored.
  size_t skip = 0;
  while (skip < data.size() && (data[skip] == '\r' || data[skip] == '\n')) ++skip;
  if (skip == data.size()) {
    if (skip > 64) return Error(400, "only empty lines");
    return HeadParse();
  }
  // The request line alone may end the head when the data starts with it and has no fields:
  // "GET / HTTP/1.1\r\n\r\n" is found by the search for an empty line from the first LF.
  size_t from = std::max(*scan_from, skip);
  size_t found = FindHeadEnd(data, from > 0 ? from - 1 : 0);
  if (found == 0 || found - skip > max_head) {
    if (data.size() - skip > max_head) {
      return Error(431, "request head larger than " + std::to_string(max_head) + " bytes");
    }
    // Resume one byte early: the LF of a CRLF pair may already be in.
    *scan_from = data.size() > 2 ? data.size() - 2 : 0;
    return HeadParse();
  }
  *start = skip;
  *end = found;
  return std::nullopt;
}

// request-line = method SP request-target SP HTTP-version. Resets the request's fields; an
// error, or nullopt.
std::optional<HeadParse> ParseRequestLine(std::string_view line, webdav::DavRequest* request) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    // Also catches an unencoded space in the target ("MKCOL /New folder HTTP/1.1"), which a
    // lenient split would have served as "/New".
    return Error(400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Error(400, "malformed method");
  if (target.empty()) return Error(400, "empty request target");
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Error(400, "control character in the request target");
  }
  if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return Error(400, "malformed HTTP version");
  }
  if (version[5] != '1') return Error(505, "HTTP version not supported");
  request->method.assign(method);
  request->target.assign(target);
  request->http10 = version[7] == '0';
  request->headers.clear();
  request->host.clear();
  request->content_length = -1;
  request->chunked = false;
  return std::nullopt;
}

// "5" or a list of equal values ("5, 5"); anything else is a framing error (RFC 9112 §6.3).
std::optional<HeadParse> ParseContentLength(std::string_view value, webdav::DavRequest* request) {
  int64_t length = -1;
  bool bad = false;
  ForEachListElement(value, [&](std::string_view v) {
    int64_t n = 0;
    if (v.size() > 18) {  // 10^18 bytes is beyond any body; no overflow below
      bad = true;
      return;
    }
    for (char c : v) {
      if (c < '0' || c > '9') {
        bad = true;
        return;
      }
      n = n * 10 + (c - '0');
    }
    if (length >= 0 && length != n) bad = true;
    length = n;
  });
  if (bad || length < 0 || (request->content_length >= 0 && request->content_length != length)) {
    return Error(400, "invalid Content-Length");
  }
  request->content_length = length;
  return std::nullopt;
}

// Only "chunked", once (RFC 9112 §6.1); other codings are 501.
std::optional<HeadParse> ParseTransferEncoding(std::string_view value, FramingFields* fields,
                                               webdav::DavRequest* request) {
  bool only_chunked = true;
  int codings = 0;
  ForEachListElement(value, [&](std::string_view v) {
    ++codings;
    if (!EqualsIgnoreCase(v, "chunked")) only_chunked = false;
  });
  if (fields->saw_transfer_encoding || codings != 1) {
    return Error(codings == 0 ? 400 : 501, "unsupported transfer coding");
  }
  if (!only_chunked) return Error(501, "unsupported transfer coding");
  fields->saw_transfer_encoding = true;
  request->chunked = true;
  return std::nullopt;
}

// Interprets the fields that frame the request or shape the connection; others only land in
// `request->headers`.
std::optional<HeadParse> InterpretField(std::string_view name, std::string_view value,
                                        FramingFields* fields, webdav::DavRequest* request,
                                        RequestFraming* framing) {
  if (EqualsIgnoreCase(name, "Content-Length")) return ParseContentLength(value, request);
  if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
    return ParseTransferEncoding(value, fields, request);
  }
  if (EqualsIgnoreCase(name, "Host")) {
    if (fields->saw_host) return Error(400, "more than one Host");
    fields->saw_host = true;
    request->host.assign(value);
  } else if (EqualsIgnoreCase(name, "Connection")) {
    ForEachListElement(value, [&](std::string_view v) {
      if (EqualsIgnoreCase(v, "close")) fields->connection_close = true;
      if (EqualsIgnoreCase(v, "keep-alive")) fields->connection_keep_alive = true;
    });
  } else if (EqualsIgnoreCase(name, "Expect")) {
    // RFC 9110 §10.1.1: 100-continue is the only expectation; others may be answered 417.
    if (!EqualsIgnoreCase(value, "100-continue")) return Error(417, "unsupported expectation");
    framing->expect_continue = !request->http10;
  }
  return std::nullopt;
}

// One field line: checked (RFC 9112 §5), interpreted, and added to the request's headers
// (repeated fields joined with ", ").
std::optional<HeadParse> ParseFieldLine(std::string_view line, FramingFields* fields,
                                        webdav::DavRequest* request, RequestFraming* framing) {
  if (line.front() == ' ' || line.front() == '\t') {
    return Error(400, "obsolete line folding");  // RFC 9112 §5.2
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Error(400, "header line without a colon");
  std::string_view name = line.substr(0, colon);
  if (!IsToken(name)) {
    // RFC 9112 §5.1: whitespace between name and colon MUST be rejected with 400.
    return Error(400, "malformed header name");
  }
  std::string_view value = Trim(line.substr(colon + 1));
  for (char c : value) {
    if (c == '\0' || c == '\r') return Error(400, "NUL or CR in a header value");
  }
  if (auto error = InterpretField(name, value, fields, request, framing)) return error;
  std::string key(name);
  auto it = request->headers.find(key);
  if (it == request->headers.end()) {
    request->headers.emplace(std::move(key), std::string(value));
  } else {
    it->second += ", ";
    it->second.append(value);
  }
  return std::nullopt;
}

// The checks that need the whole head, and whether the connection stays open.
std::optional<HeadParse> FinishFraming(const FramingFields& fields,
                                       const webdav::DavRequest& request, RequestFraming* framing) {
  if (fields.saw_transfer_encoding && request.content_length >= 0) {
    return Error(400, "both Content-Length and Transfer-Encoding");  // §6.3 item 3
  }
  if (fields.saw_transfer_encoding && request.http10) {
    return Error(400, "Transfer-Encoding in an HTTP/1.0 request");  // §6.1
  }
  if (!request.http10 && !fields.saw_host) return Error(400, "HTTP/1.1 request without Host");
  framing->keep_alive = request.http10 ? fields.connection_keep_alive && !fields.connection_close
                                       : !fields.connection_close;
  return std::nullopt;
}

}  // namespace

HeadParse ParseRequestHead(std::string_view data, size_t max_head, size_t* scan_from,
                           webdav::DavRequest* request, RequestFraming* framing) {
  size_t start = 0;
  size_t end = 0;
  if (auto pending = LocateHead(data, max_head, scan_from, &start, &end)) return *pending;
  std::string_view rest = data.substr(start, end - start);
  if (auto error = ParseRequestLine(NextLine(&rest), request)) return *error;
  *framing = RequestFraming();
  FramingFields fields;
  for (std::string_view line = NextLine(&rest); !line.empty(); line = NextLine(&rest)) {
    if (auto error = ParseFieldLine(line, &fields, request, framing)) return *error;
  }
  if (auto error = FinishFraming(fields, *request, framing)) return *error;
  HeadParse r;
  r.outcome = HeadParse::Outcome::kComplete;
  r.head_size = end;
  *scan_from = 0;
  return r;
}

}  // namespace keepdav::server
