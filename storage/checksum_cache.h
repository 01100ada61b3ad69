// ChecksumCache: the sums of a file as sync clients ask for them (oc:checksums, Repr-Digest):
// the stored ones while the file keeps the identity they were computed from, else computed once
// (one read of the whole file, FileChecksummer) and stored for the next time.
//
// A file changed outside keepdav is never reported with a stale sum: a stored row only counts
// for the identity (inode, size, mtime, ctime) it was computed from, and a freshly computed sum is
// stored only if the file still has, after the read, the identity it had when opened (a file
// written in place meanwhile gets its sum returned for this request, not stored).
//
// Ownership: works on a FileSystem and a ChecksumStore the caller owns, which must outlive it.
// Thread-safe (both are); two requests may compute the same file at once, and both store the
// same sums. Errors: those of OpenRead (kNotFound, kIsADirectory) and of the read (kIoError); a
// Put that fails after a computation is not an error (the sums are returned, and computed again
// next time); Remember returns the Put's status.
#pragma once

#include <cstdint>

#include "storage/checksum_store.h"
#include "storage/file_system.h"
#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

class ChecksumCache {
 public:
  ChecksumCache(FileSystem& fs, ChecksumStore& store) : fs_(fs), store_(store) {}

  // The stored sums of the file `path` whose figures are `info`; kNotFound when none are stored
  // for exactly that identity (no read).
  Result<FileChecksums> Stored(const ResourcePath& path, const FileInfo& info);

  // The sums of the file `path`: the stored ones if they match `info`, else computed and stored.
  // kNotFound when the file opened is no longer the one `info` describes (it changed meanwhile).
  // `bytes_read` (may be null) gets how many bytes computing them read (0 when stored).
  Result<FileChecksums> Get(const ResourcePath& path, const FileInfo& info,
                            uint64_t* bytes_read = nullptr);

  // Stores `sums` for the file now at `path` (a COPY's destination, a MOVE's new name: the same
  // content under a new identity). Stats it first; kNotFound if it is gone, kIsADirectory.
  Status Remember(const ResourcePath& path, const FileChecksums& sums);

  // The store itself, for the tree operations (DeleteTree, MoveTree).
  ChecksumStore& store() { return store_; }

 private:
  FileSystem& fs_;
  ChecksumStore& store_;
};

}  // namespace keepdav::storage
