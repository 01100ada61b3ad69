#include "storage/posix/file_contents.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

namespace keepdav::storage::posix {

Result<size_t> PosixReadableFile::ReadAt(uint64_t offset, char* buf, size_t len) {
  for (;;) {
    ssize_t n = ::pread(file_->fd.get(), buf, len, static_cast<off_t>(offset));
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return Status::FromErrno(errno, "read " + file_->display);
  }
}

int CopyThroughBuffer(int src, int dst, char* buf, size_t size, uint64_t expected) {
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(src, buf, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    const char* p = buf;
    size_t left = static_cast<size_t>(n);
    while (left > 0) {
      ssize_t w = ::write(dst, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
    total += static_cast<uint64_t>(n);
    if (static_cast<size_t>(n) < size && total == expected) return 0;
  }
}

// Copies all of `src` from its current offset to `dst` at its current offset.
Status CopyContents(int src, int dst, const std::string& context) {
  bool use_copy_file_range = true;
  while (use_copy_file_range) {
    ssize_t n = ::copy_file_range(src, nullptr, dst, nullptr, size_t{1} << 30, 0);
    if (n == 0) return Status::Ok();
    if (n > 0) continue;
    if (errno == EINTR) continue;
    // Not supported between these files (other file system, old kernel, special file system):
    // both file offsets are where the kernel stopped, so the plain loop just continues.
    if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
      use_copy_file_range = false;
      break;
    }
    return Status::FromErrno(errno, context);
  }
  std::vector<char> buf(size_t{1} << 16);
  if (int err = CopyThroughBuffer(src, dst, buf.data(), buf.size(), UINT64_MAX); err != 0) {
    return Status::FromErrno(err, context);
  }
  return Status::Ok();
}

}  // namespace keepdav::storage::posix
