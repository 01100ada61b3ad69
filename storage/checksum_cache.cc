#include "storage/checksum_cache.h"

#include "storage/file_checksummer.h"

namespace keepdav::storage {

Result<std::shared_ptr<const MemberChecksums>> ChecksumCache::Members(const ResourcePath& dir) {
  if (max_cached_rows_ > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = folders_.find(dir.str());
    if (it != folders_.end() &&
        (max_snapshot_age_.count() == 0 ||
         std::chrono::steady_clock::now() - it->second.read_at < max_snapshot_age_)) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.members;
    }
  }
  // Read outside the mutex: other folders' listings go on meanwhile. Two listings of one folder
  // may both read it; the second snapshot replaces the first. One that a drop came after (a row
  // stored meanwhile may be missing from it) serves this listing only.
  const auto read_at = std::chrono::steady_clock::now();
  uint64_t drops_before;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    drops_before = drops_;
  }
  auto members = std::make_shared<MemberChecksums>();
  Status s = store_.ForEachInMembers(
      dir, [&](std::string_view, const FileIdentity& identity, const FileChecksums& sums) {
        members->rows_.emplace(identity.inode, MemberChecksums::Row{identity, sums});
      });
  if (!s.ok()) return s;
  std::shared_ptr<const MemberChecksums> snapshot = std::move(members);
  const size_t rows = snapshot->size();
  if (rows == 0 || rows > max_cached_rows_) return snapshot;
  std::lock_guard<std::mutex> lock(mutex_);
  if (drops_ != drops_before) return snapshot;
  auto [it, inserted] = folders_.try_emplace(dir.str());
  if (inserted) {
    lru_.push_front(dir.str());
    it->second.lru = lru_.begin();
  } else {
    cached_rows_ -= it->second.members->size();
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  it->second.members = snapshot;
  it->second.read_at = read_at;
  cached_rows_ += rows;
  while (cached_rows_ > max_cached_rows_) {
    DropLocked(folders_.find(lru_.back()));
  }
  return snapshot;
}

void ChecksumCache::DropFolderOf(const ResourcePath& path, const FileIdentity* unless_it_has) {
  if (max_cached_rows_ == 0 || path.IsRoot()) return;
  const ResourcePath folder = path.Parent();
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = folders_.find(folder.str());
  if (it != folders_.end() && unless_it_has && it->second.members->Find(*unless_it_has)) return;
  ++drops_;  // also when nothing is cached yet: a snapshot being read may lack the change
  if (it != folders_.end()) DropLocked(it);
}

void ChecksumCache::DropLocked(Folders::iterator it) {
  cached_rows_ -= it->second.members->size();
  lru_.erase(it->second.lru);
  folders_.erase(it);
}

void ChecksumCache::DropTree(const ResourcePath& path) {
  if (max_cached_rows_ == 0) return;
  DropFolderOf(path);
  const std::string& top = path.str();
  std::lock_guard<std::mutex> lock(mutex_);
  ++drops_;
  for (auto it = folders_.begin(); it != folders_.end();) {
    const std::string& folder = it->first;
    const bool below = path.IsRoot() || folder == top ||
                       (folder.size() > top.size() && folder.compare(0, top.size(), top) == 0 &&
                        folder[top.size()] == '/');
    if (below) {
      auto next = std::next(it);
      DropLocked(it);
      it = next;
    } else {
      ++it;
    }
  }
}

Status ChecksumCache::DeleteTree(const ResourcePath& path) {
  Status s = store_.DeleteTree(path);
  DropTree(path);
  return s;
}

Status ChecksumCache::MoveTree(const ResourcePath& from, const ResourcePath& to) {
  Status s = store_.MoveTree(from, to);
  DropTree(from);
  DropTree(to);
  return s;
}

Result<FileChecksums> ChecksumCache::Stored(const ResourcePath& path, const FileInfo& info) {
  const FileIdentity identity = IdentityOf(info);
  Result<FileChecksums> stored = store_.Get(path, identity);
  if (stored.ok()) DropFolderOf(path, &identity);
  return stored;
}

Result<FileChecksums> ChecksumCache::Get(const ResourcePath& path, const FileInfo& info,
                                         uint64_t* bytes_read) {
  if (bytes_read) *bytes_read = 0;
  Result<FileChecksums> stored = Stored(path, info);
  if (stored.ok()) return stored;
  auto file = fs_.OpenRead(path);
  if (!file.ok()) return file.status();
  // The opened file's own figures: another version than `info` (replaced or written since the
  // caller looked) would give sums that do not go with the size and ETag the caller reports.
  const FileInfo opened = file.value()->info();
  if (IdentityOf(opened) != IdentityOf(info)) {
    return Status::NotFound(path.str() + " changed while its checksums were asked for");
  }
  Result<FileChecksums> sums = ChecksumsOf(*file.value(), opened.size);
  if (!sums.ok()) return sums.status();
  if (bytes_read) *bytes_read = opened.size;
  Result<FileInfo> after = fs_.Stat(path);
  if (after.ok() && IdentityOf(after.value()) == IdentityOf(opened)) {
    // A failed Put (a busy or full database) costs a recomputation next time, nothing else.
    if (store_.Put(path, IdentityOf(opened), sums.value()).ok()) DropFolderOf(path);
  }
  return sums;
}

Status ChecksumCache::Remember(const ResourcePath& path, const FileChecksums& sums) {
  Result<FileInfo> info = fs_.Stat(path);
  if (!info.ok()) return info.status();
  if (!info->IsFile()) return Status::WithCode(StatusCode::kIsADirectory, path.str());
  Status s = store_.Put(path, IdentityOf(info.value()), sums);
  DropFolderOf(path);
  return s;
}

}  // namespace keepdav::storage
