#include "storage/posix/tree_jobs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/member_walk.h"
#include "storage/posix/entry_stat.h"
#include "storage/posix/file_contents.h"
#include "storage/posix/job_stack.h"

namespace keepdav::storage::posix {

namespace {

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

// Per-thread state of one RemoveTree or CopyTree call.
struct TreeRun {
  TreeRun(const Root& r, int depth, TreeObserver& o) : root(r), max_depth(depth), observer(o) {}
  const Root& root;
  int max_depth;
  TreeObserver& observer;
  std::vector<char> entries = std::vector<char>(size_t{32} << 10);  // getdents64 buffer
  std::vector<char> data;  // copy buffer for small files; larger ones use copy_file_range
};

std::string PrefixOf(const ResourcePath& dir) {
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
  std::atomic<int> pending{1};               // its own listing, and subdirectories not finished yet
  std::atomic<bool> all_removed{true};
};

void FinishDirectory(TreeRun& run, std::shared_ptr<DirToEmpty> dir);

// Removes the files of `dir` relative to its descriptor and queues its subdirectories
// (MemberWalk's RemoveMembers, one directory at a time). Only this directory is held open.
void EmptyDirectory(TreeRun& run, JobStack<std::shared_ptr<DirToEmpty>>& jobs,
                    const std::shared_ptr<DirToEmpty>& dir) {
  TreeObserver& observer = run.observer;
  const ResourcePath& path = dir->path;
  if (dir->level > run.max_depth) {
    observer.MemberFailed(path, true, MemberWalk::TooDeep(path));
    dir->all_removed = false;
    return FinishDirectory(run, dir);
  }
  Result<UniqueFd> fd = run.root.Open(path, O_RDONLY | O_DIRECTORY, "list " + path.str());
  if (!fd.ok()) {
    observer.MemberFailed(path, true, fd.status());
    dir->all_removed = false;
    return FinishDirectory(run, dir);
  }
  // Names are collected before removing: unlinking while getdents iterates the same directory
  // is not specified by POSIX.
  std::vector<std::pair<std::string, bool>> members;
  const std::string prefix = PrefixOf(path);
  const bool check_hidden = run.root.has_hidden();
  int stat_err = 0;
  int err = ReadEntries(fd->get(), run.entries, [&](const char* raw, unsigned char type) {
    std::string_view name(raw);
    if (!IsRemovableName(name) || type == DT_LNK) return true;
    if (check_hidden && run.root.IsHidden(prefix + std::string(name))) return true;
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
void FinishDirectory(TreeRun& run, std::shared_ptr<DirToEmpty> dir) {
  while (dir->pending.fetch_sub(1) == 1 && dir->parent) {
    const std::shared_ptr<DirToEmpty>& parent = dir->parent;
    if (dir->all_removed) {
      Status s;
      Result<UniqueFd> fd =
          run.root.Open(parent->path, O_PATH | O_DIRECTORY, "remove " + dir->path.str());
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
Status CopyFileAt(TreeRun& run, int src_dir, int dst_dir, const char* name,
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
    if (int err =
            CopyThroughBuffer(in.get(), out.get(), run.data.data(), run.data.size(), st.info.size);
        err != 0) {
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
void CopyDirectory(TreeRun& run, JobStack<DirToCopy>& jobs, const DirToCopy& job) {
  TreeObserver& observer = run.observer;
  const ResourcePath& from = job.from;
  const ResourcePath& to = job.to;
  if (job.level > run.max_depth) {
    observer.MemberFailed(to, true, MemberWalk::TooDeep(from));
    return;
  }
  std::vector<std::string> subdirs;
  {
    Result<UniqueFd> src = run.root.Open(from, O_RDONLY | O_DIRECTORY, "list " + from.str());
    Result<UniqueFd> dst = src.ok() ? run.root.Open(to, O_PATH | O_DIRECTORY, "copy to " + to.str())
                                    : Result<UniqueFd>(src.status());
    if (!dst.ok()) {
      observer.MemberFailed(to, true, dst.status());
    } else {
      const std::string prefix = PrefixOf(from);
      const bool check_hidden = run.root.has_hidden();
      int stat_err = 0;
      int err = ReadEntries(src->get(), run.entries, [&](const char* raw, unsigned char type) {
        std::string_view name(raw);
        if (!ResourcePath::IsValidSegment(name) || type == DT_LNK) return true;
        if (check_hidden && run.root.IsHidden(prefix + std::string(name))) return true;
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

}  // namespace

bool EmptyTree(const Root& root, const ResourcePath& path, int max_depth, int threads,
               TreeObserver& observer) {
  auto top = std::make_shared<DirToEmpty>(path, 1, nullptr, std::string());
  JobStack<std::shared_ptr<DirToEmpty>> jobs(threads);
  jobs.Push(top);
  jobs.Run([&] { return TreeRun(root, max_depth, observer); },
           [&](TreeRun& run, const std::shared_ptr<DirToEmpty>& dir) {
             EmptyDirectory(run, jobs, dir);
           });
  return top->all_removed;
}

void CopyMembers(const Root& root, const ResourcePath& from, const ResourcePath& to, int max_depth,
                 int threads, TreeObserver& observer) {
  JobStack<DirToCopy> jobs(threads);
  jobs.Push(DirToCopy{from, to, 1});
  jobs.Run(
      [&] {
        TreeRun run(root, max_depth, observer);
        run.data.resize(size_t{64} << 10);
        return run;
      },
      [&](TreeRun& run, const DirToCopy& dir) { CopyDirectory(run, jobs, dir); });
}

}  // namespace keepdav::storage::posix
