// FileChecksummer: SHA-1, MD5 and SHA-256 of one stream of bytes in one pass (OpenSSL's EVP
// digests from libcrypto), for the ChecksumStore (checksum_store.h): what rclone's owncloud
// vendor reads from oc:checksums (SHA-1, MD5) and what RFC 9530's Repr-Digest registers (sha-256).
// ChecksumsOf reads a whole open file through it.
//
// Not thread-safe: one per computation. Errors: kIoError when OpenSSL cannot set up or finish a
// digest (out of memory, or a FIPS provider that refuses MD5); ChecksumsOf also the read errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "storage/checksum_store.h"
#include "storage/file_system.h"
#include "storage/status.h"

namespace keepdav::storage {

class FileChecksummer {
 public:
  FileChecksummer();
  ~FileChecksummer();
  FileChecksummer(const FileChecksummer&) = delete;
  FileChecksummer& operator=(const FileChecksummer&) = delete;

  // Adds `len` bytes. After an error, the remaining calls do nothing and Finish reports it.
  void Update(const char* data, size_t len);
  // The lower-case hex digests of everything added. REQUIRES: called once.
  Result<FileChecksums> Finish();

 private:
  struct Digests;
  std::unique_ptr<Digests> digests_;
  bool failed_ = false;
};

// The sums of `file`'s `size` bytes, read in 1 MiB pieces; kIoError when the file ends early
// (it changed while being read).
Result<FileChecksums> ChecksumsOf(ReadableFile& file, uint64_t size);

// The identity a file's sums are stored under (checksum_store.h).
inline FileIdentity IdentityOf(const FileInfo& info) {
  return FileIdentity{info.inode, info.size, info.mtime_ns, info.ctime_ns};
}

}  // namespace keepdav::storage
