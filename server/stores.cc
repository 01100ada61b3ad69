#include "server/stores.h"

#include <Poco/Logger.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "storage/database.h"
#include "storage/postgres/pg_checksum_store.h"
#include "storage/postgres/pg_database.h"
#include "storage/postgres/pg_lock_store.h"
#include "storage/postgres/pg_operation_journal.h"
#include "storage/postgres/pg_property_store.h"
#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"

namespace keepdav::server {

bool IsPostgresUri(const std::string& db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

namespace {

// The URI without its password (userinfo after ':'), for the log.
std::string WithoutPassword(const std::string& uri) {
  const size_t scheme = uri.find("://");
  const size_t at = uri.find('@', scheme + 3);
  const size_t slash = uri.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return uri;
  const size_t colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + ":***" + uri.substr(at);
}

}  // namespace

storage::Result<std::unique_ptr<Stores>> Stores::Open(const StoreSettings& settings,
                                                      const std::string& sqlite_path, uint16_t port,
                                                      const storage::Clock& clock) {
  std::unique_ptr<Stores> stores(new Stores());
  stores->lease_s_ = std::max(1, settings.lease_s);
  if (!IsPostgresUri(settings.db)) {
    auto database = storage::Database::Open(sqlite_path, 5000, /*exclusive=*/true);
    if (!database.ok()) return database.status();
    stores->sqlite_ = std::move(database.value());
    // One SQLite database for the root: the journal is built over the property store, so that
    // its steps and the properties change in one transaction.
    auto props = std::make_unique<storage::SqlitePropertyStore>(*stores->sqlite_);
    stores->journal_ = std::make_unique<storage::SqliteOperationJournal>(*props);
    stores->props_ = std::move(props);
    stores->locks_ = std::make_unique<storage::SqliteLockStore>(*stores->sqlite_);
    stores->checksums_ = std::make_unique<storage::SqliteChecksumStore>(*stores->sqlite_);
    stores->description_ = sqlite_path;
    return stores;
  }
  storage::PgOptions options;
  options.pool_size = std::max(1, settings.pool_size);
  auto database = storage::PgDatabase::Open(settings.db, options);
  if (!database.ok()) return database.status();
  stores->pg_ = std::move(database.value());
  std::string id = settings.instance_id;
  if (id.empty()) {
    id = storage::PgOperationJournal::DefaultInstanceId(port);
    if (port == 0) id += "-pid" + std::to_string(::getpid());
  }
  auto props = std::make_unique<storage::PgPropertyStore>(*stores->pg_);
  auto journal = std::make_unique<storage::PgOperationJournal>(
      *props, storage::PgJournalOwner{id, stores->lease_s_}, clock);
  stores->pg_journal_ = journal.get();
  stores->journal_ = std::move(journal);
  stores->props_ = std::move(props);
  stores->locks_ = std::make_unique<storage::PgLockStore>(*stores->pg_);
  stores->checksums_ = std::make_unique<storage::PgChecksumStore>(*stores->pg_);
  stores->description_ = "PostgreSQL " + WithoutPassword(settings.db) + " as instance " + id;
  return stores;
}

Stores::~Stores() {
  StopBackground();
}

void Stores::StartBackground(std::function<storage::Status()> recover_lapsed) {
  if (pg_journal_ == nullptr || background_.joinable()) return;
  pg_journal_->ClaimOnlyLapsed();
  const auto interval = std::chrono::milliseconds(lease_s_ * 1000 / 3);
  pg_journal_->StartRenewing(interval);
  background_ = std::thread([this, recover_lapsed] { Background(recover_lapsed); });
}

void Stores::Background(const std::function<storage::Status()>& recover_lapsed) {
  Poco::Logger& log = Poco::Logger::get("keepdav.server");
  const auto interval = std::chrono::milliseconds(lease_s_ * 1000 / 3);
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    storage::Status s = recover_lapsed();
    // Unreachable database: tried again at the next interval (a lapsed entry waits; nothing of
    // it has changed).
    if (!s.ok()) log.warning("recovering what other instances left failed: %s", s.ToString());
    lock.lock();
  }
}

void Stores::StopBackground() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (background_.joinable()) background_.join();
}

}  // namespace keepdav::server
