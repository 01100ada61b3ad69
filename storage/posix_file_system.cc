#include "storage/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "storage/member_walk.h"
#include "storage/posix/entry_stat.h"
#include "storage/posix/file_contents.h"
#include "storage/posix/open_file_cache.h"
#include "storage/posix/pending_write.h"
#include "storage/posix/stat_helper.h"
#include "storage/posix/tree_jobs.h"
#include "storage/posix/unique_fd.h"

namespace keepdav::storage {

PosixFileSystem::PosixFileSystem(int root_fd, Options options)
    : root_fd_(root_fd),
      options_(std::move(options)),
      root_(root_fd_, options_.allow_openat2, options_.hidden) {
  if (options_.open_file_cache > 0) {
    cache_ = std::make_unique<posix::OpenFileCache>(options_.open_file_cache,
                                                    std::max(0, options_.open_file_cache_ms));
  }
  if (options_.tree_threads > 1) stat_helper_ = std::make_unique<posix::StatHelper>();
}

std::atomic<uint64_t>* PosixFileSystem::Generation() const {
  return cache_ ? &cache_->generation : nullptr;
}

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
    posix::EntryStat st;
    int err = posix::StatEntry(root_fd_, "", AT_EMPTY_PATH, &st);
    if (err != 0) return Status::FromErrno(err, context);
    return st.info;
  }
  if (root_.IsHidden(path.Relative())) return Status::NotFound(context + ": hidden");
  Result<posix::UniqueFd> parent = root_.OpenParent(path, context);
  if (!parent.ok()) return parent.status();
  return posix::Root::StatIn(parent->get(), path, context);
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
  if (!dir.IsRoot() && root_.IsHidden(dir.Relative())) {
    return Status::NotFound(context + ": hidden");
  }
  Result<posix::UniqueFd> fd = root_.Open(dir, O_RDONLY | O_DIRECTORY, context);
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
  std::vector<posix::StatHelper::Entry> batch;
  size_t used = 0;
  // Stats and visits batch[0, used); false when the listing ends here (*result says how).
  auto flush = [&](Status* result) {
    posix::StatHelper::Entry* begin = batch.data();
    posix::StatHelper::Entry* end = begin + used;
    posix::StatHelper::Entry* half = begin + used / 2;
    bool shared = used >= kShareFrom && stat_helper_ && stat_helper_->Offer(::dirfd(d), half, end);
    posix::StatHelper::StatAll(::dirfd(d), begin, shared ? half : end);
    if (shared) stat_helper_->Wait();
    size_t n = used;
    used = 0;
    for (size_t i = 0; i < n; ++i) {
      const posix::StatHelper::Entry& e = batch[i];
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
    if (!options_.hidden.empty() && root_.IsHidden(prefix + std::string(name))) continue;
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
    now_ms = posix::OpenFileCache::NowMs();
    if (std::shared_ptr<const posix::SharedFd> kept = cache_->Find(path.str(), gen, now_ms)) {
      posix::EntryStat st;
      // Still linked (not deleted or replaced behind keepdav's back) and still a regular file.
      if (posix::StatEntry(kept->fd.get(), "", AT_EMPTY_PATH, &st) == 0 && st.nlink > 0 &&
          st.info.IsFile()) {
        return std::unique_ptr<ReadableFile>(
            new posix::PosixReadableFile(std::move(kept), st.info));
      }
      cache_->Erase(path.str());
    }
  }
  const std::string context = "open " + path.str();
  FileInfo info;
  Result<posix::UniqueFd> fd = root_.OpenRegularFile(path, context, &info);
  if (!fd.ok()) return fd.status();
  auto shared = std::make_shared<posix::SharedFd>();
  shared->fd = std::move(fd).value();
  shared->display = path.str();
  if (cache_) cache_->Put(path.str(), shared, gen, now_ms);
  return std::unique_ptr<ReadableFile>(new posix::PosixReadableFile(std::move(shared), info));
}

Result<std::unique_ptr<PendingWrite>> PosixFileSystem::BeginWrite(const ResourcePath& path) {
  Result<std::unique_ptr<posix::PosixPendingWrite>> w =
      posix::StartWrite(root_, path, "write " + path.str(), options_.fsync_on_commit, Generation());
  if (!w.ok()) return w.status();
  return std::unique_ptr<PendingWrite>(std::move(w).value());
}

Status PosixFileSystem::MakeDirectory(const ResourcePath& path) {
  const std::string context = "mkdir " + path.str();
  if (path.IsRoot()) return Status::AlreadyExists(context);
  if (root_.IsHidden(path.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  Result<posix::UniqueFd> parent = root_.OpenParent(path, context);
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
  if (root_.IsHidden(path.Relative())) return Status::NotFound(context + ": hidden");
  Result<posix::UniqueFd> parent = root_.OpenParent(path, context);
  if (!parent.ok()) return parent.status();
  Result<FileInfo> info = posix::Root::StatIn(parent->get(), path, context);
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
  if (root_.IsHidden(from.Relative())) return Status::NotFound(context + ": hidden");
  if (root_.IsHidden(to.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  Result<posix::UniqueFd> from_dir = root_.OpenParent(from, context);
  if (!from_dir.ok()) return from_dir.status();
  Result<posix::UniqueFd> to_dir = root_.OpenParent(to, context);
  if (!to_dir.ok()) return to_dir.status();
  Result<FileInfo> info = posix::Root::StatIn(from_dir->get(), from, context);
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
    posix::EntryStat st;
    int err = posix::StatEntry(to_dir->get(), to_name.c_str(), 0, &st);
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
  if (root_.IsHidden(a.Relative()) || root_.IsHidden(b.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  Result<posix::UniqueFd> a_dir = root_.OpenParent(a, context);
  if (!a_dir.ok()) return a_dir.status();
  Result<posix::UniqueFd> b_dir = root_.OpenParent(b, context);
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
  Result<posix::UniqueFd> src = root_.OpenRegularFile(from, context, &info);
  if (!src.ok()) return src.status();
  Result<std::unique_ptr<posix::PosixPendingWrite>> dst =
      posix::StartWrite(root_, to, context, options_.fsync_on_commit, Generation());
  if (!dst.ok()) return dst.status();
  Status s = posix::CopyContents(src->get(), (*dst)->fd(), context);
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
  if (root_.IsHidden(to.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  FileInfo info;
  Result<posix::UniqueFd> src = root_.OpenRegularFile(from, context, &info);
  if (!src.ok()) return src.status();
  Result<posix::UniqueFd> parent = root_.OpenParent(to, context);
  if (!parent.ok()) return parent.status();
  const std::string name(to.Name());
  int raw = ::openat(parent->get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (raw < 0) return Status::FromErrno(errno, context);
  posix::UniqueFd dst(raw);
  Status s = posix::CopyContents(src->get(), dst.get(), context);
  if (s.ok()) {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = posix::ToTimespec(info.mtime_ns);
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
  if (root_.IsHidden(path.Relative())) {
    return fail(false, Status::NotFound(context + ": hidden"));
  }
  Result<posix::UniqueFd> parent = root_.OpenParent(path, context);
  if (!parent.ok()) return fail(false, parent.status());
  Result<FileInfo> info = posix::Root::StatIn(parent->get(), path, context);
  if (!info.ok()) return fail(false, info.status());
  const bool is_dir = info->IsDirectory();
  if (is_dir) {
    if (!posix::EmptyTree(root_, path, max_depth, options_.tree_threads, first)) {
      return first.first_or(MemberWalk::CancelledStatus());
    }
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
  posix::CopyMembers(root_, from, to, max_depth, options_.tree_threads, observer);
  return Status::Ok();
}

namespace {

class PosixUpdatableFile : public UpdatableFile {
 public:
  PosixUpdatableFile(posix::UniqueFd fd, FileInfo info, std::string context)
      : fd_(std::move(fd)), info_(info), context_(std::move(context)) {}
  const FileInfo& info() const override { return info_; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    for (;;) {
      ssize_t n = ::pread(fd_.get(), buf, len, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Status::FromErrno(errno, "read " + context_);
    }
  }
  Status WriteAt(uint64_t offset, const char* data, size_t len) override {
    while (len > 0) {
      ssize_t n = ::pwrite(fd_.get(), data, len, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "write " + context_);
      }
      data += n;
      len -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }
  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
      return Status::FromErrno(errno, "truncate " + context_);
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fdatasync(fd_.get()) != 0) return Status::FromErrno(errno, "sync " + context_);
    return Status::Ok();
  }
  Result<FileInfo> Stat() override {
    posix::EntryStat st;
    if (int err = posix::StatEntry(fd_.get(), "", AT_EMPTY_PATH, &st); err != 0) {
      return Status::FromErrno(err, "stat " + context_);
    }
    return st.info;
  }

 private:
  posix::UniqueFd fd_;
  FileInfo info_;
  std::string context_;
};

}  // namespace

Result<std::unique_ptr<UpdatableFile>> PosixFileSystem::OpenForUpdate(const ResourcePath& path) {
  const std::string context = "update " + path.str();
  if (path.IsRoot()) return Status::WithCode(StatusCode::kIsADirectory, context);
  if (root_.IsHidden(path.Relative())) return Status::NotFound(context + ": hidden");
  // O_NONBLOCK keeps a FIFO from blocking the open; the stat below refuses it.
  Result<posix::UniqueFd> fd = root_.Open(path, O_RDWR | O_NONBLOCK, context);
  if (!fd.ok()) {
    // A directory cannot be opened for writing: EISDIR maps to kIsADirectory.
    return fd.status();
  }
  posix::EntryStat st;
  if (int err = posix::StatEntry(fd->get(), "", AT_EMPTY_PATH, &st); err != 0) {
    return Status::FromErrno(err, context);
  }
  if (st.info.IsDirectory()) return Status::WithCode(StatusCode::kIsADirectory, context);
  if (!st.info.IsFile()) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": not a regular file");
  }
  return std::unique_ptr<UpdatableFile>(
      new PosixUpdatableFile(std::move(fd).value(), st.info, path.str()));
}

Status PosixFileSystem::SetModifiedTime(const ResourcePath& path, int64_t mtime_ns) {
  ChangeGuard changed{Generation()};
  const std::string context = "set mtime " + path.str();
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1] = posix::ToTimespec(mtime_ns);
  if (path.IsRoot()) {
    Result<posix::UniqueFd> fd = root_.Open(path, O_RDONLY | O_DIRECTORY, context);
    if (!fd.ok()) return fd.status();
    if (::futimens(fd->get(), times) != 0) return Status::FromErrno(errno, context);
    return Status::Ok();
  }
  if (root_.IsHidden(path.Relative())) return Status::NotFound(context + ": hidden");
  Result<posix::UniqueFd> parent = root_.OpenParent(path, context);
  if (!parent.ok()) return parent.status();
  Result<FileInfo> info = posix::Root::StatIn(parent->get(), path, context);
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
