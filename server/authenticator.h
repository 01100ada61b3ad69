// Authenticator: who sent a request (issue 11). One place for the whole authentication pipeline,
// run by DavRequestHandler for every request before DAV dispatch:
//
//   1. the client address is blocked by AuthFailureLimiter      -> 429 + Retry-After
//   2. OPTIONS                                                   -> passes, user "" (Windows'
//      mini-redirector sends OPTIONS first and gives up on a 401; CORS preflights carry none)
//   3. no Authorization header                                   -> anonymous, user ""
//      (webdav's AccessPolicy decides; a denied anonymous request is 401 + challenge there)
//   4. Basic over plain HTTP from a non-loopback client          -> 403 with a clear body, unless
//      --allow-basic-over-http or a trusted proxy says the client used HTTPS (ClientOrigin)
//   5. BasicCredentials::Parse fails                             -> 401 + challenge
//   6. CredentialCache::Contains -> user; else PasswordFile::Verify: failure -> RecordFailure, the
//      fail2ban log line, 401 + challenge; success -> Insert into the cache, user set.
//
// The WWW-Authenticate challenge itself is added by WireResponseSink to every 401 the server
// sends (so webdav's 401s for a denied anonymous request carry it too): kChallenge.
//
// Without --users the authenticator is disabled: every request passes as anonymous, as before
// issue 11. With --users the password file is loaded in Create() (an error names file:line, and
// the app exits 78); Reload() re-reads it (SIGHUP) and MaybeReloadIfChanged() does so when its
// mtime changed, at most once every kReloadCheckInterval; a successful reload clears the
// credential cache (a changed or removed password stops working at once), a bad new file keeps
// the old users and logs why.
//
// Thread-safe: Authenticate runs on many connection threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "server/auth_failure_limiter.h"
#include "server/credential_cache.h"
#include "server/forwarded.h"
#include "server/password_file.h"
#include "storage/clock.h"
#include "storage/status.h"

namespace keepdav::server {

// The realm is fixed: nothing in issue 11 needs another, and one constant keeps every 401 alike.
extern const char kRealm[];
// `Basic realm="keepdav", charset="UTF-8"`.
const std::string& Challenge();

struct AuthSettings {
  std::string users_file;  // htpasswd; empty: no authentication
  int64_t cache_seconds = 300;
  int fail_limit = 10;  // failures per minute per address before 429
  bool allow_basic_over_http = false;
  // Test seam: whether 127.0.0.0/8 and ::1 count as local for rule 4 (tests set false to see the
  // refusal over the loopback interface they have).
  bool loopback_is_local = true;
};

// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback.
bool IsLoopbackAddress(const std::string& address);

// The outcome for one request: status 0 = serve it as `user` ("" = anonymous).
struct AuthDecision {
  int status = 0;
  std::string user;
  int64_t retry_after_s = 0;  // 429 only
  std::string body;           // text/plain body of a refusal (may be empty)
};

class Authenticator {
 public:
  // Loads the password file when `settings.users_file` is set. The clock must outlive it.
  static storage::Result<std::unique_ptr<Authenticator>> Create(const AuthSettings& settings,
                                                                const storage::Clock& clock);

  bool enabled() const { return passwords_ != nullptr; }
  size_t UserCount() const { return passwords_ ? passwords_->UserCount() : 0; }
  // Whether the users file names `user` (false when disabled).
  bool HasUser(const std::string& user) const { return passwords_ && passwords_->HasUser(user); }

  // `authorization`: the Authorization header, null when absent. `client`: the client's address
  // and whether it used HTTPS, after trusted-proxy resolution (server/forwarded.h).
  AuthDecision Authenticate(const std::string& method, const std::string* authorization,
                            const ClientOrigin& client);

  // Re-reads the password file (SIGHUP). OK also when disabled. On success the cache is cleared;
  // on error the old users stay and the error is returned (and logged).
  storage::Status Reload();
  // Reloads when the file changed, checking at most once per kReloadCheckInterval.
  void MaybeReloadIfChanged();
  // Called (on the request's thread) after MaybeReloadIfChanged loaded a changed file. Set it
  // before serving; not thread-safe.
  void set_on_changed_file_reloaded(std::function<void()> f) {
    on_changed_file_reloaded_ = std::move(f);
  }

  // Counts PasswordFile::Verify calls (the cache test checks a hit skips them).
  uint64_t verify_calls() const { return verify_calls_.load(); }

  static constexpr std::chrono::seconds kReloadCheckInterval{2};

 private:
  Authenticator(const AuthSettings& settings, const storage::Clock& clock);
  AuthDecision Unauthorized(std::string body) const;

  const AuthSettings settings_;
  std::unique_ptr<PasswordFile> passwords_;
  CredentialCache cache_;
  AuthFailureLimiter limiter_;
  std::atomic<int64_t> next_check_ns_{0};
  std::atomic<uint64_t> verify_calls_{0};
  std::function<void()> on_changed_file_reloaded_;
};

}  // namespace keepdav::server
