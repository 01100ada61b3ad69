// CredentialCache: remembers for `ttl_s` seconds that a (user, password) pair was verified, so
// that a client sending Basic credentials on every request does not pay a bcrypt/yescrypt
// verification (tens of milliseconds) each time.
//
// The password is never stored: an entry is keyed by HMAC-SHA-256(per-process random key,
// len(user) ":" user password), the key drawn from OpenSSL's RAND_bytes at construction, so a
// memory dump reveals neither passwords nor a hash that can be attacked offline without the key.
// The length prefix makes ("ab","c") and ("a","bc") different keys. Keys are compared as whole
// map keys (no early-out on a secret: the HMAC output is not guessable by a remote client).
//
// Bounded: at most `max_entries`; when full, expired entries are dropped, then the entry closest
// to expiry. Clear() drops everything: call it whenever the password file is reloaded (a changed
// or removed password must stop working at once).
//
// Wired by server/authenticator.h (issue 11), which runs the whole pipeline per request.
//
// Thread-safe (one mutex); the Clock must outlive the cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/clock.h"

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX

namespace keepdav::server {

class CredentialCache {
 public:
  struct Options {
    int64_t ttl_s = 60;         // how long a verified pair is trusted; 0 disables the cache
    size_t max_entries = 1024;  // entries held at once
  };

  // Aborts if OpenSSL cannot produce random bytes (no safe way to continue).
  CredentialCache(const storage::Clock& clock, Options options);
  ~CredentialCache();
  CredentialCache(const CredentialCache&) = delete;
  CredentialCache& operator=(const CredentialCache&) = delete;

  // True when this exact pair was Insert()ed less than ttl_s seconds ago and not Clear()ed since.
  bool Contains(std::string_view user, std::string_view password);

  // Records a pair that was just verified against the password file.
  void Insert(std::string_view user, std::string_view password);

  void Clear();
  size_t Size() const;

 private:
  std::string KeyFor(std::string_view user, std::string_view password) const;

  const storage::Clock& clock_;
  const Options options_;
  unsigned char hmac_key_[32];
  evp_mac_ctx_st* keyed_ = nullptr;  // HMAC-SHA-256 keyed with hmac_key_; copied per call
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int64_t> expiry_;  // HMAC -> first second it is no longer valid
};

}  // namespace keepdav::server
