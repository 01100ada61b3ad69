// EntryStat and StatEntry: the figures keepdav needs of one directory entry, from one statx(2)
// that never follows a symlink; ToTimespec for setting times from nanoseconds.
//
// Stateless; thread-safe.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

#include "storage/file_system.h"

namespace keepdav::storage::posix {

struct EntryStat {
  FileInfo info;
  bool is_symlink = false;
  uint32_t nlink = 0;
};

// statx for the birth time where the file system records it (ext4, btrfs, xfs, tmpfs); glibc
// emulates statx with fstatat on kernels that lack it. Returns 0 or an errno.
inline int StatEntry(int dirfd, const char* name, int at_flags, EntryStat* out) {
  struct statx stx;
  if (::statx(dirfd, name, at_flags | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &stx) !=
      0) {
    return errno;
  }
  auto ns = [](const struct statx_timestamp& t) {
    return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  };
  FileInfo& info = out->info;
  out->is_symlink = S_ISLNK(stx.stx_mode);
  out->nlink = stx.stx_nlink;
  info.type = S_ISREG(stx.stx_mode)   ? FileType::kFile
              : S_ISDIR(stx.stx_mode) ? FileType::kDirectory
                                      : FileType::kOther;
  info.size = stx.stx_size;
  info.mtime_ns = ns(stx.stx_mtime);
  info.birth_ns = (stx.stx_mask & STATX_BTIME) ? ns(stx.stx_btime) : ns(stx.stx_ctime);
  info.ctime_ns = ns(stx.stx_ctime);
  info.inode = stx.stx_ino;
  info.device = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  return 0;
}

inline struct timespec ToTimespec(int64_t ns) {
  int64_t sec = ns / 1000000000;
  int64_t rem = ns % 1000000000;
  if (rem < 0) {  // floor, so times before 1970 stay valid
    rem += 1000000000;
    sec -= 1;
  }
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(sec);
  ts.tv_nsec = static_cast<long>(rem);
  return ts;
}

}  // namespace keepdav::storage::posix
