#include "server/authenticator.h"

#include <Poco/Logger.h>

#include "server/basic_credentials.h"

namespace keepdav::server {

namespace {

Poco::Logger& Log() {
  return Poco::Logger::get("keepdav.server");
}

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

CredentialCache::Options CacheOptions(const AuthSettings& settings) {
  CredentialCache::Options options;
  options.ttl_s = std::max<int64_t>(0, settings.cache_seconds);
  return options;
}

AuthFailureLimiter::Options LimiterOptions(const AuthSettings& settings) {
  AuthFailureLimiter::Options options;
  options.max_failures = settings.fail_limit;
  options.window_s = 60;
  return options;
}

}  // namespace

const char kRealm[] = "keepdav";

const std::string& Challenge() {
  static const std::string challenge = BasicCredentials::Challenge(kRealm);
  return challenge;
}

bool IsLoopbackAddress(const std::string& address) {
  // forwarded.h's parser stores IPv4-mapped addresses as IPv4, so ::ffff:127.x is 127.x here.
  std::optional<IpAddress> ip = IpAddress::Parse(address);
  if (!ip) return false;
  if (!ip->v6) return ip->bytes[0] == 127;  // 127.0.0.0/8
  static const std::array<uint8_t, 16> kLoopback6 = {0, 0, 0, 0, 0, 0, 0, 0,
                                                     0, 0, 0, 0, 0, 0, 0, 1};
  return ip->bytes == kLoopback6;  // ::1
}

Authenticator::Authenticator(const AuthSettings& settings, const storage::Clock& clock)
    : settings_(settings),
      cache_(clock, CacheOptions(settings)),
      limiter_(clock, LimiterOptions(settings)) {}

storage::Result<std::unique_ptr<Authenticator>> Authenticator::Create(const AuthSettings& settings,
                                                                      const storage::Clock& clock) {
  std::unique_ptr<Authenticator> authenticator(new Authenticator(settings, clock));
  if (!settings.users_file.empty()) {
    auto loaded = PasswordFile::Load(settings.users_file);
    if (!loaded.ok()) return loaded.status();
    authenticator->passwords_ = std::move(loaded).value();
  }
  authenticator->next_check_ns_ =
      SteadyNowNs() + std::chrono::nanoseconds(kReloadCheckInterval).count();
  return authenticator;
}

AuthDecision Authenticator::Unauthorized(std::string body) const {
  AuthDecision decision;
  decision.status = 401;
  decision.body = std::move(body);
  return decision;
}

AuthDecision Authenticator::Authenticate(const std::string& method,
                                         const std::string* authorization,
                                         const ClientOrigin& client) {
  AuthDecision decision;
  if (!enabled()) return decision;  // no --users: everyone is anonymous, as before issue 11
  MaybeReloadIfChanged();
  if (auto retry = limiter_.RetryAfterSeconds(client.address)) {
    decision.status = 429;
    decision.retry_after_s = *retry;
    decision.body = "too many failed logins from this address; try again later\n";
    return decision;
  }
  // Windows' mini-redirector sends OPTIONS without credentials first and gives up on a 401.
  if (method == "OPTIONS") return decision;
  // No credentials: served as anonymous. webdav's AccessPolicy decides (with --users and no
  // --access, AuthenticatedUsersOnly: anonymous may only send OPTIONS) and answers a denied
  // anonymous request with 401, which the response writer gives the Basic challenge.
  if (!authorization) return decision;
  // RFC 7617 §4: Basic sends the password in clear; over plain HTTP only from this machine.
  bool local = settings_.loopback_is_local && IsLoopbackAddress(client.address);
  if (!client.secure && !local && !settings_.allow_basic_over_http) {
    Log().warning("refused Basic credentials over plain HTTP from %s", client.address);
    decision.status = 403;
    decision.body =
        "Basic authentication over plain HTTP is refused: the password would travel in clear. "
        "Use HTTPS (or start keepdav with --allow-basic-over-http).\n";
    return decision;
  }
  auto credentials = BasicCredentials::Parse(*authorization);
  if (!credentials.ok()) {
    Log().information("bad Authorization header from %s: %s", client.address,
                      credentials.status().message());
    return Unauthorized("malformed Authorization header\n");
  }
  const BasicCredentials& c = credentials.value();
  if (cache_.Contains(c.user, c.password)) {
    decision.user = c.user;
    return decision;
  }
  ++verify_calls_;
  if (!passwords_->Verify(c.user, c.password)) {
    limiter_.RecordFailure(client.address);
    Log().warning("%s", AuthFailureLimiter::FailedLoginLogLine(c.user, client.address));
    return Unauthorized("wrong user name or password\n");
  }
  cache_.Insert(c.user, c.password);
  decision.user = c.user;
  return decision;
}

storage::Status Authenticator::Reload() {
  if (!enabled()) return storage::Status::Ok();
  storage::Status reloaded = passwords_->Reload();
  if (reloaded.ok()) {
    cache_.Clear();
    Log().information("reloaded %s: %z users", settings_.users_file, passwords_->UserCount());
  } else {
    Log().error("reloading the users failed, the old users stay: %s", reloaded.message());
  }
  return reloaded;
}

void Authenticator::MaybeReloadIfChanged() {
  if (!enabled()) return;
  int64_t now = SteadyNowNs();
  int64_t due = next_check_ns_.load();
  if (now < due) return;
  // One thread wins the check; the others go on with the users they have.
  if (!next_check_ns_.compare_exchange_strong(
          due, now + std::chrono::nanoseconds(kReloadCheckInterval).count())) {
    return;
  }
  bool reloaded = false;
  storage::Status status = passwords_->ReloadIfChanged(&reloaded);
  if (!status.ok()) {
    Log().error("%s changed but cannot be used, the old users stay: %s", settings_.users_file,
                status.message());
  } else if (reloaded) {
    cache_.Clear();
    Log().information("reloaded %s (changed): %z users", settings_.users_file,
                      passwords_->UserCount());
    if (on_changed_file_reloaded_) on_changed_file_reloaded_();
  }
}

}  // namespace keepdav::server
