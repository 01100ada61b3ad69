#include "storage/posix/root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <vector>

#include "storage/posix/entry_stat.h"

namespace keepdav::storage::posix {

namespace {

// Set once a kernel answered ENOSYS to openat2, so later calls go straight to the walk.
std::atomic<bool> g_openat2_missing{false};

// An errno from resolving a path below the root. openat2(RESOLVE_BENEATH) reports an attempt to
// leave the root as EXDEV; to a client that is simply a resource that does not exist (and must
// not read as "cross device", which the WebDAV layer answers with 502 for MOVE).
Status ResolveError(int err, const std::string& context) {
  return Status::FromErrno(err == EXDEV ? ENOENT : err, context);
}

// The openat(O_NOFOLLOW) walk for kernels without openat2 (before 5.6). Every intermediate
// component is opened with O_PATH|O_NOFOLLOW and checked with fstat, because O_PATH|O_NOFOLLOW
// opens a symlink itself instead of failing. ResourcePath guarantees there is no "..".
Result<UniqueFd> WalkBeneath(int root_fd, const std::string& rel, int flags,
                             const std::string& context) {
  std::vector<std::string> parts;
  if (rel != ".") {
    size_t pos = 0;
    while (pos <= rel.size()) {
      size_t slash = rel.find('/', pos);
      if (slash == std::string::npos) slash = rel.size();
      if (slash > pos) parts.push_back(rel.substr(pos, slash - pos));
      pos = slash + 1;
    }
  }
  if (parts.empty()) {
    int fd = ::openat(root_fd, ".", flags | O_CLOEXEC);
    if (fd < 0) return ResolveError(errno, context);
    return UniqueFd(fd);
  }
  UniqueFd current;
  int dirfd = root_fd;
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    UniqueFd next;
    if (last && !(flags & O_PATH)) {
      // O_NOFOLLOW makes a trailing symlink fail with ELOOP (mapped to kNotFound).
      next = UniqueFd(::openat(dirfd, parts[i].c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
      if (!next.valid()) {
        int err = errno;
        // With O_DIRECTORY a symlink fails as ENOTDIR, not ELOOP; it must still read as absent.
        struct stat st;
        if (err == ENOTDIR && ::fstatat(dirfd, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode)) {
          err = ENOENT;
        }
        return ResolveError(err, context);
      }
    } else {
      next = UniqueFd(::openat(dirfd, parts[i].c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!next.valid()) return ResolveError(errno, context);
      struct stat st;
      if (::fstat(next.get(), &st) != 0) return ResolveError(errno, context);
      if (S_ISLNK(st.st_mode)) return ResolveError(ENOENT, context);
      if (!S_ISDIR(st.st_mode) && (!last || (flags & O_DIRECTORY))) {
        return ResolveError(ENOTDIR, context);
      }
    }
    current = std::move(next);
    dirfd = current.get();
  }
  return current;
}

// Opens `rel` (a ResourcePath::Relative()) below `root_fd` without following any symlink and
// without leaving the root.
Result<UniqueFd> OpenBeneath(int root_fd, const std::string& rel, int flags, bool allow_openat2,
                             const std::string& context) {
  if (allow_openat2 && !g_openat2_missing.load(std::memory_order_relaxed)) {
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0;; ++attempt) {
      long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how));
      if (fd >= 0) return UniqueFd(static_cast<int>(fd));
      int err = errno;
      // EAGAIN: the kernel could not rule out a racing rename; rare, so retry a few times.
      if (err == EINTR || (err == EAGAIN && attempt < 8)) continue;
      if (err == ENOSYS) {
        g_openat2_missing.store(true, std::memory_order_relaxed);
        break;
      }
      return ResolveError(err, context);
    }
  }
  return WalkBeneath(root_fd, rel, flags, context);
}

}  // namespace

bool Root::IsHidden(std::string_view rel) const {
  for (const std::string& h : hidden_) {
    if (rel.size() < h.size() || rel.compare(0, h.size(), h) != 0) continue;
    if (rel.size() == h.size() || rel[h.size()] == '/') return true;
  }
  return false;
}

Result<UniqueFd> Root::Open(const ResourcePath& path, int flags, const std::string& context) const {
  return OpenBeneath(fd_, path.Relative(), flags, allow_openat2_, context);
}

Result<UniqueFd> Root::OpenParent(const ResourcePath& path, const std::string& context) const {
  ResourcePath parent = path.Parent();
  // Members of the root need no resolution: the root's own descriptor serves (an openat2 and
  // a close saved for every top-level name).
  if (parent.IsRoot()) return UniqueFd::Borrowed(fd_);
  return Open(parent, O_PATH | O_DIRECTORY, context);
}

Result<FileInfo> Root::StatIn(int parent, const ResourcePath& path, const std::string& context) {
  EntryStat st;
  int err = StatEntry(parent, std::string(path.Name()).c_str(), 0, &st);
  if (err != 0) return Status::FromErrno(err, context);
  if (st.is_symlink) return Status::NotFound(context + ": is a symlink");
  return st.info;
}

Result<UniqueFd> Root::OpenRegularFile(const ResourcePath& path, const std::string& context,
                                       FileInfo* info) const {
  if (IsHidden(path.Relative())) return Status::NotFound(context + ": hidden");
  Result<UniqueFd> fd = Open(path, O_RDONLY | O_NONBLOCK, context);
  if (!fd.ok()) return fd.status();
  EntryStat st;
  int err = StatEntry(fd->get(), "", AT_EMPTY_PATH, &st);
  if (err != 0) return Status::FromErrno(err, context);
  if (st.info.IsDirectory()) return Status::WithCode(StatusCode::kIsADirectory, context);
  if (!st.info.IsFile()) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": not a regular file");
  }
  // O_NONBLOCK (which keeps a FIFO from blocking the open) stays set: it has no effect on
  // reads of a regular file (open(2)), and clearing it cost two system calls per read.
  *info = st.info;
  return std::move(fd).value();
}

}  // namespace keepdav::storage::posix
