#include "storage/checksum_cache.h"

#include "storage/file_checksummer.h"

namespace keepdav::storage {

Result<FileChecksums> ChecksumCache::Stored(const ResourcePath& path, const FileInfo& info) {
  return store_.Get(path, IdentityOf(info));
}

Result<FileChecksums> ChecksumCache::Get(const ResourcePath& path, const FileInfo& info,
                                         uint64_t* bytes_read) {
  if (bytes_read) *bytes_read = 0;
  Result<FileChecksums> stored = store_.Get(path, IdentityOf(info));
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
    (void)store_.Put(path, IdentityOf(opened), sums.value());
  }
  return sums;
}

Status ChecksumCache::Remember(const ResourcePath& path, const FileChecksums& sums) {
  Result<FileInfo> info = fs_.Stat(path);
  if (!info.ok()) return info.status();
  if (!info->IsFile()) return Status::WithCode(StatusCode::kIsADirectory, path.str());
  return store_.Put(path, IdentityOf(info.value()), sums);
}

}  // namespace keepdav::storage
