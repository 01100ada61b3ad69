// StoreBackend: one implementation of the storage stores (properties, locks, the operation
// journal, checksums) as the contract suites see it, and the list of every implementation the
// suites run against. Each contract suite (property_store_test.cc, lock_store_test.cc,
// operation_journal_test.cc, checksum_store_test.cc) is value-parameterised over
// AllStoreBackends(): adding PostgreSQL is one more factory below.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "storage/checksum_store.h"
#include "storage/database.h"
#include "storage/lock_store.h"
#include "storage/operation_journal.h"
#include "storage/property_store.h"
#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"
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

// Every implementation the contract suites run against.
inline std::vector<StoreBackendFactory> AllStoreBackends() {
  return {
      {"SqliteMemory", [] { return std::make_unique<SqliteBackend>(false, false); }},
      {"SqliteFile", [] { return std::make_unique<SqliteBackend>(true, false); }},
      // How DavServer opens it: the lock store may then keep its row count in memory.
      {"SqliteExclusiveFile", [] { return std::make_unique<SqliteBackend>(true, true); }},
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
    if (!backend_) GTEST_SKIP() << GetParam().name << " is not available here";
  }
  std::unique_ptr<StoreBackend> backend_;
};

}  // namespace keepdav::storage::test_support
