#include "server/dav_server.h"

#include <Poco/DigestEngine.h>
#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/NumberFormatter.h>
#include <Poco/Path.h>
#include <Poco/SHA1Engine.h>
#include <Poco/ThreadPool.h>

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "server/access_log.h"
#include "server/client_connection_limit.h"
#include "server/dav_handler_factory.h"
#include "server/forwarded.h"
#include "server/http_adapter.h"
#include "server/listener.h"
#include "server/stores.h"
#include "server/tls_context.h"
#include "server/tsan_annotations.h"
#include "storage/clock.h"
#include "storage/fault_injecting_file_system.h"
#include "storage/posix/upload_leftovers.h"
#include "storage/posix_file_system.h"
#include "webdav/access_rules.h"
#include "webdav/start_up_recovery.h"

namespace keepdav::server {

std::string DefaultDatabasePath(const std::string& absolute_root) {
  const char* state = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  std::string dir = state && *state ? std::string(state)
                                    : std::string(home && *home ? home : "/tmp") + "/.local/state";
  Poco::SHA1Engine sha;
  sha.update(absolute_root);
  std::string digest = Poco::DigestEngine::digestToHex(sha.digest()).substr(0, 16);
  std::string name = Poco::Path(absolute_root).getFileName();
  if (name.empty()) name = "root";
  return dir + "/keepdav/" + name + "-" + digest + ".sqlite";
}

namespace {

// A [user NAME] section for a name --users lacks has no effect: a typo, or a user removed from
// one file and not the other. Warned about with the section's line, never refused (the users
// file may gain the user later, and is re-read by itself). `sections`: name and line of each.
void WarnAboutUnknownUsers(const ServerConfig& config,
                           const std::vector<std::pair<std::string, int>>& sections,
                           const Authenticator& authenticator) {
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  for (const auto& [user, line] : sections) {
    if (!authenticator.enabled()) {
      log.warning("%s:%d: [user %s] has no effect: without --users nobody is authenticated",
                  config.access_file, line, user);
    } else if (!authenticator.HasUser(user)) {
      log.warning("%s:%d: user '%s' is not in --users %s; the section has no effect until it is",
                  config.access_file, line, user, config.auth.users_file);
    }
  }
}

// The policy of --access (or the built-in one, see ServerConfig::access_file). A bad file, or a
// root that is not a folder inside --root, ends the start-up with the file's name and line.
// `*sections`: the [user NAME] sections' names and lines (for WarnAboutUnknownUsers).
storage::Result<std::unique_ptr<webdav::AccessPolicy>> LoadAccessPolicy(
    const ServerConfig& config, storage::FileSystem& fs, const Authenticator& authenticator,
    std::vector<std::pair<std::string, int>>* sections) {
  sections->clear();
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  if (config.access_file.empty()) {
    return std::make_unique<webdav::AccessPolicy>(
        !config.auth.users_file.empty() ? webdav::AccessPolicy::AuthenticatedUsersOnly()
                                        : webdav::AccessPolicy::AllowAll());
  }
  webdav::AccessRules rules;
  storage::Status s = webdav::LoadAccessRules(config.access_file, &rules);
  if (!s.ok()) return s;
  auto policy = std::make_unique<webdav::AccessPolicy>(webdav::AccessPolicy::FromRules(rules));
  for (const auto& [who, root] : policy->Roots()) {
    auto info = fs.Stat(root);
    if (!info.ok() || !info->IsDirectory()) {
      return storage::Status::InvalidArgument(config.access_file + ": the root " + root.str() +
                                              " of " + who + " is not a folder inside --root");
    }
  }
  log.information("access rules from %s: %z user section(s)", config.access_file,
                  rules.users.size());
  for (const auto& [user, section] : rules.users) sections->emplace_back(user, section.line);
  WarnAboutUnknownUsers(config, *sections, authenticator);
  return policy;
}

}  // namespace

// How long a listing's checksum snapshot is trusted on a shared (PostgreSQL) database, where other
// instances store sums it cannot see (storage/checksum_cache.h).
constexpr int kSharedChecksumSnapshotAgeS = 30;

storage::Result<std::unique_ptr<DavServer>> DavServer::Create(ServerConfig config) {
  std::unique_ptr<DavServer> server(new DavServer());
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  try {
    server->root_ = Poco::Path(config.root).absolute().toString();
    if (server->root_.size() > 1 && server->root_.back() == '/') server->root_.pop_back();
    if (!IsPostgresUri(config.db_path)) {
      std::string db = config.db_path.empty() ? DefaultDatabasePath(server->root_) : config.db_path;
      server->db_path_ = Poco::Path(db).absolute().toString();
      Poco::File(Poco::Path(server->db_path_).parent()).createDirectories();
    }
  } catch (const Poco::Exception& e) {
    return storage::Status::InvalidArgument(e.displayText());
  }
  // HTTPS: the certificate and key are loaded and checked before anything else starts, so a bad
  // file ends the start-up with its name (the app exits 78).
  TrustedProxies trusted;
  storage::Status proxies = TrustedProxies::Parse(config.trusted_proxies, &trusted);
  if (!proxies.ok()) return proxies;
  auto tls = TlsContextForOptions(config.tls_cert, config.tls_key);
  if (!tls.ok()) return tls.status();
  server->tls_ = std::move(tls).value();
  storage::PosixFileSystem::Options fs_options;
  fs_options.fsync_on_commit = config.fsync;
  fs_options.open_file_cache = static_cast<size_t>(std::max(0, config.open_file_cache));
  fs_options.tree_threads = std::max(1, config.tree_threads);
  const std::string& root = server->root_;
  const std::string& db_path = server->db_path_;
  if (!db_path.empty() && db_path.compare(0, root.size() + 1, root + "/") == 0) {
    // A database inside the served root must never be listed or served.
    std::string rel = db_path.substr(root.size() + 1);
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      fs_options.hidden.insert(rel + suffix);
    }
    log.warning("the database %s lies inside the served root; it is hidden from clients", db_path);
  }
  auto fs = storage::PosixFileSystem::Open(root, fs_options);
  if (!fs.ok()) return fs.status();
  server->clock_ = std::make_unique<storage::SystemClock>();
  StoreSettings store_settings;
  store_settings.db = config.db_path;
  store_settings.pool_size = config.db_pool_size;
  store_settings.instance_id = config.instance_id;
  store_settings.lease_s = config.instance_lease_s;
  auto stores = Stores::Open(store_settings, db_path, config.port, *server->clock_);
  if (!stores.ok()) return stores.status();
  server->fs_ = std::move(fs.value());
  server->stores_ = std::move(stores).value();
  if (config.test_delay_us > 0) {
    log.warning(
        "--test-delay-us=%d: every copy, removal and listed member is slowed down (a "
        "testing aid, not for production)",
        config.test_delay_us);
    using Op = storage::FaultInjectingFileSystem::Operation;
    auto slowed = std::make_unique<storage::FaultInjectingFileSystem>(std::move(server->fs_));
    for (Op op : {Op::kCopyFile, Op::kCopyFileNew, Op::kRemove, Op::kList}) {
      slowed->SetDelay(op, std::chrono::microseconds(config.test_delay_us));
    }
    server->fs_ = std::move(slowed);
  }
  if (config.wrap_file_system) server->fs_ = config.wrap_file_system(std::move(server->fs_));
  auto policy = ProcessingPolicy::Create(config.processing.mode, config.processing.client_rules,
                                         config.processing.max_per_request);
  if (!policy.ok()) return policy.status();
  // Also with --processing=never: long operations still run on a worker that notices a client
  // hanging up, and are logged.
  server->long_ops_ = std::make_unique<LongOperations>(policy.value(), config.processing);
  Stores& st = *server->stores_;
  // The password file is read before anything is served: an error names file:line (exit 78).
  auto authenticator = Authenticator::Create(config.auth, *server->clock_);
  if (!authenticator.ok()) return authenticator.status();
  server->authenticator_ = std::move(authenticator).value();
  // Finish or undo whatever a killed process left half-done, before any request is served
  // (start_up_recovery.h: journaled COPY/MOVE, partial uploads, locks on nothing).
  storage::Status recovered =
      webdav::RecoverAtStartUp(*server->fs_, st.properties(), st.journal(), st.locks(),
                               *server->clock_, config.dav.max_tree_depth);
  if (!recovered.ok()) return recovered;
  // Several instances: what a dead one left is recovered by a live one (stores.h).
  storage::FileSystem& fs_ref = *server->fs_;
  const int max_depth = config.dav.max_tree_depth;
  st.StartBackground([&fs_ref, &st, max_depth] {
    return webdav::RecoverLapsed(fs_ref, st.properties(), st.journal(), max_depth);
  });
  auto access =
      LoadAccessPolicy(config, *server->fs_, *server->authenticator_, &server->rule_users_);
  if (!access.ok()) return access.status();
  server->access_ = std::move(access).value();
  // The users file re-read because it changed (not on SIGHUP, which reloads the rules too and
  // warns then): a [user NAME] section whose user it no longer has is warned about again.
  DavServer* self = server.get();
  server->authenticator_->set_on_changed_file_reloaded([self] {
    std::lock_guard<std::mutex> lock(self->rule_users_mu_);
    WarnAboutUnknownUsers(self->config_, self->rule_users_, *self->authenticator_);
  });
  storage::Status cors = CorsPolicy::Parse(config.cors_origins, &server->cors_);
  if (!cors.ok()) return cors;
  server->cors_.set_max_age(config.cors_max_age_s);
  if (!config.access_log.empty()) {
    auto access_log = AccessLog::Open(config.access_log);
    if (!access_log.ok()) return access_log.status();
    server->access_log_ = std::move(access_log).value();
  }
  webdav::DavSettings dav = config.dav;
  // Other instances on a shared database store checksums this one's listing snapshots miss
  // (storage/checksum_cache.h); alone on SQLite, nobody else does.
  if (IsPostgresUri(config.db_path)) dav.checksum_snapshot_max_age_s = kSharedChecksumSnapshotAgeS;
  server->handler_ = std::make_unique<webdav::DavHandler>(
      webdav::DavBackends{*server->fs_, st.properties(), st.locks(), st.journal(), *server->clock_,
                          st.checksums(), server->access_.get()},
      std::move(dav));
  // From here on the handler owns a share of the rules (ReloadAccessRules replaces them).
  server->handler_->ReplaceAccessPolicy(server->access_);
  server->config_ = std::move(config);
  return server;
}

storage::Status DavServer::ReloadAccessRules() {
  if (config_.access_file.empty()) return storage::Status::Ok();
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  std::vector<std::pair<std::string, int>> sections;
  auto access = LoadAccessPolicy(config_, *fs_, *authenticator_, &sections);
  if (!access.ok()) {
    log.error("reloading the access rules failed, the old rules stay: %s",
              access.status().message());
    return access.status();
  }
  access_ = std::move(access).value();
  handler_->ReplaceAccessPolicy(access_);
  {
    std::lock_guard<std::mutex> lock(rule_users_mu_);
    rule_users_ = std::move(sections);
  }
  log.information("reloaded the access rules from %s", config_.access_file);
  return storage::Status::Ok();
}

DavServer::~DavServer() {
  Stop();
}

const std::string& DavServer::database_description() const {
  return stores_->description();
}

namespace {

// Stack of each connection thread. Every open connection holds one for its whole life (Poco's
// model), so 1,000 idle connections are 1,000 threads: 38 MiB resident for the whole server,
// measured. The deepest request paths fit: PROPFIND Depth infinity, COPY, MOVE
// and DELETE of a 251-level tree (--max-tree-depth is 256) ran on it without trouble.
constexpr int kConnectionStackBytes = 256 * 1024;

}  // namespace

void DavServer::Start() {
  // Poco writes with plain send() (MSG_NOSIGNAL is keepdav's own; Poco 1.11 sets SO_NOSIGPIPE
  // only on BSD): a client gone mid-write must not kill the process.
  ::signal(SIGPIPE, SIG_IGN);
  const int connections = std::max(1, config_.max_connections);
  TrustedProxies trusted;
  (void)TrustedProxies::Parse(config_.trusted_proxies, &trusted);  // Create checked it
  // Connections past the threads wait in Poco's queue until a connection closes. The filter's
  // total keeps the queue from overflowing (Poco would close those unanswered and uncounted).
  const int queued = std::max(64, connections);
  adapter_ = std::make_unique<HttpAdapter>(*handler_, long_ops_.get(), authenticator_.get());
  adapter_->set_access_log(access_log_.get());
  adapter_->set_cors(&cors_);
  adapter_->set_log_db_round_trips(stores_->shared());
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(connections);
  params->setMaxQueued(queued);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(config_.keep_alive_timeout_s, 0));
  params->setTimeout(Poco::Timespan(config_.timeout_s, 0));
  params->setMaxKeepAliveRequests(0);  // unlimited
  // How long a pool thread waits for the next connection before it leaves Poco's dispatcher
  // loop (TCPServerDispatcher::run). Poco 1.11 wakes the waiting threads once, at stop(): a
  // thread that begins to wait just after that sleeps the whole idle time, and Stop() waits for
  // every pool thread, so a shutdown took the default 10 s (seen under load in litmus_https:
  // the dispatcher thread in waitDequeueNotification). 1 s bounds it; a thread that leaves
  // returns to keepdav's pool and is started again for the next connection.
  params->setThreadIdleTime(Poco::Timespan(1, 0));
  params->setSoftwareVersion("");  // keepdav's sink writes its own Server header
  ClientConnectionLimit::Ptr limit = new ClientConnectionLimit(
      std::max(1, config_.max_connections_per_client), connections + queued,
      config_.connection_limit_exempt, params->getTimeout(), trusted);
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers = new DavHandlerFactory(
      *adapter_, config_.threads, config_.max_request_head, trusted, limit.get());
  pool_ = std::make_unique<Poco::ThreadPool>(std::min(connections, std::max(1, config_.threads)),
                                             connections, 60, kConnectionStackBytes);
  http_ = std::make_unique<Poco::Net::HTTPServer>(handlers, *pool_,
                                                  MakeListener(config_, tls_.get()), params);
  // Set before start(): the acceptor thread reads it without a lock.
  http_->setConnectionFilter(limit);
  limit_ = limit;
  http_->start();
  port_ = http_->port();
  // Uploads a killed process left behind (storage/posix/upload_leftovers.h) are removed while
  // the server already serves: the walk of a large tree takes a while, and the names are hidden.
  // The coarse clock is the one the kernel stamps files with (current_time()): an upload this
  // process starts has a modification time at or after it. The fine clock ran up to a tick
  // (4 ms) ahead, so an upload begun just after the start could look older and be removed
  // (SafetyTest.ReservedNamesAreInvisible saw its file go).
  struct timespec started;
  ::clock_gettime(CLOCK_REALTIME_COARSE, &started);
  // Several instances over one tree: another instance's upload in progress is written to at
  // least every --timeout (a connection idle longer is closed), so only leftovers older than
  // that are another process's.
  if (stores_->shared()) started.tv_sec -= config_.timeout_s + 5;
  sweep_ = std::thread([this, started] {
    Poco::Logger& log = Poco::Logger::get("keepdav.server");
    const auto t0 = std::chrono::steady_clock::now();
    storage::posix::UploadLeftoverSweep sweep;
    storage::Status s = storage::posix::RemoveUploadLeftovers(
        root_, started, config_.dav.max_tree_depth, sweep_stop_, &sweep);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!s.ok()) {
      log.warning("start-up sweep of interrupted uploads failed: %s", s.message());
      return;
    }
    std::string what = "start-up sweep: " + std::to_string(sweep.removed) +
                       " interrupted upload(s) removed (" + std::to_string(sweep.removed_bytes) +
                       " bytes), " + std::to_string(sweep.folders) + " folders in " +
                       Poco::NumberFormatter::format(seconds, 2) + " s";
    if (sweep.unreadable > 0) what += ", " + std::to_string(sweep.unreadable) + " unreadable";
    if (sweep.stopped) what += ", stopped by the shutdown";
    if (sweep.removed > 0 || sweep.unreadable > 0) {
      log.notice(what);
    } else {
      log.information(what);
    }
  });
}

void DavServer::NotifyConnectionsOfStop() {
  // Every connection finishes the request it is serving (Poco holds the connection's mutex for
  // each request), then Poco shuts its socket down (for HTTPS: sends close_notify). stopAll also
  // waits for the connections reading a request head or a TLS handshake, which hold that mutex
  // until --timeout: when it has not returned after a short grace, those are ended
  // (client_connection_limit.h). Run on a thread of its own for that, and joined before the
  // next call (two stopAll at once would shut one TLS socket down from two threads).
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread notifier([&] {
    // The only thread besides the connections' that drops Poco delegates (tsan_annotations.h).
    TsanIgnoringThisThread([&] { http_->stopAll(false); });
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return done; })) {
      lock.unlock();
      limit_->EndWaitingConnections();
    }
  }
  notifier.join();
  // Poco's shutdown of a TLS socket sends only close_notify: a connection idle in keep-alive
  // would wait for its client until the keep-alive timeout. End the TCP side of every
  // connection not serving a request (after the close_notify, which is already on its way).
  limit_->EndWaitingConnections();
}

void DavServer::Stop() {
  sweep_stop_ = true;
  if (sweep_.joinable()) sweep_.join();
  if (stores_) stores_->StopBackground();
  if (!http_) return;
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  const int limit_s = config_.processing.shutdown_timeout_s;
  // Every request in progress is let finish. A watchdog cancels long operations still running
  // after the limit, so a shutdown is bounded even during a huge COPY; cancelled operations roll
  // back.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(limit_s), [&] { return finished; })) {
      log.warning("shutdown: requests still running after %d s; cancelling long operations",
                  limit_s);
      if (long_ops_) long_ops_->CancelAll();
    }
  });
  // No new connections; queued ones are dropped (closed when the filter lets their sockets go).
  http_->stop();
  NotifyConnectionsOfStop();
  // A connection Poco's dispatcher took from its queue just before the stop may register with
  // the server's stop event only after it fired: repeat until every pool thread is free (stop()
  // is idempotent; a second onServerStopped on a connection only shuts it down again).
  while (pool_->used() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    NotifyConnectionsOfStop();
  }
  pool_->joinAll();
  limit_->Clear();
  {
    std::lock_guard<std::mutex> lock(mu);
    finished = true;
  }
  cv.notify_all();
  watchdog.join();
  http_.reset();
  limit_ = nullptr;
  pool_.reset();
  adapter_.reset();
}

}  // namespace keepdav::server
