// File contents on disk: PosixReadableFile (an open regular file for reading, its descriptor
// shared with the open-file cache) and the copy loops of CopyFile, CopyFileNew and CopyTree.
//
// PosixReadableFile: not thread-safe (one per request); the SharedFd it holds is immutable and
// shared. The copy functions are stateless. Errors: Status::FromErrno of the failing call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/file_system.h"
#include "storage/posix/unique_fd.h"

namespace keepdav::storage::posix {

// A descriptor open for reading, shared by the readers using it (and the open-file cache).
struct SharedFd {
  UniqueFd fd;
  std::string display;  // the path, for error messages
};

class PosixReadableFile : public ReadableFile {
 public:
  PosixReadableFile(std::shared_ptr<const SharedFd> file, FileInfo info)
      : file_(std::move(file)), info_(info) {}
  const FileInfo& info() const override { return info_; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override;
  int NativeHandle() const override { return file_->fd.get(); }

 private:
  std::shared_ptr<const SharedFd> file_;
  FileInfo info_;
};

// Copies `src` from its current offset to `dst` at its current offset with read/write through
// `buf`, until read returns 0 or, once `expected` bytes have been copied, a read comes back
// short (which saves the read that would return 0; pass UINT64_MAX to always read to the end).
// Returns 0 or an errno.
int CopyThroughBuffer(int src, int dst, char* buf, size_t size, uint64_t expected);

// Copies all of `src` from its current offset to `dst` at its current offset: copy_file_range,
// and where the kernel cannot do that between these files, CopyThroughBuffer.
Status CopyContents(int src, int dst, const std::string& context);

}  // namespace keepdav::storage::posix
