#include "storage/file_checksummer.h"

#include <openssl/evp.h>

#include <string>
#include <vector>

namespace keepdav::storage {

namespace {

struct ContextDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Context = std::unique_ptr<EVP_MD_CTX, ContextDeleter>;

std::string Hex(const unsigned char* digest, unsigned int len) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

struct FileChecksummer::Digests {
  Context sha1{EVP_MD_CTX_new()};
  Context md5{EVP_MD_CTX_new()};
  Context sha256{EVP_MD_CTX_new()};
};

FileChecksummer::FileChecksummer() : digests_(std::make_unique<Digests>()) {
  failed_ = !digests_->sha1 || !digests_->md5 || !digests_->sha256 ||
            EVP_DigestInit_ex(digests_->sha1.get(), EVP_sha1(), nullptr) != 1 ||
            EVP_DigestInit_ex(digests_->md5.get(), EVP_md5(), nullptr) != 1 ||
            EVP_DigestInit_ex(digests_->sha256.get(), EVP_sha256(), nullptr) != 1;
}

FileChecksummer::~FileChecksummer() = default;

void FileChecksummer::Update(const char* data, size_t len) {
  if (failed_ || len == 0) return;
  failed_ = EVP_DigestUpdate(digests_->sha1.get(), data, len) != 1 ||
            EVP_DigestUpdate(digests_->md5.get(), data, len) != 1 ||
            EVP_DigestUpdate(digests_->sha256.get(), data, len) != 1;
}

Result<FileChecksums> FileChecksummer::Finish() {
  if (failed_) return Status::IoError("checksum: OpenSSL digest failed");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  FileChecksums sums;
  for (auto [ctx, out] :
       {std::pair{digests_->sha1.get(), &sums.sha1}, std::pair{digests_->md5.get(), &sums.md5},
        std::pair{digests_->sha256.get(), &sums.sha256}}) {
    if (EVP_DigestFinal_ex(ctx, digest, &len) != 1) {
      return Status::IoError("checksum: OpenSSL digest failed");
    }
    *out = Hex(digest, len);
  }
  return sums;
}

Result<FileChecksums> ChecksumsOf(ReadableFile& file, uint64_t size) {
  constexpr size_t kPiece = 1 << 20;
  std::vector<char> buf(kPiece);
  FileChecksummer summer;
  uint64_t offset = 0;
  while (offset < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kPiece, size - offset));
    Result<size_t> n = file.ReadAt(offset, buf.data(), want);
    if (!n.ok()) return n.status();
    if (*n == 0) return Status::IoError("checksum: the file ended early (it changed meanwhile)");
    summer.Update(buf.data(), *n);
    offset += *n;
  }
  return summer.Finish();
}

}  // namespace keepdav::storage
