#include "storage/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/member_walk.h"
#include "storage/random_hex.h"

namespace keepdav::storage {
namespace {

// Set once a kernel answered ENOSYS to openat2, so later calls go straight to the walk.
std::atomic<bool> g_openat2_missing{false};

constexpr std::string_view kTempPrefix = ".keepdav-tmp-";
static_assert(kTempPrefix.substr(0, ResourcePath::kReservedPrefix.size()) ==
                  ResourcePath::kReservedPrefix,
              "temporary files must carry a reserved name so they are never served");

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  // A descriptor owned elsewhere (the root's), used through the same interface; never closed.
  static UniqueFd Borrowed(int fd) {
    UniqueFd u(fd);
    u.owned_ = false;
    return u;
  }
  UniqueFd(UniqueFd&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), owned_(std::exchange(o.owned_, true)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
      owned_ = std::exchange(o.owned_, true);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0 && owned_) ::close(fd_);
    fd_ = -1;
    owned_ = true;
  }

 private:
  int fd_ = -1;
  bool owned_ = true;
};

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

struct EntryStat {
  FileInfo info;
  bool is_symlink = false;
  uint32_t nlink = 0;
};

// statx for the birth time where the file system records it (ext4, btrfs, xfs, tmpfs); glibc
// emulates statx with fstatat on kernels that lack it. Returns 0 or an errno.
int StatEntry(int dirfd, const char* name, int at_flags, EntryStat* out) {
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
  info.inode = stx.stx_ino;
  info.device = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  return 0;
}

struct timespec ToTimespec(int64_t ns) {
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

class PosixReadableFile : public ReadableFile {
 public:
  PosixReadableFile(UniqueFd fd, FileInfo info, std::string display)
      : fd_(std::move(fd)), info_(info), display_(std::move(display)) {}

  const FileInfo& info() const override { return info_; }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    for (;;) {
      ssize_t n = ::pread(fd_.get(), buf, len, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Status::FromErrno(errno, "read " + display_);
    }
  }

  int NativeHandle() const override { return fd_.get(); }

 private:
  UniqueFd fd_;
  FileInfo info_;
  std::string display_;
};

// A descriptor kept by the open-file cache, shared by the readers using it.
struct SharedFd {
  UniqueFd fd;
  std::string display;
};

class SharedReadableFile : public ReadableFile {
 public:
  SharedReadableFile(std::shared_ptr<const SharedFd> file, FileInfo info)
      : file_(std::move(file)), info_(info) {}
  const FileInfo& info() const override { return info_; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    for (;;) {
      ssize_t n = ::pread(file_->fd.get(), buf, len, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Status::FromErrno(errno, "read " + file_->display);
    }
  }
  int NativeHandle() const override { return file_->fd.get(); }

 private:
  std::shared_ptr<const SharedFd> file_;
  FileInfo info_;
};

class PosixPendingWrite : public PendingWrite {
 public:
  PosixPendingWrite(UniqueFd dir, std::string temp_name, std::string target_name, UniqueFd fd,
                    bool fsync, std::string display, std::atomic<uint64_t>* generation)
      : generation_(generation),
        dir_(std::move(dir)),
        temp_name_(std::move(temp_name)),
        target_name_(std::move(target_name)),
        fd_(std::move(fd)),
        fsync_(fsync),
        display_(std::move(display)) {}

  ~PosixPendingWrite() override {
    fd_.Reset();
    if (!committed_ && !temp_name_.empty()) ::unlinkat(dir_.get(), temp_name_.c_str(), 0);
  }

  Status Write(const char* data, size_t len) override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::InvalidArgument("write after commit: " + display_);
    while (len > 0) {
      ssize_t n = ::write(fd_.get(), data, len);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = Status::FromErrno(errno, "write " + display_);
        return error_;
      }
      data += n;
      len -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::InvalidArgument("second commit: " + display_);
    if (fsync_ && ::fsync(fd_.get()) != 0) return Fail(errno, "fsync ");
    // The inode, size and times survive the rename: read them now for the caller's ETag.
    EntryStat st;
    if (int err = StatEntry(fd_.get(), "", AT_EMPTY_PATH, &st); err != 0) return Fail(err, "stat ");
    info_ = st.info;
    // close() can report delayed write errors (NFS), so its result counts.
    if (::close(fd_.release()) != 0 && errno != EINTR) return Fail(errno, "close ");
    // rename(2) refuses to replace a directory with a file (EISDIR -> kIsADirectory), so a
    // collection created at the target meanwhile is detected atomically here.
    if (::renameat(dir_.get(), temp_name_.c_str(), dir_.get(), target_name_.c_str()) != 0) {
      return Fail(errno, "commit ");
    }
    committed_ = true;
    if (generation_) generation_->fetch_add(1);  // kept descriptors of the old file are stale
    if (fsync_) {
      // Makes the rename itself durable; the O_PATH descriptor cannot be fsynced.
      UniqueFd d(::openat(dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!d.valid() || ::fsync(d.get()) != 0) {
        return Status::FromErrno(errno, "fsync directory of " + display_);
      }
    }
    return Status::Ok();
  }

  const FileInfo& committed_info() const override { return info_; }
  const std::optional<FileInfo>& previous() const override { return previous_; }
  void set_previous(const std::optional<FileInfo>& previous) { previous_ = previous; }

  int fd() const { return fd_.get(); }

 private:
  Status Fail(int err, const char* op) {
    error_ = Status::FromErrno(err, op + display_);
    fd_.Reset();
    ::unlinkat(dir_.get(), temp_name_.c_str(), 0);
    temp_name_.clear();
    return error_;
  }

  std::atomic<uint64_t>* generation_;  // the open-file cache's, or null
  UniqueFd dir_;                       // O_PATH descriptor of the target's directory
  FileInfo info_;
  std::optional<FileInfo> previous_;
  std::string temp_name_;
  std::string target_name_;
  UniqueFd fd_;
  bool fsync_;
  std::string display_;
  bool committed_ = false;
  Status error_;  // sticky: after a failed write nothing may be committed
};

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
  for (;;) {
    ssize_t n = ::read(src, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, context);
    }
    if (n == 0) return Status::Ok();
    const char* p = buf.data();
    size_t left = static_cast<size_t>(n);
    while (left > 0) {
      ssize_t w = ::write(dst, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, context);
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
  }
}

// Calls `visit(name, d_type)` for each entry of the directory open at `dirfd` (O_RDONLY), reading
// a bufferful of entries per getdents64 call; `visit` returns false to stop. Returns 0 or an
// errno.
template <typename Visit>
int ReadEntries(int dirfd, std::vector<char>& buf, Visit&& visit) {
  for (;;) {
    ssize_t n = ::getdents64(dirfd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(buf.data() + off);
      off += e->d_reclen;
      if (!visit(e->d_name, e->d_type)) return 0;
    }
  }
}

enum class EntryKind { kFile, kDirectory, kSymlink, kOther, kGone };

// The kind of a directory entry: from d_type where the file system fills it in, else from
// fstatat. Sets *err for a failed fstatat other than ENOENT (which reads as kGone).
EntryKind KindOf(int dirfd, const char* name, unsigned char d_type, int* err) {
  switch (d_type) {
    case DT_REG:
      return EntryKind::kFile;
    case DT_DIR:
      return EntryKind::kDirectory;
    case DT_LNK:
      return EntryKind::kSymlink;
    case DT_UNKNOWN:
      break;
    default:
      return EntryKind::kOther;
  }
  struct stat st;
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) *err = errno;
    return EntryKind::kGone;
  }
  if (S_ISREG(st.st_mode)) return EntryKind::kFile;
  if (S_ISDIR(st.st_mode)) return EntryKind::kDirectory;
  if (S_ISLNK(st.st_mode)) return EntryKind::kSymlink;
  return EntryKind::kOther;
}

// Names RemoveTree acts on: everything a ResourcePath can name, and keepdav's own leftovers
// (as ListForRemoval).
bool IsRemovableName(std::string_view name) {
  return ResourcePath::IsValidSegment(name) ||
         (name != "." && name != ".." && ResourcePath::IsReservedName(name) &&
          name.find('\\') == std::string_view::npos);
}

// Copies a file of `expected` bytes through `buf`. A short read that reaches the size statx saw
// is taken as the end, which saves the read that would return 0. Returns 0 or an errno.
int CopySmallContents(int src, int dst, uint64_t expected, std::vector<char>& buf) {
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(src, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    const char* p = buf.data();
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
    if (static_cast<size_t>(n) < buf.size() && total == expected) return 0;
  }
}

// Directories waiting to be worked on by one tree operation: the calling thread and up to
// `threads - 1` helper threads take them, most recent first (so the walk stays roughly depth
// first and few directories wait at a time). Helpers start only while more than one directory
// is waiting, and all have ended when Run returns.
template <typename Job>
class JobStack {
 public:
  explicit JobStack(int threads) : max_threads_(threads < 1 ? 1 : threads) {}

  // Thread-safe.
  void Push(Job job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  // Runs `work(state, job)` for every job, including those pushed meanwhile, until none is left.
  // Each thread gets its own `state` from `make_state()`.
  template <typename MakeState, typename Work>
  void Run(const MakeState& make_state, const Work& work) {
    std::vector<std::thread> helpers;
    auto state = make_state();
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (jobs_.size() > 1 && static_cast<int>(helpers.size()) + 1 < max_threads_) {
        lock.unlock();
        try {
          helpers.emplace_back([&] {
            auto helper_state = make_state();
            std::unique_lock<std::mutex> helper_lock(mu_);
            while (TakeAndWork(helper_lock, helper_state, work)) {
            }
          });
        } catch (const std::system_error&) {
          max_threads_ = static_cast<int>(helpers.size()) + 1;  // no more threads: carry on
        }
        lock.lock();
        continue;
      }
      if (!TakeAndWork(lock, state, work)) break;
    }
    lock.unlock();
    for (std::thread& t : helpers) t.join();
  }

 private:
  // Waits for a job and works on it; false once no job is left and none is running.
  // REQUIRES: `lock` holds mu_.
  template <typename State, typename Work>
  bool TakeAndWork(std::unique_lock<std::mutex>& lock, State& state, const Work& work) {
    cv_.wait(lock, [&] { return !jobs_.empty() || running_ == 0; });
    if (jobs_.empty()) return false;
    Job job = std::move(jobs_.back());
    jobs_.pop_back();
    ++running_;
    lock.unlock();
    work(state, job);
    lock.lock();
    --running_;
    if (jobs_.empty() && running_ == 0) cv_.notify_all();
    return true;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> jobs_;
  int running_ = 0;
  int max_threads_;
};

}  // namespace

struct PosixFileSystem::Impl {
  static bool IsHidden(const PosixFileSystem& fs, std::string_view rel) {
    for (const std::string& h : fs.options_.hidden) {
      if (rel.size() < h.size() || rel.compare(0, h.size(), h) != 0) continue;
      if (rel.size() == h.size() || rel[h.size()] == '/') return true;
    }
    return false;
  }

  static Result<UniqueFd> Open(const PosixFileSystem& fs, const ResourcePath& path, int flags,
                               const std::string& context) {
    return OpenBeneath(fs.root_fd_, path.Relative(), flags, fs.options_.allow_openat2, context);
  }

  // The directory holding `path`, as an O_PATH descriptor for *at() calls on path.Name().
  // REQUIRES: !path.IsRoot().
  static Result<UniqueFd> OpenParent(const PosixFileSystem& fs, const ResourcePath& path,
                                     const std::string& context) {
    ResourcePath parent = path.Parent();
    // Members of the root need no resolution: the root's own descriptor serves (an openat2 and
    // a close saved for every top-level name).
    if (parent.IsRoot()) return UniqueFd::Borrowed(fs.root_fd_);
    return Open(fs, parent, O_PATH | O_DIRECTORY, context);
  }

  // Stats the final component relative to `parent`; symlinks read as nonexistent.
  static Result<FileInfo> StatIn(int parent, const ResourcePath& path, const std::string& context) {
    EntryStat st;
    int err = StatEntry(parent, std::string(path.Name()).c_str(), 0, &st);
    if (err != 0) return Status::FromErrno(err, context);
    if (st.is_symlink) return Status::NotFound(context + ": is a symlink");
    return st.info;
  }

  // Opens a regular file for reading. Special files are refused rather than opened, and
  // O_NONBLOCK keeps a FIFO from blocking the request thread before that check.
  static Result<UniqueFd> OpenRegularFile(const PosixFileSystem& fs, const ResourcePath& path,
                                          const std::string& context, FileInfo* info) {
    if (Impl::IsHidden(fs, path.Relative())) return Status::NotFound(context + ": hidden");
    Result<UniqueFd> fd = Open(fs, path, O_RDONLY | O_NONBLOCK, context);
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

  static Result<std::unique_ptr<PosixPendingWrite>> StartWrite(const PosixFileSystem& fs,
                                                               const ResourcePath& path,
                                                               const std::string& context) {
    if (path.IsRoot()) return Status::WithCode(StatusCode::kIsADirectory, context);
    if (IsHidden(fs, path.Relative())) {
      return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
    }
    Result<UniqueFd> parent = OpenParent(fs, path, context);
    if (!parent.ok()) return parent.status();
    // An early, friendly answer; Commit's rename re-checks atomically.
    Result<FileInfo> existing = StatIn(parent->get(), path, context);
    if (existing.ok() && existing->IsDirectory()) {
      return Status::WithCode(StatusCode::kIsADirectory, context);
    }
    if (!existing.ok() && !existing.status().IsNotFound()) return existing.status();
    std::optional<FileInfo> previous;
    if (existing.ok()) previous = existing.value();
    for (int attempt = 0;; ++attempt) {
      std::string temp = std::string(kTempPrefix) + RandomHex();
      // Mode 0644 less the umask, like any file a user creates.
      int fd = ::openat(parent->get(), temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0) {
        auto w = std::make_unique<PosixPendingWrite>(
            std::move(parent).value(), std::move(temp), std::string(path.Name()), UniqueFd(fd),
            fs.options_.fsync_on_commit, path.str(), fs.Generation());
        w->set_previous(previous);
        return w;
      }
      if (errno != EEXIST || attempt >= 16) return Status::FromErrno(errno, context);
    }
  }

  // Per-thread state of one RemoveTree or CopyTree call.
  struct TreeRun {
    TreeRun(const PosixFileSystem& f, int depth, TreeObserver& o)
        : fs(f), max_depth(depth), observer(o) {}
    const PosixFileSystem& fs;
    int max_depth;
    TreeObserver& observer;
    std::vector<char> entries = std::vector<char>(size_t{32} << 10);  // getdents64 buffer
    std::vector<char> data;  // copy buffer for small files; larger ones use copy_file_range
  };

  static std::string PrefixOf(const ResourcePath& dir) {
    return dir.IsRoot() ? std::string() : dir.Relative() + "/";
  }

  // A directory RemoveTree is emptying. It is removed (by whichever thread finishes its last
  // member) once its own files are gone and every subdirectory has finished; a failure anywhere
  // below keeps it and its ancestors, unreported (RFC 4918 §9.6.1).
  struct DirToEmpty {
    DirToEmpty(ResourcePath p, int l, std::shared_ptr<DirToEmpty> up, std::string n)
        : path(std::move(p)), level(l), parent(std::move(up)), name(std::move(n)) {}
    const ResourcePath path;
    const int level;
    const std::shared_ptr<DirToEmpty> parent;  // null for the top of the tree
    const std::string name;                    // the entry in the parent
    std::atomic<int> pending{1};  // its own listing, and subdirectories not finished yet
    std::atomic<bool> all_removed{true};
  };

  // Removes the files of `dir` relative to its descriptor and queues its subdirectories
  // (MemberWalk's RemoveMembers, one directory at a time). Only this directory is held open.
  static void EmptyDirectory(TreeRun& run, JobStack<std::shared_ptr<DirToEmpty>>& jobs,
                             const std::shared_ptr<DirToEmpty>& dir) {
    TreeObserver& observer = run.observer;
    const ResourcePath& path = dir->path;
    if (dir->level > run.max_depth) {
      observer.MemberFailed(path, true, MemberWalk::TooDeep(path));
      dir->all_removed = false;
      return FinishDirectory(run, dir);
    }
    Result<UniqueFd> fd = Open(run.fs, path, O_RDONLY | O_DIRECTORY, "list " + path.str());
    if (!fd.ok()) {
      observer.MemberFailed(path, true, fd.status());
      dir->all_removed = false;
      return FinishDirectory(run, dir);
    }
    // Names are collected before removing: unlinking while getdents iterates the same directory
    // is not specified by POSIX.
    std::vector<std::pair<std::string, bool>> members;
    const std::string prefix = PrefixOf(path);
    const bool check_hidden = !run.fs.options_.hidden.empty();
    int stat_err = 0;
    int err = ReadEntries(fd->get(), run.entries, [&](const char* raw, unsigned char type) {
      std::string_view name(raw);
      if (!IsRemovableName(name) || type == DT_LNK) return true;
      if (check_hidden && IsHidden(run.fs, prefix + std::string(name))) return true;
      EntryKind kind = KindOf(fd->get(), raw, type, &stat_err);
      if (stat_err != 0) return false;
      if (kind == EntryKind::kSymlink || kind == EntryKind::kGone) return true;
      members.emplace_back(std::string(name), kind == EntryKind::kDirectory);
      return true;
    });
    if (err == 0) err = stat_err;
    if (err != 0) {
      observer.MemberFailed(path, true, Status::FromErrno(err, "list " + path.str()));
      dir->all_removed = false;
      return FinishDirectory(run, dir);
    }
    for (auto& [name, is_dir] : members) {
      if (observer.Cancelled()) {
        dir->all_removed = false;
        break;
      }
      ResourcePath child =
          ResourcePath::IsReservedName(name) ? path.InternalChild(name) : path.Child(name);
      if (is_dir) {
        dir->pending.fetch_add(1);
        jobs.Push(std::make_shared<DirToEmpty>(std::move(child), dir->level + 1, dir, name));
        continue;
      }
      // If the entry was swapped for a symlink since getdents, the symlink itself goes; nothing
      // outside the root is touched.
      if (::unlinkat(fd->get(), name.c_str(), 0) != 0) {
        int unlink_err = errno;
        observer.ResourceDone();
        observer.MemberFailed(child, false, Status::FromErrno(unlink_err, "remove " + child.str()));
        dir->all_removed = false;
        continue;
      }
      observer.ResourceDone();
    }
    fd->Reset();
    FinishDirectory(run, dir);
  }

  // Marks one part of `dir` finished; when it was the last, removes `dir` from its parent (unless
  // something below stayed) and finishes the parent in turn.
  static void FinishDirectory(TreeRun& run, std::shared_ptr<DirToEmpty> dir) {
    while (dir->pending.fetch_sub(1) == 1 && dir->parent) {
      const std::shared_ptr<DirToEmpty>& parent = dir->parent;
      if (dir->all_removed) {
        Status s;
        Result<UniqueFd> fd =
            Open(run.fs, parent->path, O_PATH | O_DIRECTORY, "remove " + dir->path.str());
        if (!fd.ok()) {
          s = fd.status();
        } else if (::unlinkat(fd->get(), dir->name.c_str(), AT_REMOVEDIR) != 0) {
          int err = errno == EEXIST ? ENOTEMPTY : errno;  // POSIX allows either for rmdir
          s = Status::FromErrno(err, "remove " + dir->path.str());
        }
        run.observer.ResourceDone();
        if (!s.ok()) {
          run.observer.MemberFailed(dir->path, true, s);
          parent->all_removed = false;
        }
      } else {
        parent->all_removed = false;
      }
      dir = parent;
    }
  }

  // A directory whose members CopyTree copies into the fresh directory `to`.
  struct DirToCopy {
    ResourcePath from;
    ResourcePath to;
    int level;
  };

  // Copies the regular file `name` from directory `src_dir` to a new file in `dst_dir`, with its
  // modification time (CopyFileNew between directory descriptors).
  static Status CopyFileAt(TreeRun& run, int src_dir, int dst_dir, const char* name,
                           const ResourcePath& from, const ResourcePath& to) {
    auto context = [&] { return "copy " + from.Child(name).str() + " to " + to.Child(name).str(); };
    // O_NONBLOCK keeps a FIFO that replaced the file since getdents from blocking the open.
    UniqueFd in(::openat(src_dir, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
    if (!in.valid()) return Status::FromErrno(errno, context());
    EntryStat st;
    if (int err = StatEntry(in.get(), "", AT_EMPTY_PATH, &st); err != 0) {
      return Status::FromErrno(err, context());
    }
    if (st.info.IsDirectory()) return Status::WithCode(StatusCode::kIsADirectory, context());
    if (!st.info.IsFile()) {
      return Status::WithCode(StatusCode::kPermissionDenied, context() + ": not a regular file");
    }
    UniqueFd out(::openat(dst_dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    if (!out.valid()) return Status::FromErrno(errno, context());
    Status s;
    if (st.info.size <= run.data.size()) {
      if (int err = CopySmallContents(in.get(), out.get(), st.info.size, run.data); err != 0) {
        s = Status::FromErrno(err, context());
      }
    } else {
      s = CopyContents(in.get(), out.get(), context());
    }
    if (s.ok()) {
      struct timespec times[2];
      times[0].tv_sec = 0;
      times[0].tv_nsec = UTIME_OMIT;
      times[1] = ToTimespec(st.info.mtime_ns);
      if (::futimens(out.get(), times) != 0) s = Status::FromErrno(errno, context());
    }
    if (!s.ok()) ::unlinkat(dst_dir, name, 0);  // no half file left behind
    return s;
  }

  // Copies the members of one directory into the fresh directory `to` between the two
  // descriptors and queues its subdirectories (MemberWalk's CopyMembers, one directory at a
  // time). Only these two directories are held open.
  static void CopyDirectory(TreeRun& run, JobStack<DirToCopy>& jobs, const DirToCopy& job) {
    TreeObserver& observer = run.observer;
    const ResourcePath& from = job.from;
    const ResourcePath& to = job.to;
    if (job.level > run.max_depth) {
      observer.MemberFailed(to, true, MemberWalk::TooDeep(from));
      return;
    }
    std::vector<std::string> subdirs;
    {
      Result<UniqueFd> src = Open(run.fs, from, O_RDONLY | O_DIRECTORY, "list " + from.str());
      Result<UniqueFd> dst = src.ok()
                                 ? Open(run.fs, to, O_PATH | O_DIRECTORY, "copy to " + to.str())
                                 : Result<UniqueFd>(src.status());
      if (!dst.ok()) {
        observer.MemberFailed(to, true, dst.status());
      } else {
        const std::string prefix = PrefixOf(from);
        const bool check_hidden = !run.fs.options_.hidden.empty();
        int stat_err = 0;
        int err = ReadEntries(src->get(), run.entries, [&](const char* raw, unsigned char type) {
          std::string_view name(raw);
          if (!ResourcePath::IsValidSegment(name) || type == DT_LNK) return true;
          if (check_hidden && IsHidden(run.fs, prefix + std::string(name))) return true;
          EntryKind kind = KindOf(src->get(), raw, type, &stat_err);
          if (stat_err != 0) return false;
          if (kind == EntryKind::kSymlink || kind == EntryKind::kGone) return true;
          if (observer.Cancelled()) return false;
          if (kind == EntryKind::kDirectory) {
            if (::mkdirat(dst->get(), raw, 0755) == 0) {
              subdirs.emplace_back(name);
            } else {
              ResourcePath d = to.Child(name);
              observer.MemberFailed(d, true, Status::FromErrno(errno, "mkdir " + d.str()));
            }
          } else if (kind == EntryKind::kFile) {
            Status c = CopyFileAt(run, src->get(), dst->get(), raw, from, to);
            if (!c.ok()) observer.MemberFailed(to.Child(name), false, c);
          }
          observer.ResourceDone();
          return true;
        });
        if (err == 0) err = stat_err;
        if (err != 0) observer.MemberFailed(to, true, Status::FromErrno(err, "list " + from.str()));
      }
    }
    if (observer.Cancelled()) {
      observer.MemberFailed(to, true, MemberWalk::CancelledStatus());
      return;
    }
    for (const std::string& name : subdirs) {
      jobs.Push(DirToCopy{from.Child(name), to.Child(name), job.level + 1});
    }
  }
};

// Recently opened files by path. An entry is used only while no change was made through this
// file system since it was opened (the generation) and for at most `ttl_ms`; each use re-stats
// the descriptor, so sizes, times and ETags are always current.
class PosixFileSystem::OpenFileCache {
 public:
  OpenFileCache(size_t capacity, int ttl_ms) : capacity_(capacity), ttl_ms_(ttl_ms) {}

  std::atomic<uint64_t> generation{0};

  std::shared_ptr<const SharedFd> Find(const std::string& key, uint64_t gen, int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    if (it->second.generation != gen || now_ms - it->second.opened_ms > ttl_ms_) {
      map_.erase(it);
      return nullptr;
    }
    return it->second.file;
  }

  void Put(const std::string& key, std::shared_ptr<const SharedFd> file, uint64_t gen,
           int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= capacity_) {
      // Stale entries first; if all are current, any one (no LRU bookkeeping on the hot path).
      uint64_t current = generation.load();
      for (auto it = map_.begin(); it != map_.end();) {
        it = it->second.generation != current ? map_.erase(it) : std::next(it);
      }
      if (map_.size() >= capacity_) map_.erase(map_.begin());
    }
    map_[key] = Entry{std::move(file), gen, now_ms};
  }

  void Erase(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    map_.erase(key);
  }

 private:
  struct Entry {
    std::shared_ptr<const SharedFd> file;
    uint64_t generation;
    int64_t opened_ms;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
  size_t capacity_;
  int ttl_ms_;
};

namespace {

int64_t SteadyMs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

PosixFileSystem::PosixFileSystem(int root_fd, Options options)
    : root_fd_(root_fd), options_(std::move(options)) {
  if (options_.open_file_cache > 0) {
    cache_ = std::make_unique<OpenFileCache>(options_.open_file_cache,
                                             std::max(0, options_.open_file_cache_ms));
  }
  if (options_.tree_threads > 1) stat_helper_ = std::make_unique<StatHelper>();
}

std::atomic<uint64_t>* PosixFileSystem::Generation() const {
  return cache_ ? &cache_->generation : nullptr;
}

// One thread that stats half of a batch of directory entries while the listing thread stats the
// other half: statx is most of a large listing's time (45% of listing 10,000 files on tmpfs).
// Shared by all listings of the file system; Offer() refuses while it is busy.
class PosixFileSystem::StatHelper {
 public:
  struct Entry {
    std::string name;
    EntryStat st;
    int err = 0;
  };

  StatHelper() : thread_([this] { Run(); }) {}
  ~StatHelper() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Stats [begin, end) relative to `dirfd` on the helper; false (nothing done) when it is busy.
  bool Offer(int dirfd, Entry* begin, Entry* end) {
    std::lock_guard<std::mutex> lock(mu_);
    if (busy_) return false;
    busy_ = true;
    dirfd_ = dirfd;
    begin_ = begin;
    end_ = end;
    cv_.notify_all();
    return true;
  }
  // Waits for the work given with a successful Offer.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return begin_ == nullptr; });
    busy_ = false;
  }

  static void StatAll(int dirfd, Entry* begin, Entry* end) {
    for (Entry* e = begin; e != end; ++e) e->err = StatEntry(dirfd, e->name.c_str(), 0, &e->st);
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || begin_ != nullptr; });
      if (stop_) return;
      Entry* begin = begin_;
      Entry* end = end_;
      int dirfd = dirfd_;
      lock.unlock();
      StatAll(dirfd, begin, end);
      lock.lock();
      begin_ = end_ = nullptr;
      done_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  bool stop_ = false;
  bool busy_ = false;  // between Offer and Wait
  int dirfd_ = -1;
  Entry* begin_ = nullptr;  // non-null: work to do
  Entry* end_ = nullptr;
  std::thread thread_;
};

PosixFileSystem::~PosixFileSystem() {
  stat_helper_.reset();
  ::close(root_fd_);
}

Result<std::unique_ptr<PosixFileSystem>> PosixFileSystem::Open(const std::string& root_dir,
                                                               Options options) {
  int fd = ::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open root " + root_dir);
  // Hidden entries are compared with ResourcePath::Relative(), which has no leading or trailing
  // slash.
  std::set<std::string> hidden;
  for (const std::string& h : options.hidden) {
    size_t b = h.find_first_not_of('/');
    size_t e = h.find_last_not_of('/');
    if (b == std::string::npos) continue;
    hidden.insert(h.substr(b, e - b + 1));
  }
  options.hidden = std::move(hidden);
  return std::unique_ptr<PosixFileSystem>(new PosixFileSystem(fd, std::move(options)));
}

Result<FileInfo> PosixFileSystem::Stat(const ResourcePath& path) {
  const std::string context = "stat " + path.str();
  if (path.IsRoot()) {
    EntryStat st;
    int err = StatEntry(root_fd_, "", AT_EMPTY_PATH, &st);
    if (err != 0) return Status::FromErrno(err, context);
    return st.info;
  }
  if (Impl::IsHidden(*this, path.Relative())) return Status::NotFound(context + ": hidden");
  Result<UniqueFd> parent = Impl::OpenParent(*this, path, context);
  if (!parent.ok()) return parent.status();
  return Impl::StatIn(parent->get(), path, context);
}

Status PosixFileSystem::List(const ResourcePath& dir,
                             const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  return ListImpl(dir, /*include_reserved=*/false, visit);
}

Status PosixFileSystem::ListForRemoval(
    const ResourcePath& dir, const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  return ListImpl(dir, /*include_reserved=*/true, visit);
}

Status PosixFileSystem::ListImpl(
    const ResourcePath& dir, bool include_reserved,
    const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  const std::string context = "list " + dir.str();
  if (!dir.IsRoot() && Impl::IsHidden(*this, dir.Relative())) {
    return Status::NotFound(context + ": hidden");
  }
  Result<UniqueFd> fd = Impl::Open(*this, dir, O_RDONLY | O_DIRECTORY, context);
  if (!fd.ok()) return fd.status();
  DIR* d = ::fdopendir(fd->get());
  if (d == nullptr) return Status::FromErrno(errno, context);
  fd->release();  // owned by `d` now
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, &::closedir);
  const std::string prefix = dir.IsRoot() ? std::string() : dir.Relative() + "/";
  // Names are collected in batches and stat'ed together, half of a large batch on the helper
  // thread; members are visited in directory order. Memory stays bounded by the batch.
  constexpr size_t kBatch = 512;
  constexpr size_t kShareFrom = 64;  // smaller batches are not worth a hand-over
  std::vector<StatHelper::Entry> batch;
  size_t used = 0;
  // Stats and visits batch[0, used); false when the listing ends here (*result says how).
  auto flush = [&](Status* result) {
    StatHelper::Entry* begin = batch.data();
    StatHelper::Entry* end = begin + used;
    StatHelper::Entry* half = begin + used / 2;
    bool shared = used >= kShareFrom && stat_helper_ && stat_helper_->Offer(::dirfd(d), half, end);
    StatHelper::StatAll(::dirfd(d), begin, shared ? half : end);
    if (shared) stat_helper_->Wait();
    size_t n = used;
    used = 0;
    for (size_t i = 0; i < n; ++i) {
      const StatHelper::Entry& e = batch[i];
      if (e.err == ENOENT) continue;  // removed since readdir saw it
      if (e.err != 0) {
        *result = Status::FromErrno(e.err, context + "/" + e.name);
        return false;
      }
      if (e.st.is_symlink) continue;
      if (!visit(e.name, e.st.info)) {
        *result = Status::Ok();
        return false;
      }
    }
    return true;
  };
  Status result;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) return Status::FromErrno(errno, context);
      if (used > 0 && !flush(&result)) return result;
      return Status::Ok();
    }
    std::string_view name(e->d_name);
    // Skips ".", "..", reserved names (unless asked for) and names no ResourcePath could
    // address (backslash).
    if (!ResourcePath::IsValidSegment(name) &&
        !(include_reserved && name != "." && name != ".." && ResourcePath::IsReservedName(name) &&
          name.find('\\') == std::string_view::npos)) {
      continue;
    }
    if (e->d_type == DT_LNK) continue;
    if (!options_.hidden.empty() && Impl::IsHidden(*this, prefix + std::string(name))) continue;
    if (used == batch.size()) batch.emplace_back();
    batch[used++].name.assign(name);
    if (used == kBatch && !flush(&result)) return result;
  }
}

Result<std::unique_ptr<ReadableFile>> PosixFileSystem::OpenRead(const ResourcePath& path) {
  uint64_t gen = 0;
  int64_t now_ms = 0;
  if (cache_) {
    gen = cache_->generation.load();  // before opening: a change meanwhile makes the entry stale
    now_ms = SteadyMs();
    if (std::shared_ptr<const SharedFd> kept = cache_->Find(path.str(), gen, now_ms)) {
      EntryStat st;
      // Still linked (not deleted or replaced behind keepdav's back) and still a regular file.
      if (StatEntry(kept->fd.get(), "", AT_EMPTY_PATH, &st) == 0 && st.nlink > 0 &&
          st.info.IsFile()) {
        return std::unique_ptr<ReadableFile>(new SharedReadableFile(std::move(kept), st.info));
      }
      cache_->Erase(path.str());
    }
  }
  const std::string context = "open " + path.str();
  FileInfo info;
  Result<UniqueFd> fd = Impl::OpenRegularFile(*this, path, context, &info);
  if (!fd.ok()) return fd.status();
  if (!cache_) {
    return std::unique_ptr<ReadableFile>(
        new PosixReadableFile(std::move(fd).value(), info, path.str()));
  }
  auto shared = std::make_shared<SharedFd>();
  shared->fd = std::move(fd).value();
  shared->display = path.str();
  cache_->Put(path.str(), shared, gen, now_ms);
  return std::unique_ptr<ReadableFile>(new SharedReadableFile(std::move(shared), info));
}

Result<std::unique_ptr<PendingWrite>> PosixFileSystem::BeginWrite(const ResourcePath& path) {
  Result<std::unique_ptr<PosixPendingWrite>> w =
      Impl::StartWrite(*this, path, "write " + path.str());
  if (!w.ok()) return w.status();
  return std::unique_ptr<PendingWrite>(std::move(w).value());
}

Status PosixFileSystem::MakeDirectory(const ResourcePath& path) {
  const std::string context = "mkdir " + path.str();
  if (path.IsRoot()) return Status::AlreadyExists(context);
  if (Impl::IsHidden(*this, path.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  Result<UniqueFd> parent = Impl::OpenParent(*this, path, context);
  if (!parent.ok()) return parent.status();
  if (::mkdirat(parent->get(), std::string(path.Name()).c_str(), 0755) != 0) {
    return Status::FromErrno(errno, context);
  }
  return Status::Ok();
}

Status PosixFileSystem::Remove(const ResourcePath& path) {
  ChangeGuard changed{Generation()};
  const std::string context = "remove " + path.str();
  if (path.IsRoot()) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": the root stays");
  }
  if (Impl::IsHidden(*this, path.Relative())) return Status::NotFound(context + ": hidden");
  Result<UniqueFd> parent = Impl::OpenParent(*this, path, context);
  if (!parent.ok()) return parent.status();
  Result<FileInfo> info = Impl::StatIn(parent->get(), path, context);
  if (!info.ok()) return info.status();
  // If the entry is swapped for a symlink between the stat and the unlink, the symlink itself is
  // removed; nothing outside the root is touched.
  if (::unlinkat(parent->get(), std::string(path.Name()).c_str(),
                 info->IsDirectory() ? AT_REMOVEDIR : 0) != 0) {
    int err = errno;
    if (err == EEXIST) err = ENOTEMPTY;  // POSIX lets rmdir report a non-empty directory so
    return Status::FromErrno(err, context);
  }
  return Status::Ok();
}

Status PosixFileSystem::Rename(const ResourcePath& from, const ResourcePath& to, bool replace) {
  ChangeGuard changed{Generation()};
  const std::string context = "rename " + from.str() + " to " + to.str();
  if (from.IsRoot() || to.IsRoot()) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": the root stays");
  }
  if (from != to && from.Contains(to)) {
    return Status::InvalidArgument(context + ": destination inside source");
  }
  if (Impl::IsHidden(*this, from.Relative())) return Status::NotFound(context + ": hidden");
  if (Impl::IsHidden(*this, to.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  Result<UniqueFd> from_dir = Impl::OpenParent(*this, from, context);
  if (!from_dir.ok()) return from_dir.status();
  Result<UniqueFd> to_dir = Impl::OpenParent(*this, to, context);
  if (!to_dir.ok()) return to_dir.status();
  Result<FileInfo> info = Impl::StatIn(from_dir->get(), from, context);
  if (!info.ok()) return info.status();
  const std::string from_name(from.Name());
  const std::string to_name(to.Name());
  if (!replace) {
    if (::renameat2(from_dir->get(), from_name.c_str(), to_dir->get(), to_name.c_str(),
                    RENAME_NOREPLACE) == 0) {
      return Status::Ok();
    }
    // Some file systems (older NFS, FUSE) lack RENAME_NOREPLACE; there the check and the rename
    // cannot be atomic, which is the best they allow.
    if (errno != EINVAL && errno != ENOSYS) return Status::FromErrno(errno, context);
    EntryStat st;
    int err = StatEntry(to_dir->get(), to_name.c_str(), 0, &st);
    if (err == 0) return Status::FromErrno(EEXIST, context);
    if (err != ENOENT) return Status::FromErrno(err, context);
  }
  if (::renameat(from_dir->get(), from_name.c_str(), to_dir->get(), to_name.c_str()) != 0) {
    return Status::FromErrno(errno, context);
  }
  return Status::Ok();
}

Status PosixFileSystem::Exchange(const ResourcePath& a, const ResourcePath& b) {
  ChangeGuard changed{Generation()};
  const std::string context = "exchange " + a.str() + " and " + b.str();
  if (a.IsRoot() || b.IsRoot() || a.Contains(b) || b.Contains(a)) {
    return Status::InvalidArgument(context + ": overlapping paths");
  }
  if (Impl::IsHidden(*this, a.Relative()) || Impl::IsHidden(*this, b.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  Result<UniqueFd> a_dir = Impl::OpenParent(*this, a, context);
  if (!a_dir.ok()) return a_dir.status();
  Result<UniqueFd> b_dir = Impl::OpenParent(*this, b, context);
  if (!b_dir.ok()) return b_dir.status();
  const std::string a_name(a.Name());
  const std::string b_name(b.Name());
  if (::renameat2(a_dir->get(), a_name.c_str(), b_dir->get(), b_name.c_str(), RENAME_EXCHANGE) ==
      0) {
    return Status::Ok();
  }
  if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
    return Status::InvalidArgument(context + ": not supported by this file system");
  }
  return Status::FromErrno(errno, context);
}

Status PosixFileSystem::CopyFile(const ResourcePath& from, const ResourcePath& to) {
  ChangeGuard changed{Generation()};
  const std::string context = "copy " + from.str() + " to " + to.str();
  FileInfo info;
  Result<UniqueFd> src = Impl::OpenRegularFile(*this, from, context, &info);
  if (!src.ok()) return src.status();
  Result<std::unique_ptr<PosixPendingWrite>> dst = Impl::StartWrite(*this, to, context);
  if (!dst.ok()) return dst.status();
  Status s = CopyContents(src->get(), (*dst)->fd(), context);
  if (!s.ok()) return s;  // the PendingWrite removes its temporary file
  struct stat st;
  if (::fstat(src->get(), &st) != 0) return Status::FromErrno(errno, context);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens((*dst)->fd(), times) != 0) return Status::FromErrno(errno, context);
  return (*dst)->Commit();
}

Status PosixFileSystem::CopyFileNew(const ResourcePath& from, const ResourcePath& to) {
  const std::string context = "copy " + from.str() + " to " + to.str();
  if (to.IsRoot()) return Status::WithCode(StatusCode::kAlreadyExists, context);
  if (Impl::IsHidden(*this, to.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  FileInfo info;
  Result<UniqueFd> src = Impl::OpenRegularFile(*this, from, context, &info);
  if (!src.ok()) return src.status();
  Result<UniqueFd> parent = Impl::OpenParent(*this, to, context);
  if (!parent.ok()) return parent.status();
  const std::string name(to.Name());
  int raw = ::openat(parent->get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (raw < 0) return Status::FromErrno(errno, context);
  UniqueFd dst(raw);
  Status s = CopyContents(src->get(), dst.get(), context);
  if (s.ok()) {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = ToTimespec(info.mtime_ns);
    if (::futimens(dst.get(), times) != 0) s = Status::FromErrno(errno, context);
  }
  if (!s.ok()) ::unlinkat(parent->get(), name.c_str(), 0);  // no half file left behind
  return s;
}

Status PosixFileSystem::RemoveTree(const ResourcePath& path, int max_depth,
                                   TreeObserver& observer) {
  ChangeGuard changed{Generation()};
  MemberWalk::FirstFailure first(observer);
  const std::string context = "remove " + path.str();
  auto fail = [&](bool is_dir, Status s) {
    first.MemberFailed(path, is_dir, s);
    return s;
  };
  if (path.IsRoot()) {
    return fail(true,
                Status::WithCode(StatusCode::kPermissionDenied, context + ": the root stays"));
  }
  if (Impl::IsHidden(*this, path.Relative())) {
    return fail(false, Status::NotFound(context + ": hidden"));
  }
  Result<UniqueFd> parent = Impl::OpenParent(*this, path, context);
  if (!parent.ok()) return fail(false, parent.status());
  Result<FileInfo> info = Impl::StatIn(parent->get(), path, context);
  if (!info.ok()) return fail(false, info.status());
  const bool is_dir = info->IsDirectory();
  if (is_dir) {
    auto top = std::make_shared<Impl::DirToEmpty>(path, 1, nullptr, std::string());
    JobStack<std::shared_ptr<Impl::DirToEmpty>> jobs(options_.tree_threads);
    jobs.Push(top);
    jobs.Run([&] { return Impl::TreeRun(*this, max_depth, first); },
             [&](Impl::TreeRun& run, const std::shared_ptr<Impl::DirToEmpty>& dir) {
               Impl::EmptyDirectory(run, jobs, dir);
             });
    if (!top->all_removed) return first.first_or(MemberWalk::CancelledStatus());
  }
  int r = ::unlinkat(parent->get(), std::string(path.Name()).c_str(), is_dir ? AT_REMOVEDIR : 0);
  int err = r == 0 ? 0 : errno;
  first.ResourceDone();
  if (r != 0) return fail(is_dir, Status::FromErrno(err == EEXIST ? ENOTEMPTY : err, context));
  return Status::Ok();
}

Status PosixFileSystem::CopyTree(const ResourcePath& from, const ResourcePath& to,
                                 bool with_members, int max_depth, TreeObserver& observer) {
  ChangeGuard changed{Generation()};
  Result<FileInfo> info = Stat(from);
  if (!info.ok()) return info.status();
  if (!info->IsDirectory()) {
    Status s = CopyFileNew(from, to);
    observer.ResourceDone();
    return s;
  }
  Status s = MakeDirectory(to);
  observer.ResourceDone();
  if (!s.ok() || !with_members) return s;
  JobStack<Impl::DirToCopy> jobs(options_.tree_threads);
  jobs.Push(Impl::DirToCopy{from, to, 1});
  jobs.Run(
      [&] {
        Impl::TreeRun run(*this, max_depth, observer);
        run.data.resize(size_t{64} << 10);
        return run;
      },
      [&](Impl::TreeRun& run, const Impl::DirToCopy& dir) { Impl::CopyDirectory(run, jobs, dir); });
  return Status::Ok();
}

Status PosixFileSystem::SetModifiedTime(const ResourcePath& path, int64_t mtime_ns) {
  ChangeGuard changed{Generation()};
  const std::string context = "set mtime " + path.str();
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1] = ToTimespec(mtime_ns);
  if (path.IsRoot()) {
    Result<UniqueFd> fd = Impl::Open(*this, path, O_RDONLY | O_DIRECTORY, context);
    if (!fd.ok()) return fd.status();
    if (::futimens(fd->get(), times) != 0) return Status::FromErrno(errno, context);
    return Status::Ok();
  }
  if (Impl::IsHidden(*this, path.Relative())) return Status::NotFound(context + ": hidden");
  Result<UniqueFd> parent = Impl::OpenParent(*this, path, context);
  if (!parent.ok()) return parent.status();
  Result<FileInfo> info = Impl::StatIn(parent->get(), path, context);
  if (!info.ok()) return info.status();
  // AT_SYMLINK_NOFOLLOW: should the entry become a symlink meanwhile, only the link's own time
  // changes, never its target's.
  if (::utimensat(parent->get(), std::string(path.Name()).c_str(), times, AT_SYMLINK_NOFOLLOW) !=
      0) {
    return Status::FromErrno(errno, context);
  }
  return Status::Ok();
}

Result<SpaceInfo> PosixFileSystem::Space() {
  struct statvfs sv;
  if (::fstatvfs(root_fd_, &sv) != 0) return Status::FromErrno(errno, "statvfs of the root");
  SpaceInfo info;
  info.available_bytes = static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
  info.used_bytes = static_cast<uint64_t>(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
  return info;
}

}  // namespace keepdav::storage
