#include "server/credential_cache.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace keepdav::server {

CredentialCache::CredentialCache(const storage::Clock& clock, Options options)
    : clock_(clock), options_(options) {
  if (RAND_bytes(hmac_key_, sizeof hmac_key_) != 1) {
    std::fprintf(stderr, "keepdav: OpenSSL RAND_bytes failed; cannot key the credential cache\n");
    std::abort();
  }
}

std::string CredentialCache::KeyFor(std::string_view user, std::string_view password) const {
  std::string message = std::to_string(user.size());
  message.push_back(':');
  message.append(user);
  message.append(password);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  HMAC(EVP_sha256(), hmac_key_, sizeof hmac_key_,
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
       &digest_length);
  OPENSSL_cleanse(message.data(), message.size());  // it holds the password
  return std::string(reinterpret_cast<const char*>(digest), digest_length);
}

bool CredentialCache::Contains(std::string_view user, std::string_view password) {
  if (options_.ttl_s <= 0) return false;
  const std::string key = KeyFor(user, password);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = expiry_.find(key);
  if (it == expiry_.end()) return false;
  if (clock_.Now() >= it->second) {
    expiry_.erase(it);
    return false;
  }
  return true;
}

void CredentialCache::Insert(std::string_view user, std::string_view password) {
  if (options_.ttl_s <= 0 || options_.max_entries == 0) return;
  const std::string key = KeyFor(user, password);
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t now = clock_.Now();
  if (expiry_.find(key) == expiry_.end() && expiry_.size() >= options_.max_entries) {
    for (auto it = expiry_.begin(); it != expiry_.end();) {
      it = now >= it->second ? expiry_.erase(it) : std::next(it);
    }
    if (expiry_.size() >= options_.max_entries) {
      auto soonest = expiry_.begin();
      for (auto it = expiry_.begin(); it != expiry_.end(); ++it) {
        if (it->second < soonest->second) soonest = it;
      }
      expiry_.erase(soonest);
    }
  }
  expiry_[key] = now + options_.ttl_s;
}

void CredentialCache::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  expiry_.clear();
}

size_t CredentialCache::Size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return expiry_.size();
}

}  // namespace keepdav::server
