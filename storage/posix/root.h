// Root: the served directory's descriptor and how paths below it are opened (resolve-beneath):
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), or on kernels without openat2 (before 5.6) a
// component-by-component openat(O_NOFOLLOW) walk, so neither ".." tricks nor symlinks reach
// outside the root; plus the configured hidden paths, which read as nonexistent.
//
// Does not own the descriptor (PosixFileSystem closes it). Immutable after construction, so
// thread-safe. Errors: Status::FromErrno of the failing call, except that an attempt to leave the
// root (EXDEV from openat2) and a symlink read as kNotFound.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "storage/file_system.h"
#include "storage/posix/unique_fd.h"

namespace keepdav::storage::posix {

class Root {
 public:
  // `hidden`: relative paths without leading or trailing slash.
  Root(int fd, bool allow_openat2, std::set<std::string> hidden)
      : fd_(fd), allow_openat2_(allow_openat2), hidden_(std::move(hidden)) {}

  int fd() const { return fd_; }
  bool has_hidden() const { return !hidden_.empty(); }
  // True when `rel` (a ResourcePath::Relative()) is a hidden path or lies below one.
  bool IsHidden(std::string_view rel) const;

  // Opens `path` with `flags` (O_CLOEXEC is added) without following any symlink and without
  // leaving the root.
  Result<UniqueFd> Open(const ResourcePath& path, int flags, const std::string& context) const;
  // The directory holding `path`, as an O_PATH descriptor for *at() calls on path.Name(); the
  // root's own descriptor (borrowed) for a member of the root. REQUIRES: !path.IsRoot().
  Result<UniqueFd> OpenParent(const ResourcePath& path, const std::string& context) const;
  // Stats the final component relative to `parent`; symlinks read as nonexistent.
  static Result<FileInfo> StatIn(int parent, const ResourcePath& path, const std::string& context);
  // Opens a regular file for reading: kNotFound when hidden, kIsADirectory, kPermissionDenied for
  // a special file (refused rather than opened; O_NONBLOCK keeps a FIFO from blocking before
  // that check). Sets *info.
  Result<UniqueFd> OpenRegularFile(const ResourcePath& path, const std::string& context,
                                   FileInfo* info) const;

 private:
  int fd_;
  bool allow_openat2_;
  std::set<std::string> hidden_;
};

}  // namespace keepdav::storage::posix
