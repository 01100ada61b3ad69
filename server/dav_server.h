// DavServer: one running keepdav instance — file system, database, WebDAV handler and Poco's
// HTTP server (Poco::Net::HTTPServer on keepdav's own thread pool, with ClientConnectionLimit as
// its connection filter) —
// built from a ServerConfig. The executable and the in-process integration
// tests both use it, so tests exercise exactly what users run.
//
// Start() binds and starts serving; Stop() stops accepting, lets running requests finish and
// returns. Not copyable; Start/Stop from one thread.
#pragma once

#include <Poco/AutoPtr.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/authenticator.h"
#include "server/cors.h"
#include "server/long_operations.h"
#include "storage/file_system.h"
#include "storage/status.h"
#include "webdav/dav_handler.h"

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
}
}  // namespace Poco

namespace keepdav::storage {
class ChecksumStore;
class Clock;
class Database;
class LockStore;
class OperationJournal;
class PropertyStore;
}  // namespace keepdav::storage

namespace keepdav::server {

class AccessLog;
class ClientConnectionLimit;
class DavHandlerFactory;
class HttpAdapter;
class Stores;
class TlsContext;

// Every setting of one server. A default-constructed ServerConfig (with the webdav::DavSettings and
// ProcessingSettings defaults inside it) holds the defaults of every option: the option table
// (option_table.h) binds each option to a field here and prints these values in --help.
struct ServerConfig {
  std::string root;  // directory to serve (absolute or relative)
  // --db: an SQLite file (empty: DefaultDatabasePath(root)) or a PostgreSQL libpq URI
  // (postgresql://..., stores.h).
  std::string db_path;
  int db_pool_size = 8;       // --db-pool-size: PostgreSQL connections
  std::string instance_id;    // --instance-id ("": <host name>:<port>)
  int instance_lease_s = 60;  // --instance-lease: journal lease of a PostgreSQL instance
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;                 // 0: an ephemeral port
  int threads = 16;                     // requests served at once
  int max_connections = 1024;           // connections served at once (a thread each)
  int max_connections_per_client = 64;  // open connections from one address
  // Addresses without the per-client cap besides the trusted proxies (tests).
  std::set<std::string> connection_limit_exempt;
  // --trusted-proxies: comma-separated addresses and CIDRs (server/forwarded.h); their
  // forwarding headers are believed and they have no per-client connection cap.
  std::string trusted_proxies;
  size_t max_request_head = 64 * 1024;
  int keep_alive_timeout_s = 15;
  int timeout_s = 60;
  bool fsync = false;
  int open_file_cache = 128;  // kept descriptors of read files (0: none)
  int tree_threads = 2;       // threads per deep COPY or DELETE
  webdav::DavSettings dav;
  ProcessingSettings processing;
  // HTTPS on `port`: both or neither (TlsContextForOptions in tls_context.h checks them).
  std::string tls_cert;  // PEM: the certificate, then its chain
  std::string tls_key;   // PEM: its private key, unencrypted
  // Users and passwords (issue 11): --users, --auth-cache-seconds, --auth-fail-limit,
  // --allow-basic-over-http.
  AuthSettings auth;
  // --access: the rules file (webdav/access_rules.h); "" for none. Without it the policy is
  // AccessPolicy::AuthenticatedUsersOnly() when --users is given (auth.users_file), else
  // AllowAll().
  std::string access_file;
  // Operators (issue 11): --access-log ("" none, "-" standard error, else a file: access_log.h),
  // --cors-origins ("" no CORS: cors.h) and --cors-max-age.
  std::string access_log;
  std::string cors_origins;
  int cors_max_age_s = 3600;
  // Testing aid (--test-delay-us): sleep this long per copied/removed/listed resource.
  int test_delay_us = 0;
  // For tests: wraps the file system (to slow it down or make it fail).
  std::function<std::unique_ptr<storage::FileSystem>(std::unique_ptr<storage::FileSystem>)>
      wrap_file_system;
};

// $XDG_STATE_HOME/keepdav/<name>-<hash of root>.sqlite (or ~/.local/state/...): outside the root.
std::string DefaultDatabasePath(const std::string& absolute_root);

class DavServer {
 public:
  // Opens the root and the database. Errors: the root is missing or not a directory, the
  // database cannot be opened.
  static storage::Result<std::unique_ptr<DavServer>> Create(ServerConfig config);
  ~DavServer();

  // Binds and starts serving. Throws Poco::Exception if the address cannot be bound.
  void Start();
  // Stops accepting connections and waits up to processing.shutdown_timeout_s for running
  // requests; long operations still running then are cancelled at their next safe point.
  void Stop();

  uint16_t port() const { return port_; }
  // The TLS certificate and key of HTTPS (SIGHUP reloads them); null for plain HTTP.
  TlsContext* tls() const { return tls_.get(); }
  // Users and passwords; disabled (never null) without --users. SIGHUP calls Reload().
  Authenticator& authenticator() const { return *authenticator_; }
  // The access log (null without --access-log); SIGHUP calls its Reopen().
  AccessLog* access_log() const { return access_log_.get(); }
  // Re-reads --access (SIGHUP): on success the new rules apply to requests that start from now
  // on; a file that became bad keeps the old rules. Either way the outcome is logged, and users
  // the rules name that --users lacks are warned about. OK without --access.
  storage::Status ReloadAccessRules();
  const std::string& root() const { return root_; }
  // The SQLite file ("" with PostgreSQL).
  const std::string& db_path() const { return db_path_; }
  // What --db opened, for the log.
  const std::string& database_description() const;
  const ServerConfig& config() const { return config_; }

 private:
  // Stop()'s half for the connections: stopAll, then ends those that wait for their client.
  void NotifyConnectionsOfStop();
  DavServer() = default;
  ServerConfig config_;
  std::string root_;
  std::string db_path_;
  std::unique_ptr<storage::FileSystem> fs_;
  // HTTPS (null: plain HTTP). Declared before the server that serves with it: destroyed after.
  std::unique_ptr<TlsContext> tls_;
  // The clock of lock expiry and journal leases, and the stores of the root (SQLite or
  // PostgreSQL: stores.h), built here and injected into handler_; declared before it, so
  // destroyed after it.
  std::unique_ptr<storage::Clock> clock_;
  std::unique_ptr<Stores> stores_;
  std::unique_ptr<Authenticator> authenticator_;
  // The rules in force; the handler holds them too (and each request a snapshot).
  std::shared_ptr<const webdav::AccessPolicy> access_;
  // The [user NAME] sections of --access (name, line), re-checked against a changed users file.
  std::mutex rule_users_mu_;
  std::vector<std::pair<std::string, int>> rule_users_;  // guarded by rule_users_mu_
  std::unique_ptr<AccessLog> access_log_;
  CorsPolicy cors_;
  std::unique_ptr<webdav::DavHandler> handler_;
  std::unique_ptr<LongOperations> long_ops_;
  std::unique_ptr<HttpAdapter> adapter_;
  std::unique_ptr<Poco::ThreadPool> pool_;      // one thread per open connection
  Poco::AutoPtr<ClientConnectionLimit> limit_;  // shared with http_ (its connection filter)
  std::unique_ptr<Poco::Net::HTTPServer> http_;
  std::thread sweep_;  // the start-up sweep of interrupted uploads; joined by Stop()
  std::atomic<bool> sweep_stop_{false};
  uint16_t port_ = 0;
};

}  // namespace keepdav::server
