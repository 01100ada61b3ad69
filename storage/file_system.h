// FileSystem: every file operation keepdav performs goes through this interface.
//
// Implementations: PosixFileSystem (the served directory), MemoryFileSystem (in memory, for
// tests; the contract suite tests/storage/file_system_contract_test.cc runs against both), and
// FaultInjectingFileSystem, a wrapper that slows down, fails or crashes chosen calls. Paths are
// ResourcePaths, so an implementation only has to make sure it never follows a symlink and never
// shows reserved names (ResourcePath::IsReservedName) or configured hidden files (such as a
// database placed inside the root).
//
// Thread safety: implementations must be safe for concurrent use from many request threads.
// Errors: Status codes as documented per call; anything unexpected is kIoError.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

enum class FileType { kFile, kDirectory, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // modification time, ns since the epoch
  int64_t birth_ns = 0;  // creation time where the file system records it, else ctime
  // Inode change time (ns): changes with every write, rename or time set, and no client can set
  // it, so with inode, size and mtime it tells whether content is still what it was.
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;

  bool IsDirectory() const { return type == FileType::kDirectory; }
  bool IsFile() const { return type == FileType::kFile; }
};

struct SpaceInfo {
  uint64_t available_bytes = 0;  // for unprivileged users (f_bavail)
  uint64_t used_bytes = 0;       // (f_blocks - f_bfree) * f_frsize
};

// An open file for reading. Not thread-safe; one per request.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  virtual const FileInfo& info() const = 0;
  // Reads up to `len` bytes at `offset`; returns 0 at end of file.
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) = 0;
  // The OS descriptor for zero-copy sends, or -1 when there is none.
  virtual int NativeHandle() const { return -1; }
};

// A file being written under a temporary reserved name in the target's directory. Nothing is
// visible at the target until Commit() renames it into place atomically; destroying an
// uncommitted PendingWrite removes the temporary file. Not thread-safe.
class PendingWrite {
 public:
  virtual ~PendingWrite() = default;
  virtual Status Write(const char* data, size_t len) = 0;
  // Replaces (or creates) the target. kIsADirectory if a collection appeared there meanwhile.
  virtual Status Commit() = 0;
  // After a successful Commit: the new file's figures (for its ETag), with no further lookup.
  virtual const FileInfo& committed_info() const = 0;
  // The file at the target when the write began, or none (nothing, or a symlink, was there):
  // what a caller would otherwise have to Stat first.
  virtual const std::optional<FileInfo>& previous() const = 0;
};

// A file opened to be changed in place, for partial uploads (PATCH with X-Update-Range, PUT with
// Content-Range): the caller saves what it overwrites first (webdav/partial_update.h), since
// nothing here is atomic. Not thread-safe; one per request.
class UpdatableFile {
 public:
  virtual ~UpdatableFile() = default;
  // The file's figures when it was opened.
  virtual const FileInfo& info() const = 0;
  // Reads up to `len` bytes at `offset`; returns 0 at end of file.
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) = 0;
  // Writes all `len` bytes at `offset` (kNoSpace, kIoError).
  virtual Status WriteAt(uint64_t offset, const char* data, size_t len) = 0;
  // Sets the file's size (shorter drops the end; longer pads with zeros).
  virtual Status Truncate(uint64_t size) = 0;
  // Makes what was written durable (fsync), before the record that could undo it goes.
  virtual Status Sync() = 0;
  // The file's figures now.
  virtual Result<FileInfo> Stat() = 0;
};

// Receives what RemoveTree and CopyTree do, resource by resource. An implementation may call it
// from helper threads as well as the calling thread, so it must be thread-safe; calls never
// outlive the tree operation.
class TreeObserver {
 public:
  virtual ~TreeObserver() = default;
  // Asked before each member: true stops the operation there (the client went away).
  virtual bool Cancelled() = 0;
  // Once for each resource the operation acted on: copied, created, removed, or failed doing so;
  // special files (FIFOs, sockets) that a copy skips count too.
  virtual void ResourceDone() = 0;
  // A resource that could not be copied or removed. For a copy, `path` names the destination
  // member; for a removal, the member that stays.
  virtual void MemberFailed(const ResourcePath& path, bool is_directory, const Status& status) = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // kNotFound when the path (or a parent) does not exist, is a symlink or is hidden;
  // kNotADirectory when a parent is a file.
  virtual Result<FileInfo> Stat(const ResourcePath& path) = 0;

  // Calls `visit` for each member of the collection, in no particular order, without reading the
  // whole directory into memory. Symlinks, reserved and hidden names are skipped. Stops early
  // (returning OK) when `visit` returns false. kNotADirectory if `path` is a file.
  virtual Status List(const ResourcePath& dir,
                      const std::function<bool(std::string_view name, const FileInfo&)>& visit) = 0;

  // Like List, but also reports reserved names (keepdav's own temporary, staging and trash
  // entries), so that removing a tree can remove its leftovers too. Hidden names and symlinks
  // are still skipped.
  virtual Status ListForRemoval(
      const ResourcePath& dir,
      const std::function<bool(std::string_view name, const FileInfo&)>& visit) = 0;

  // kNotFound, kIsADirectory.
  virtual Result<std::unique_ptr<ReadableFile>> OpenRead(const ResourcePath& path) = 0;

  // Opens the regular file `path` to change it in place. kNotFound (also a symlink or hidden
  // name), kIsADirectory, kPermissionDenied for a special file.
  virtual Result<std::unique_ptr<UpdatableFile>> OpenForUpdate(const ResourcePath& path) = 0;

  // Starts an atomic write of `path`. kNotFound when the parent is missing, kNotADirectory when
  // the parent is a file, kIsADirectory when `path` is a collection.
  virtual Result<std::unique_ptr<PendingWrite>> BeginWrite(const ResourcePath& path) = 0;

  // kAlreadyExists if anything exists there, kNotFound if the parent is missing.
  virtual Status MakeDirectory(const ResourcePath& path) = 0;

  // Removes a file or an empty directory. kNotFound, kNotEmpty.
  virtual Status Remove(const ResourcePath& path) = 0;

  // Atomically renames `from` to `to`. With `replace` false, kAlreadyExists if `to` exists; with
  // `replace` true an existing file (or empty directory) at `to` is replaced. kCrossDevice when
  // the file system cannot rename between the two places.
  virtual Status Rename(const ResourcePath& from, const ResourcePath& to, bool replace) = 0;

  // Atomically swaps the two names (renameat2 RENAME_EXCHANGE): readers see either the old or the
  // new tree at each name, never nothing. kNotFound if either is missing; kInvalidArgument when
  // the file system cannot exchange (the caller falls back to two renames).
  virtual Status Exchange(const ResourcePath& a, const ResourcePath& b) = 0;

  // Copies the contents (and modification time) of file `from` to `to`, atomically replacing an
  // existing file at `to`. kIsADirectory if either is a collection.
  virtual Status CopyFile(const ResourcePath& from, const ResourcePath& to) = 0;

  // Like CopyFile, but `to` is created in place, not through a temporary name: for building a
  // tree nobody can see yet (a staging tree), where per-file atomicity buys nothing.
  // kAlreadyExists if `to` exists.
  virtual Status CopyFileNew(const ResourcePath& from, const ResourcePath& to) = 0;

  // Removes `path` and everything below it, bottom-up, as Remove would member by member:
  // reserved leftovers (ListForRemoval) go too; symlinks and hidden names are never touched, so
  // the directories holding them stay. Each member that cannot be removed goes to
  // observer.MemberFailed; its ancestors then stay without being reported (RFC 4918 §9.6.1).
  // A directory `max_depth` levels below `path` is not entered: it fails with kTooLarge.
  // Stops before the next member once observer.Cancelled().
  // Returns OK when everything is gone; otherwise the first reported failure's status (a failure
  // of `path` itself is reported too), or kIoError when cancelled before any failure.
  virtual Status RemoveTree(const ResourcePath& path, int max_depth, TreeObserver& observer) = 0;

  // Copies `from` to `to`, which must not exist (kAlreadyExists), creating everything in place
  // as CopyFileNew does: for a tree nobody can see yet (a staging tree). A file is copied with its
  // modification time; a collection is created and, with `with_members`, its members are copied
  // recursively. Reserved and hidden names and symlinks are skipped; special files are counted
  // but not copied. Member failures (including kTooLarge for a directory `max_depth` levels below
  // `from`, and kIoError for a directory left incomplete by cancellation) go to
  // observer.MemberFailed; the copy carries on with the other members. Returns the status of
  // creating `to` itself.
  virtual Status CopyTree(const ResourcePath& from, const ResourcePath& to, bool with_members,
                          int max_depth, TreeObserver& observer) = 0;

  // Sets the modification time (ns since the epoch) without following symlinks.
  virtual Status SetModifiedTime(const ResourcePath& path, int64_t mtime_ns) = 0;

  // Space figures for quota properties (RFC 4331).
  virtual Result<SpaceInfo> Space() = 0;
};

}  // namespace keepdav::storage
