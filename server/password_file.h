// PasswordFile: the users and password hashes of an htpasswd file, as Apache's `htpasswd` writes
// it: one `user:hash` per line; the user is everything before the first ':'. Blank lines and lines
// whose first non-blank character is '#' are skipped (Apache's ap_cfg_getline does the same).
// Trailing CR is ignored (files edited on Windows).
//
// Accepted hashes (verified through libxcrypt's crypt_r unless noted):
//   $2y$ / $2b$ / $2a$  bcrypt (htpasswd -B)
//   $5$ / $6$           SHA-256-crypt / SHA-512-crypt
//   $y$                 yescrypt
//   $apr1$              Apache's MD5 (htpasswd -m, the default) — implemented here, libxcrypt
//                       has no apr1
//   {SHA}               base64 of SHA-1 (htpasswd -s)
// Refused at load with the line number (Status kInvalidArgument): plain text and DES crypt
// (htpasswd -p / -d) — both are trivially recovered — and anything unrecognised, duplicate users
// and empty user names. Loading checks each crypt hash's shape and cost without running it, and
// refuses costs no login can afford: bcrypt above 17 (htpasswd -C's highest), SHA-crypt above
// rounds=10000000, yescrypt needing more than 1 GiB. Comparisons of computed against stored hashes
// are constant-time (CRYPTO_memcmp).
//
// Reload(): reads the file again; on any error the users already loaded stay in force and the
// error is returned. ReloadIfChanged() does so only when (mtime, size, inode) differ from the last
// successful load, and returns whether it reloaded.
//
// Thread-safe: Verify() and HasUser() read an immutable snapshot through an atomically swapped
// shared_ptr, so lookups proceed while a reload parses the new file.
//
// Wired by server/authenticator.h (issue 11), which runs the whole pipeline per request.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace keepdav::server {

class PasswordFile {
 public:
  // Loads `path`; the error names the path and line.
  static storage::Result<std::unique_ptr<PasswordFile>> Load(const std::string& path);

  // Parses file contents (also used by the fuzz target); `origin` names the file in errors.
  static storage::Result<std::map<std::string, std::string>> Parse(std::string_view contents,
                                                                   const std::string& origin);

  // True when `user` exists and `password` matches its hash.
  bool Verify(std::string_view user, std::string_view password) const;
  bool HasUser(std::string_view user) const;
  size_t UserCount() const;

  storage::Status Reload();
  // True in `*reloaded` only when the file changed and the new contents were loaded.
  storage::Status ReloadIfChanged(bool* reloaded);

 private:
  struct Identity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    struct timespec mtime = {0, 0};
    bool operator==(const Identity& other) const;
  };
  using Users = std::map<std::string, std::string>;

  explicit PasswordFile(std::string path) : path_(std::move(path)) {}
  storage::Status ReadFile(std::shared_ptr<const Users>* users, Identity* identity) const;
  std::shared_ptr<const Users> Snapshot() const;

  const std::string path_;
  mutable std::mutex mutex_;  // guards users_ and identity_ (the pointer, not the map)
  std::shared_ptr<const Users> users_;
  Identity identity_;
  std::mutex reload_mutex_;  // one reload at a time
};

// Apache's $apr1$ MD5 crypt of `password` with the salt of `setting` ("$apr1$<salt>[$...]").
// Returns the full "$apr1$salt$hash" string, or "" when `setting` is not an apr1 setting.
std::string Apr1Crypt(std::string_view password, std::string_view setting);

// True when `password` matches the stored htpasswd `hash` (any accepted scheme above).
bool VerifyPasswordHash(std::string_view password, const std::string& hash);

}  // namespace keepdav::server
