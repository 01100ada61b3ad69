// DavError: an HTTP status with an optional RFC 4918 precondition element and a short reason.
//
// Handlers return a DavError where they fail (it converts to a DavResponse, dav_response.h); the
// dispatcher logs it and WriteResponse writes its body. `message` is what the client reads: a
// short reason in the client's terms; `detail` (a syscall, an errno text, a database error) goes
// to the log only. FromStorage is the single mapping from storage Status codes to HTTP statuses
// and their short reasons, the storage message becoming the detail:
//   kNotFound 404, kAlreadyExists 405, kNotADirectory 409, kIsADirectory 405, kNotEmpty 409,
//   kPermissionDenied 403, kNoSpace 507, kInvalidPath 400, kCrossDevice 502, kBusy 503,
//   kUnavailable 503, kTooLarge 413, kInvalidArgument 400, kIoError 500.
#pragma once

#include <string>

#include "storage/status.h"

namespace keepdav::webdav {

struct DavError {
  int status = 0;            // 0: no error
  std::string precondition;  // DAV: element name for <D:error>, e.g. "lock-token-submitted"
  std::string message;       // one line, for the response body and the log
  std::string detail;        // for the log only ("" when the message says it all)
  std::string href;          // optional href inside the precondition element
  // Seconds for a Retry-After header (RFC 9110 §10.2.3), 0 for none: FromStorage sets it for
  // the 503s of a busy (1) or unreachable (5) database, which pass by themselves.
  int retry_after_s = 0;

  static DavError Ok() { return DavError(); }
  static DavError Make(int status, std::string message, std::string precondition = "") {
    DavError e;
    e.status = status;
    e.message = std::move(message);
    e.precondition = std::move(precondition);
    return e;
  }
  static DavError FromStorage(const storage::Status& s);
  // The same error with `more` added to its log detail.
  DavError WithDetail(const std::string& more) const;
  // The HTTP status for a storage status (see the table above); 200 for OK.
  static int HttpStatusFor(const storage::Status& s);

  bool ok() const { return status == 0; }
};

// The reason phrase for a status code ("Multi-Status", "Locked", ...).
const char* ReasonPhrase(int status);

}  // namespace keepdav::webdav
