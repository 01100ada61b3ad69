#include "webdav/dav_error.h"

namespace keepdav::webdav {

using storage::StatusCode;

int DavError::HttpStatusFor(const storage::Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kNotFound:
      return 404;
    // Creating something that exists: MKCOL's "405 if it exists" (RFC 4918 §9.3.1).
    case StatusCode::kAlreadyExists:
      return 405;
    // A parent that is a file: the request conflicts with the state of the tree (§9.7.1).
    case StatusCode::kNotADirectory:
      return 409;
    case StatusCode::kIsADirectory:
      return 405;
    case StatusCode::kNotEmpty:
      return 409;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNoSpace:
      return 507;
    case StatusCode::kInvalidPath:
      return 400;
    case StatusCode::kCrossDevice:
      return 502;
    case StatusCode::kBusy:
      return 503;
    // The database server is down or the connection was lost (PostgreSQL): nothing was written;
    // the pool reconnects by itself, so the client may retry (RFC 9110 §15.6.4).
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kIoError:
      return 500;
  }
  return 500;
}

namespace {

// What a client is told for a storage failure; the storage message itself names paths on the
// disk and errno texts, which belong in the log.
const char* ShortReasonFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "";
    case StatusCode::kNotFound:
      return "no such resource";
    case StatusCode::kAlreadyExists:
      return "the resource already exists";
    case StatusCode::kNotADirectory:
      return "a parent of the resource is not a collection";
    case StatusCode::kIsADirectory:
      return "the resource is a collection";
    case StatusCode::kNotEmpty:
      return "the collection is not empty";
    case StatusCode::kPermissionDenied:
      return "access to the resource is denied";
    case StatusCode::kNoSpace:
      return "not enough space on the server";
    case StatusCode::kInvalidPath:
      return "invalid resource name";
    case StatusCode::kCrossDevice:
      return "the resources are on different devices";
    case StatusCode::kBusy:
      return "the server is busy, try again";
    case StatusCode::kUnavailable:
      return "the database is unreachable, try again later";
    case StatusCode::kTooLarge:
      return "too large";
    case StatusCode::kInvalidArgument:
      return "invalid request";
    case StatusCode::kIoError:
      return "input/output error on the server";
  }
  return "storage error";
}

}  // namespace

DavError DavError::FromStorage(const storage::Status& s) {
  if (s.ok()) return Ok();
  DavError e = Make(HttpStatusFor(s), ShortReasonFor(s.code()));
  e.detail = s.message();
  if (s.code() == StatusCode::kBusy) e.retry_after_s = 1;
  if (s.code() == StatusCode::kUnavailable) e.retry_after_s = 5;
  return e;
}

DavError DavError::WithDetail(const std::string& more) const {
  DavError e = *this;
  e.detail = e.detail.empty() ? more : e.detail + " " + more;
  return e;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 102:
      return "Processing";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

}  // namespace keepdav::webdav
