// Status and Result<T>: error values that cross layer boundaries (no exceptions).
//
// storage/ reports every failure as a Status with a code from the small set below. The codes are
// mapped from errno (FromErrno), from SQLite result codes (in database.cc) and from PostgreSQL
// SQLSTATEs (in postgres/pg_connection.cc) in exactly one place each; webdav/dav_error.cc maps them
// to HTTP statuses in exactly one place.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace keepdav::storage {

enum class StatusCode {
  kOk,
  kNotFound,          // the resource (or a parent) does not exist
  kAlreadyExists,     // target exists and replacing was not allowed
  kNotADirectory,     // a path component (or the target) is not a collection
  kIsADirectory,      // a file operation was asked of a collection
  kNotEmpty,          // a collection still has members
  kPermissionDenied,  // EACCES/EPERM/EROFS
  kNoSpace,           // ENOSPC/EDQUOT
  kInvalidPath,       // a path that can never name a resource ("..", NUL, backslash, ...)
  kCrossDevice,       // EXDEV: rename across file systems
  kBusy,              // SQLite busy/locked past the timeout; no free database connection
  // The database server cannot be reached (PostgreSQL down or the connection lost): nothing was
  // changed, or a transaction was rolled back; the caller may retry later (HTTP 503 with
  // Retry-After). The connection pool reconnects by itself.
  kUnavailable,
  kTooLarge,         // a configured limit was exceeded
  kInvalidArgument,  // caller error
  kIoError,          // anything else
};

class Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) {
    return Status(StatusCode::kAlreadyExists, std::move(msg));
  }
  static Status InvalidPath(std::string msg) {
    return Status(StatusCode::kInvalidPath, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status TooLarge(std::string msg) { return Status(StatusCode::kTooLarge, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(StatusCode::kIoError, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(StatusCode::kBusy, std::move(msg)); }
  static Status Unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg));
  }
  static Status WithCode(StatusCode code, std::string msg) { return Status(code, std::move(msg)); }

  // Maps an errno value; `context` names the operation and path for the log.
  static Status FromErrno(int err, const std::string& context);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

const char* StatusCodeName(StatusCode code);

// A value or an error. REQUIRES: value() only when ok().
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(runtime/explicit)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(runtime/explicit)
    assert(!status_.ok());
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace keepdav::storage
