// ChecksumCache: the sums of a file as sync clients ask for them (oc:checksums, Repr-Digest):
// the stored ones while the file keeps the identity they were computed from, else computed once
// (one read of the whole file, FileChecksummer) and stored for the next time.
//
// A file changed outside keepdav is never reported with a stale sum: a stored row only counts
// for the identity (inode, size, mtime, ctime) it was computed from, and a freshly computed sum is
// stored only if the file still has, after the read, the identity it had when opened (a file
// written in place meanwhile gets its sum returned for this request, not stored).
//
// A listing reads a folder's stored sums with Members(): one store query per folder, kept in
// memory as an immutable snapshot that the next listings of that folder share, up to
// `max_cached_rows` rows in all (least recently listed folders go first; 0: none kept, every
// listing queries the store). A snapshot can only be incomplete, never wrong: each of its rows
// counts for the identity it was computed from, as in the store, so a caller compares the file's
// identity and falls back to Stored()/Get() for a file the snapshot has no valid row for. A
// snapshot is dropped when this instance stores sums in that folder, and when such a fallback
// finds a row in the store that the snapshot lacks (written by another instance on the same
// database since it was read), and by DeleteTree and MoveTree for every folder they change, so
// the next listing reads it again. A snapshot read while such a drop happened serves its own
// listing but is not kept. On a database that other instances write too, a snapshot older than
// `max_snapshot_age` is read again anyway, for the rows they added where this one lists without
// computing (its budget spent, or 0); alone on its database (SQLite), nothing else writes rows,
// and snapshots have no age.
//
// Ownership: works on a FileSystem and a ChecksumStore the caller owns, which must outlive it.
// Thread-safe (both are, and the snapshots are behind a mutex); two requests may compute the
// same file at once, and both store the same sums. Errors: those of OpenRead (kNotFound,
// kIsADirectory) and of the read (kIoError); a Put that fails after a computation is not an error
// (the sums are returned, and computed again next time); Remember returns the Put's status.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/checksum_store.h"
#include "storage/file_system.h"
#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

// The stored rows of one folder's direct members, keyed by inode (unique within a folder;
// hard links share their content). Immutable once built.
class MemberChecksums {
 public:
  struct Row {
    FileIdentity identity;
    FileChecksums sums;
  };
  // The sums of the member with `identity`'s inode if they were computed from exactly that
  // identity; null otherwise.
  const FileChecksums* Find(const FileIdentity& identity) const {
    auto it = rows_.find(identity.inode);
    return it == rows_.end() || it->second.identity != identity ? nullptr : &it->second.sums;
  }
  size_t size() const { return rows_.size(); }

 private:
  friend class ChecksumCache;
  std::unordered_map<uint64_t, Row> rows_;
};

class ChecksumCache {
 public:
  static constexpr size_t kDefaultMaxCachedRows = 50000;

  // `max_snapshot_age` 0: no limit.
  ChecksumCache(FileSystem& fs, ChecksumStore& store,
                size_t max_cached_rows = kDefaultMaxCachedRows,
                std::chrono::seconds max_snapshot_age = std::chrono::seconds(0))
      : fs_(fs),
        store_(store),
        max_cached_rows_(max_cached_rows),
        max_snapshot_age_(max_snapshot_age) {}

  // The stored sums of collection `dir`'s direct members: the cached snapshot, else one
  // ForEachInMembers of the store (kept if it fits). The store's error if that fails.
  Result<std::shared_ptr<const MemberChecksums>> Members(const ResourcePath& dir);

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

  // The store's DeleteTree and MoveTree, forgetting the snapshots of every folder they change
  // (a snapshot of a moved-onto folder would otherwise lack the rows that came with the move).
  Status DeleteTree(const ResourcePath& path);
  Status MoveTree(const ResourcePath& from, const ResourcePath& to);

 private:
  // Forgets the snapshot of `path`'s folder; with `unless_it_has`, only if that snapshot has no
  // row for it (a row the store has that the snapshot lacks makes it stale).
  void DropFolderOf(const ResourcePath& path, const FileIdentity* unless_it_has = nullptr);
  // Forgets the snapshots of `path`'s folder, of `path` and of every folder below it.
  void DropTree(const ResourcePath& path);

  FileSystem& fs_;
  ChecksumStore& store_;
  const size_t max_cached_rows_;
  const std::chrono::seconds max_snapshot_age_;

  struct Folder {
    std::shared_ptr<const MemberChecksums> members;
    std::chrono::steady_clock::time_point read_at;
    std::list<std::string>::iterator lru;  // its place in lru_ (front: listed most recently)
  };
  std::mutex mutex_;
  using Folders = std::unordered_map<std::string, Folder>;
  void DropLocked(Folders::iterator it);  // with mutex_ held
  Folders folders_;                       // by ResourcePath string
  std::list<std::string> lru_;
  size_t cached_rows_ = 0;
  uint64_t drops_ = 0;  // changes seen (DropFolderOf, DropTree), cached or not
};

}  // namespace keepdav::storage
