// CheckChecksumsHex: the check every ChecksumStore::Put makes before it writes (the contract in
// storage/checksum_store.h: each sum is empty, not computed, or lower-case hex of its digest's
// length), shared by the SQLite and PostgreSQL stores.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "storage/checksum_store.h"
#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

// "" (not computed) or exactly `digits` lower-case hex digits.
inline bool IsHexOrEmpty(std::string_view sum, size_t digits) {
  if (sum.empty()) return true;
  if (sum.size() != digits) return false;
  for (char c : sum) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Ok, or kInvalidArgument naming `path` when a sum of `sums` is neither empty nor lower-case
// hex of its length (SHA-1 40 digits, MD5 32, SHA-256 64).
inline Status CheckChecksumsHex(const ResourcePath& path, const FileChecksums& sums) {
  if (!IsHexOrEmpty(sums.sha1, 40) || !IsHexOrEmpty(sums.md5, 32) ||
      !IsHexOrEmpty(sums.sha256, 64)) {
    return Status::InvalidArgument("checksums of " + path.str() + " are not lower-case hex");
  }
  return Status::Ok();
}

}  // namespace keepdav::storage
