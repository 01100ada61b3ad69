#include "storage/status.h"

#include <cerrno>
#include <cstring>

namespace keepdav::storage {
namespace {

// strerror() may use a shared buffer; strerror_r comes in a GNU (char*) and an XSI (int) flavour
// depending on feature macros, so accept either.
[[maybe_unused]] const char* ErrnoText(int /*rc*/, const char* buf) {
  return buf;
}
[[maybe_unused]] const char* ErrnoText(const char* msg, const char* /*buf*/) {
  return msg;
}

std::string DescribeErrno(int err) {
  char buf[128] = {0};
  return ErrnoText(strerror_r(err, buf, sizeof(buf)), buf);
}

StatusCode CodeForErrno(int err) {
  switch (err) {
    case 0:
      return StatusCode::kIoError;  // a caller bug: there was no error to map
    case ENOENT:
    // ELOOP comes from O_NOFOLLOW / RESOLVE_NO_SYMLINKS meeting a symlink, and symlinks are
    // treated as nonexistent.
    case ELOOP:
      return StatusCode::kNotFound;
    case EEXIST:
      return StatusCode::kAlreadyExists;
    case ENOTDIR:
      return StatusCode::kNotADirectory;
    case EISDIR:
      return StatusCode::kIsADirectory;
    case ENOTEMPTY:
      return StatusCode::kNotEmpty;
    case EACCES:
    case EPERM:
    case EROFS:
      return StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
      return StatusCode::kNoSpace;
    case ENAMETOOLONG:
      return StatusCode::kInvalidPath;
    // EXDEV here means a rename across file systems. openat2(RESOLVE_BENEATH) also reports an
    // escape attempt as EXDEV; the resolver in posix_file_system.cc turns that into kNotFound
    // itself before it gets here.
    case EXDEV:
      return StatusCode::kCrossDevice;
    case EFBIG:
      return StatusCode::kTooLarge;
    default:
      return StatusCode::kIoError;
  }
}

}  // namespace

Status Status::FromErrno(int err, const std::string& context) {
  return Status(CodeForErrno(err), context + ": " + DescribeErrno(err));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = StatusCodeName(code_);
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kNotADirectory:
      return "NotADirectory";
    case StatusCode::kIsADirectory:
      return "IsADirectory";
    case StatusCode::kNotEmpty:
      return "NotEmpty";
    case StatusCode::kPermissionDenied:
      return "PermissionDenied";
    case StatusCode::kNoSpace:
      return "NoSpace";
    case StatusCode::kInvalidPath:
      return "InvalidPath";
    case StatusCode::kCrossDevice:
      return "CrossDevice";
    case StatusCode::kBusy:
      return "Busy";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kTooLarge:
      return "TooLarge";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kIoError:
      return "IoError";
  }
  return "Unknown";
}

}  // namespace keepdav::storage
