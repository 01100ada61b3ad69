// Stores: the dead-property, lock, checksum and journal stores of one served root, built from
// --db: an SQLite file (the embedded default, one instance) or a PostgreSQL database named by a
// libpq URI (postgresql:// or postgres://), shared by several instances serving one tree
// (issue 15; README "Several instances").
//
// With PostgreSQL the instance owns its journal entries under --instance-id and holds a lease on
// them (storage/postgres/pg_operation_journal.h). After start-up recovery, StartBackground runs
// one thread that every --instance-lease / 3 seconds renews this instance's leases and recovers
// what a dead instance left (webdav::RecoverLapsed); StopBackground ends it. With SQLite there
// is nothing in the background.
//
// Ownership: owns the stores and the database under them. Not copyable. The stores are
// thread-safe; StartBackground/StopBackground are called from one thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "storage/clock.h"
#include "storage/status.h"

namespace keepdav::storage {
class ChecksumStore;
class Database;
class LockStore;
class OperationJournal;
class PgDatabase;
class PgOperationJournal;
class PropertyStore;
}  // namespace keepdav::storage

namespace keepdav::server {

struct StoreSettings {
  // --db: a postgresql:// or postgres:// URI, else an SQLite file; empty: the default file.
  std::string db;
  int pool_size = 8;  // --db-pool-size (PostgreSQL connections of this instance)
  // --instance-id; empty: "<host name>:<port>" (PgOperationJournal::DefaultInstanceId), with
  // "-pid<pid>" added for port 0 (ephemeral: unknown yet, and not the same after a restart).
  std::string instance_id;
  int lease_s = 60;  // --instance-lease
};

// Whether `db` names a PostgreSQL database (a libpq URI) rather than an SQLite file.
bool IsPostgresUri(const std::string& db);

class Stores {
 public:
  // Opens the database and builds the stores. `sqlite_path`: the absolute SQLite file when
  // `settings.db` is not a URI (the caller resolves the default). Errors: the database cannot
  // be opened or reached (kUnavailable), a bad URI, a schema newer than this keepdav.
  static storage::Result<std::unique_ptr<Stores>> Open(const StoreSettings& settings,
                                                       const std::string& sqlite_path,
                                                       uint16_t port, const storage::Clock& clock);
  ~Stores();
  Stores(const Stores&) = delete;
  Stores& operator=(const Stores&) = delete;

  storage::PropertyStore& properties() const { return *props_; }
  storage::LockStore& locks() const { return *locks_; }
  storage::ChecksumStore& checksums() const { return *checksums_; }
  storage::OperationJournal& journal() const { return *journal_; }
  // For the start-up log: "/path/x.sqlite", or "PostgreSQL host/db as instance ID".
  const std::string& description() const { return description_; }
  bool shared() const { return pg_ != nullptr; }

  // PostgreSQL only (a no-op with SQLite): from now on the journal claims only other
  // instances' lapsed entries; the journal renews this instance's leases, and a thread runs
  // `recover_lapsed` every lease / 3 seconds. Call once, after start-up recovery.
  void StartBackground(std::function<storage::Status()> recover_lapsed);
  void StopBackground();

 private:
  Stores() = default;
  void Background(const std::function<storage::Status()>& recover_lapsed);

  // Declared first: destroyed after the stores built over them.
  std::unique_ptr<storage::Database> sqlite_;
  std::unique_ptr<storage::PgDatabase> pg_;
  std::unique_ptr<storage::PropertyStore> props_;
  std::unique_ptr<storage::LockStore> locks_;
  std::unique_ptr<storage::ChecksumStore> checksums_;
  std::unique_ptr<storage::OperationJournal> journal_;
  storage::PgOperationJournal* pg_journal_ = nullptr;  // journal_, when PostgreSQL
  int lease_s_ = 60;
  std::string description_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread background_;
};

}  // namespace keepdav::server
