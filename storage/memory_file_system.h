// MemoryFileSystem: the whole FileSystem contract (storage/file_system.h) over a tree held in
// memory, for tests: the contract suite runs against it and PosixFileSystem alike, and webdav
// tests can use it where a directory on disk buys nothing.
//
// Semantics follow POSIX where the contract leaves them open, so a test passing here means the
// same on disk:
// - Committed file contents never change in place: a write or copy makes a new file (a new inode
//   number) and renames it over the old one, so a ReadableFile keeps reading what it opened, like
//   an open descriptor of a replaced file.
// - An upload's temporary file is a real entry (".keepdav-tmp-<hex>") in the target's directory
//   while it is written: ListForRemoval sees it and the directory is not empty.
// - Rename with `replace` behaves like rename(2): a file onto a collection is kIsADirectory, a
//   collection onto a file kNotADirectory, onto a non-empty collection kNotEmpty; renaming onto
//   itself succeeds and does nothing.
// - A directory's modification time changes when an entry is added or removed.
// Where PosixFileSystem documents behaviour beyond the contract, memory does this:
// - There are no hidden names (no database lives inside a memory tree), no symlinks and no special
//   files, so none of PosixFileSystem's kPermissionDenied cases for them arise.
// - Removing or renaming the root is kPermissionDenied and renaming a collection into its own
//   subtree is kInvalidArgument, as on disk.
// - List and ListForRemoval take a snapshot of the directory and visit it without holding the
//   lock (so `visit` may call back into the file system); the order is by name.
// - Directories have size 0; Space() reports Options::capacity_bytes minus the bytes of all files.
// - RemoveTree and CopyTree are MemberWalk's (storage/member_walk.h) over this file system.
// - ReadableFile::NativeHandle() is -1 (there is no descriptor to send from).
//
// Thread-safe: one mutex guards the tree; file contents, once committed, are shared read-only.
// A PendingWrite must not outlive the file system that began it (a ReadableFile may).
// Errors: the Status codes file_system.h documents per call, never kIoError; a commit whose
// temporary file was removed meanwhile (RemoveTree of its directory) is kNotFound.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "storage/file_system.h"

namespace keepdav::storage {

class MemoryFileSystem : public FileSystem {
 public:
  struct Options {
    // The time, in ns since the epoch, that creating or changing something records. Called with
    // the file system's lock held, so it must not call back into it. Null: a counter starting at
    // 2020-01-01T00:00:00Z that advances by one millisecond per call, so times are distinct and
    // tests repeatable.
    std::function<int64_t()> clock;
    // What Space() counts the used bytes against.
    uint64_t capacity_bytes = uint64_t{1} << 30;
    // FileInfo::device of every resource.
    uint64_t device = 1;
  };

  MemoryFileSystem() : MemoryFileSystem(Options()) {}
  explicit MemoryFileSystem(Options options);
  ~MemoryFileSystem() override;

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

 private:
  struct Node;
  class Reader;
  class Writer;
  class Updater;
  // The lookups and changes, with mu_ held.
  struct Tree;

  Status ListImpl(const ResourcePath& dir, bool include_reserved,
                  const std::function<bool(std::string_view, const FileInfo&)>& visit);

  std::mutex mu_;
  std::unique_ptr<Tree> tree_;  // guarded by mu_
};

}  // namespace keepdav::storage
