// StoreBackend: one implementation of the storage stores (properties, locks, the operation
// journal, checksums) as the contract suites see it, and the list of every implementation the
// suites run against. Each contract suite (property_store_test.cc, lock_store_test.cc,
// operation_journal_test.cc, checksum_store_test.cc) is value-parameterised over
// AllStoreBackends(): SQLite in memory and on a file, and PostgreSQL (a throwaway cluster per
// test process, a fresh schema per test: pg_cluster.h).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "storage/checksum_store.h"
#include "storage/database.h"
#include "storage/lock_store.h"
#include "storage/operation_journal.h"
#include "storage/postgres/pg_checksum_store.h"
#include "storage/postgres/pg_database.h"
#include "storage/postgres/pg_lock_store.h"
#include "storage/postgres/pg_operation_journal.h"
#include "storage/postgres/pg_property_store.h"
#include "storage/property_store.h"
#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "tests/storage/pg_cluster.h"
#include "tests/storage/temp_dir.h"

namespace keepdav::storage::test_support {

// A fresh, empty set of stores over one database. The references stay valid until Reopen().
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual PropertyStore& properties() = 0;
  virtual LockStore& locks() = 0;
  virtual OperationJournal& journal() = 0;
  virtual ChecksumStore& checksums() = 0;
  // Whether the data outlives the stores (false for an in-memory database).
  virtual bool persistent() const = 0;
  // Drops the stores and opens them again on the same data, as a restart would.
  // REQUIRES: persistent().
  virtual void Reopen() = 0;
};

struct StoreBackendFactory {
  std::string name;  // a test name suffix: letters and digits only
  // A new backend; nullptr when it cannot run here (the test is then skipped).
  std::function<std::unique_ptr<StoreBackend>()> make;
  // Why make() returned nullptr, for the skip message (optional).
  std::function<std::string()> why_unavailable;
};

class SqliteBackend : public StoreBackend {
 public:
  // `on_file` false: ":memory:". `exclusive`: as DavServer opens it (Database::Open).
  SqliteBackend(bool on_file, bool exclusive) : dir_("keepdav-stores"), exclusive_(exclusive) {
    file_ = on_file ? (dir_.path() / "keepdav.db").string() : ":memory:";
    Open();
  }
  PropertyStore& properties() override { return *props_; }
  LockStore& locks() override { return *locks_; }
  OperationJournal& journal() override { return *journal_; }
  ChecksumStore& checksums() override { return *checksums_; }
  bool persistent() const override { return file_ != ":memory:"; }
  void Reopen() override { Open(); }
  Database& database() { return *db_; }

 private:
  void Open() {
    checksums_.reset();
    journal_.reset();
    locks_.reset();
    props_.reset();
    db_.reset();
    Result<std::unique_ptr<Database>> db = Database::Open(file_, 5000, exclusive_);
    if (!db.ok()) {
      ADD_FAILURE() << "open " << file_ << ": " << db.status().ToString();
      db = Database::Open(":memory:");  // keeps the stores usable; the test has failed anyway
    }
    db_ = std::move(db).value();
    props_ = std::make_unique<SqlitePropertyStore>(*db_);
    journal_ = std::make_unique<SqliteOperationJournal>(*props_);
    locks_ = std::make_unique<SqliteLockStore>(*db_);
    checksums_ = std::make_unique<SqliteChecksumStore>(*db_);
  }

  TempDir dir_;
  bool exclusive_;
  std::string file_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqlitePropertyStore> props_;
  std::unique_ptr<SqliteOperationJournal> journal_;
  std::unique_ptr<SqliteLockStore> locks_;
  std::unique_ptr<SqliteChecksumStore> checksums_;
};

// PostgreSQL: the stores over a fresh schema of the process's PgCluster, as one keepdav instance
// (`instance_id`) holds them.
class PostgresBackend : public StoreBackend {
 public:
  // nullptr (the test skips; see PgCluster::Shared) when PostgreSQL cannot run here.
  static std::unique_ptr<PostgresBackend> Make() {
    PgCluster* cluster = PgCluster::Shared(nullptr);
    if (cluster == nullptr) return nullptr;
    return std::unique_ptr<PostgresBackend>(new PostgresBackend(*cluster));
  }
  static std::string WhyUnavailable() {
    std::string why;
    PgCluster::Shared(&why);
    return why;
  }
  ~PostgresBackend() override {
    Close();
    cluster_.DropSchema(schema_);
  }
  PropertyStore& properties() override { return *props_; }
  LockStore& locks() override { return *locks_; }
  OperationJournal& journal() override { return *journal_; }
  ChecksumStore& checksums() override { return *checksums_; }
  bool persistent() const override { return true; }
  void Reopen() override { Open(); }
  PgCluster& cluster() { return cluster_; }
  const std::string& uri() const { return uri_; }
  PgDatabase& database() { return *db_; }

 private:
  explicit PostgresBackend(PgCluster& cluster)
      : cluster_(cluster), schema_(cluster.NewSchema()), uri_(cluster.Uri(schema_)) {
    Open();
  }
  void Close() {
    checksums_.reset();
    journal_.reset();
    locks_.reset();
    props_.reset();
    db_.reset();
  }
  void Open() {
    Close();
    PgOptions options;
    options.pool_size = 4;
    Result<std::unique_ptr<PgDatabase>> db = PgDatabase::Open(uri_, options);
    if (!db.ok()) {
      // Nothing to run the test against: say why, and stop (a null store would crash anyway).
      std::fprintf(stderr, "open %s: %s%s\n", uri_.c_str(), db.status().ToString().c_str(),
                   cluster_.LogTail().c_str());
      std::abort();
    }
    db_ = std::move(db).value();
    props_ = std::make_unique<PgPropertyStore>(*db_);
    journal_ = std::make_unique<PgOperationJournal>(*props_, PgJournalOwner{"test:1", 60}, clock_);
    locks_ = std::make_unique<PgLockStore>(*db_);
    checksums_ = std::make_unique<PgChecksumStore>(*db_);
  }

  PgCluster& cluster_;
  const std::string schema_;
  const std::string uri_;
  SystemClock clock_;
  std::unique_ptr<PgDatabase> db_;
  std::unique_ptr<PgPropertyStore> props_;
  std::unique_ptr<PgOperationJournal> journal_;
  std::unique_ptr<PgLockStore> locks_;
  std::unique_ptr<PgChecksumStore> checksums_;
};

// Every implementation the contract suites run against.
inline std::vector<StoreBackendFactory> AllStoreBackends() {
  return {
      {"SqliteMemory", [] { return std::make_unique<SqliteBackend>(false, false); }, nullptr},
      {"SqliteFile", [] { return std::make_unique<SqliteBackend>(true, false); }, nullptr},
      // How DavServer opens it: the lock store may then keep its row count in memory.
      {"SqliteExclusiveFile", [] { return std::make_unique<SqliteBackend>(true, true); }, nullptr},
      {"Postgres", [] { return PostgresBackend::Make(); }, PostgresBackend::WhyUnavailable},
  };
}

// GoogleTest prints the parameter of a test by its name.
inline void PrintTo(const StoreBackendFactory& factory, std::ostream* os) {
  *os << factory.name;
}

inline std::string BackendName(const ::testing::TestParamInfo<StoreBackendFactory>& info) {
  return info.param.name;
}

// The fixture of every contract suite: `backend_` is fresh for each test.
class StoreContractTest : public ::testing::TestWithParam<StoreBackendFactory> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    if (!backend_) {
      GTEST_SKIP() << GetParam().name << " is not available here"
                   << (GetParam().why_unavailable ? ": " + GetParam().why_unavailable() : "");
    }
  }
  std::unique_ptr<StoreBackend> backend_;
};

}  // namespace keepdav::storage::test_support
