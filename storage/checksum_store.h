// ChecksumStore: per-file checksums (SHA-1, MD5, SHA-256) for sync clients (issue 13: rclone's
// owncloud vendor, oc:checksums, Repr-Digest), kept so that they are computed once, not on every
// listing (the interface; SqliteChecksumStore in storage/sqlite/ is the implementation).
//
// A row is keyed by path and remembers the identity of the file it was computed from (inode,
// size, mtime and ctime in ns: clients can set mtime, ctime they cannot). Get() returns the
// sums only while the file still has that identity, so a file changed outside keepdav is never
// reported with a stale sum: the caller recomputes and Put()s again.
//
// Tree operations: DeleteTree for DELETE and an overwritten destination; MoveTree for MOVE (a
// rename keeps the inodes, so the sums below a moved collection stay valid). Note that Linux
// file systems update the ctime of a renamed inode itself, so after a MOVE of a single file its
// row no longer matches; a caller that wants to keep the sum re-Puts it with the new identity.
// There is no CopyTree: a copy is a new inode, so a copied row would never match anyway (and
// the sums of a copy are those of its source: the caller may Put them with the copy's identity).
//
// Ownership: the caller owns the store; an implementation does not own the database it is built
// over. Thread safety: every method may be called from any thread; each call is atomic.
// Errors: Get is kNotFound when there is no row or the stored identity differs; Put is
// kInvalidArgument for a sum that is not empty or lower-case hex of its digest's length;
// MoveTree is kInvalidArgument when the trees overlap; otherwise the errors of the backing
// database (kBusy, kNoSpace, kPermissionDenied, kIoError: see storage/database.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

// What identifies one version of a file's content without reading it.
struct FileIdentity {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // modification time, ns since the epoch
  int64_t ctime_ns = 0;  // inode change time, ns since the epoch (not settable by clients)

  bool operator==(const FileIdentity& o) const {
    return inode == o.inode && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
  }
  bool operator!=(const FileIdentity& o) const { return !(*this == o); }
};

// Lower-case hex digests; an empty one was not computed.
struct FileChecksums {
  std::string sha1;    // 40 hex digits
  std::string md5;     // 32 hex digits
  std::string sha256;  // 64 hex digits

  bool operator==(const FileChecksums& o) const {
    return sha1 == o.sha1 && md5 == o.md5 && sha256 == o.sha256;
  }
};

class ChecksumStore {
 public:
  virtual ~ChecksumStore() = default;

  // The sums stored for `path`, if they were computed from a file with `identity`; kNotFound
  // otherwise (no row, or the file changed since).
  virtual Result<FileChecksums> Get(const ResourcePath& path, const FileIdentity& identity) = 0;

  // Stores the sums of `path` computed from a file with `identity`, replacing any row of
  // `path` (whatever identity it had).
  virtual Status Put(const ResourcePath& path, const FileIdentity& identity,
                     const FileChecksums& sums) = 0;

  // Calls `visit` for the row of each direct member of collection `dir` (not `dir` itself, not
  // deeper rows), with the identity it was stored with, in one pass: a PROPFIND Depth 1 reads a
  // folder's sums with one query instead of one per member. The caller compares identities.
  virtual Status ForEachInMembers(
      const ResourcePath& dir,
      const std::function<void(std::string_view member_path, const FileIdentity& identity,
                               const FileChecksums& sums)>& visit) = 0;

  // Deletes the rows of `path` and everything below it.
  virtual Status DeleteTree(const ResourcePath& path) = 0;

  // Replaces the rows of `to` and everything below it by those of `from` and everything below
  // it, which go; identities are kept. kInvalidArgument when one contains the other; from == to
  // is a no-op.
  virtual Status MoveTree(const ResourcePath& from, const ResourcePath& to) = 0;
};

}  // namespace keepdav::storage
