// PosixFileSystem: FileSystem over a real directory.
//
// The root is opened once as a directory descriptor; every path is resolved below it with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (falling back to a component-by-component
// openat(O_NOFOLLOW) walk on kernels without openat2), so neither ".." tricks nor symlinks can
// reach outside the root. Symlinks inside the tree are treated as nonexistent.
//
// RemoveTree and CopyTree resolve each directory from the root once and then act on its members
// relative to the directory's descriptor (unlinkat, openat(O_NOFOLLOW), mkdirat), with entry types
// from getdents: a removed file costs one system call, a copied one eight, instead of a
// resolution from the root for each. They hold at most one directory of each tree open at a time,
// and behave like MemberWalk (storage/member_walk.h), which the unit tests check, except that
// directories are worked on by Options::tree_threads threads, so members are handled (and
// failures reported) in no fixed order; the TreeObserver is called from those threads.
//
// Temporary files are created in the target's directory under reserved names
// (".keepdav-tmp-<random>") and renamed into place.
//
// Beyond the FileSystem contract: hidden paths read as kNotFound, but creating or replacing one
// (BeginWrite, MakeDirectory, Rename/CopyFile onto it) is kPermissionDenied; so is removing or
// renaming the root, and opening a special file (FIFO, socket, device) for reading. Renaming a
// collection into its own subtree is kInvalidArgument.
//
// The parts live in storage/posix/: descriptor ownership (unique_fd.h), resolve-beneath path
// opening and hidden names (root.h), reading and copying file contents (file_contents.h), the
// pending write (pending_write.h), the tree jobs of RemoveTree and CopyTree (tree_jobs.h,
// job_stack.h), the open-file cache (open_file_cache.h) and the parallel stat helper of listings
// (stat_helper.h).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "storage/file_system.h"
#include "storage/posix/root.h"

namespace keepdav::storage {

namespace posix {
class OpenFileCache;
class StatHelper;
}  // namespace posix

class PosixFileSystem : public FileSystem {
 public:
  struct Options {
    // Relative paths below the root (e.g. "keepdav.db", "keepdav.db-wal") that must never be
    // listed or served, for a database file that an administrator placed inside the root.
    std::set<std::string> hidden;
    // fsync files before renaming them into place.
    bool fsync_on_commit = false;
    // Use openat2(2) when the kernel has it. Tests turn this off to run the whole contract over
    // the openat(O_NOFOLLOW) walk that older kernels get.
    bool allow_openat2 = true;
    // Threads working on one RemoveTree or CopyTree (the caller's and helpers): on tmpfs and
    // fast disks the kernel's per-file work dominates, and directories are independent. With
    // more than one, a listing of a large directory also stats its entries on a second thread
    // (one shared helper; a listing that finds it busy stats alone).
    int tree_threads = 2;
    // Open descriptors of recently read files kept for reuse (0: none). A read of a small file
    // then costs one statx on the kept descriptor instead of openat2 + statx + close. Any change
    // made through this object drops them all; a kept file that was unlinked (nlink 0) is
    // reopened; anything else changed behind keepdav's back (a file renamed away and another put
    // in its place) is seen after at most open_file_cache_ms.
    size_t open_file_cache = 128;
    int open_file_cache_ms = 1000;
  };

  // Opens `root_dir` (which must be an existing directory). kNotFound / kNotADirectory.
  static Result<std::unique_ptr<PosixFileSystem>> Open(const std::string& root_dir,
                                                       Options options);
  ~PosixFileSystem() override;

  Result<FileInfo> Stat(const ResourcePath& path) override;
  Status List(const ResourcePath& dir,
              const std::function<bool(std::string_view, const FileInfo&)>& visit) override;
  Status ListForRemoval(
      const ResourcePath& dir,
      const std::function<bool(std::string_view, const FileInfo&)>& visit) override;
  Result<std::unique_ptr<ReadableFile>> OpenRead(const ResourcePath& path) override;
  Result<std::unique_ptr<PendingWrite>> BeginWrite(const ResourcePath& path) override;
  Status MakeDirectory(const ResourcePath& path) override;
  Status Remove(const ResourcePath& path) override;
  Status Rename(const ResourcePath& from, const ResourcePath& to, bool replace) override;
  Status Exchange(const ResourcePath& a, const ResourcePath& b) override;
  Status CopyFile(const ResourcePath& from, const ResourcePath& to) override;
  Status CopyFileNew(const ResourcePath& from, const ResourcePath& to) override;
  Status RemoveTree(const ResourcePath& path, int max_depth, TreeObserver& observer) override;
  Status CopyTree(const ResourcePath& from, const ResourcePath& to, bool with_members,
                  int max_depth, TreeObserver& observer) override;
  Status SetModifiedTime(const ResourcePath& path, int64_t mtime_ns) override;
  Result<std::unique_ptr<UpdatableFile>> OpenForUpdate(const ResourcePath& path) override;
  Result<SpaceInfo> Space() override;

  int root_fd() const { return root_fd_; }

 private:
  PosixFileSystem(int root_fd, Options options);
  Status ListImpl(const ResourcePath& dir, bool include_reserved,
                  const std::function<bool(std::string_view, const FileInfo&)>& visit);
  int root_fd_;
  Options options_;
  posix::Root root_;                                // resolves paths below root_fd_
  std::unique_ptr<posix::OpenFileCache> cache_;     // null when options_.open_file_cache is 0
  std::unique_ptr<posix::StatHelper> stat_helper_;  // null when options_.tree_threads is 1
  // The cache's change counter (null without a cache), and a guard that bumps it when a
  // changing call returns, whichever way it returns.
  std::atomic<uint64_t>* Generation() const;
  struct ChangeGuard {
    std::atomic<uint64_t>* generation;
    ~ChangeGuard() {
      if (generation) generation->fetch_add(1);
    }
  };
};

}  // namespace keepdav::storage
