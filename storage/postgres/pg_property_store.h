// PgPropertyStore: the PropertyStore over a PostgreSQL database (table `properties`, schema in
// storage/postgres/pg_database.cc), shared by every keepdav instance serving the same tree.
//
// The same contract and the same SQL shapes as SqlitePropertyStore: rows keyed (path, ns,
// name), a subtree is one index range scan (PgSubtree), a folder's members are one query, and
// every mutation is one transaction (PgDatabase::Transact). Reads are one round trip each.
//
// Ownership: does not own `db`, which must outlive the store. Thread-safe (PgDatabase hands
// each call its own connection). Errors: those of PropertyStore, with PostgreSQL's mapped by
// PgConnection; kUnavailable while the database cannot be reached (nothing was changed).
#pragma once

#include "storage/postgres/pg_database.h"
#include "storage/property_store.h"

namespace keepdav::storage {

class PgPropertyStore : public PropertyStore {
 public:
  explicit PgPropertyStore(PgDatabase& db) : db_(db) {}

  Result<std::vector<DeadProperty>> GetAll(const ResourcePath& path) override;
  Result<std::string> Get(const ResourcePath& path, const PropertyName& name) override;
  Status ForEachInMembers(
      const ResourcePath& dir,
      const std::function<void(std::string_view member_path, const DeadProperty&)>& visit) override;
  Status Apply(const ResourcePath& path, const std::vector<PropertyChange>& changes) override;
  Result<bool> ApplyUnlessLocked(const ResourcePath& path,
                                 const std::vector<PropertyChange>& changes, int64_t now) override;
  Status CopyTree(const ResourcePath& from, const ResourcePath& to) override;
  Status MoveTree(const ResourcePath& from, const ResourcePath& to) override;
  Status DeleteTree(const ResourcePath& path) override;
  Result<bool> AnyUnder(const ResourcePath& path) override;
  Result<std::vector<std::string>> PathsUnder(const ResourcePath& path) override;

 private:
  // Building blocks for transactions that span the journal's tables too: PgOperationJournal
  // runs them inside its own. REQUIRES: a transaction open on `conn`.
  friend class PgOperationJournal;
  PgDatabase& database() const { return db_; }
  static Status DeleteTreeIn(PgConnection& conn, const ResourcePath& path);
  // Replaces the subtree of `to` by a copy of the subtree of `from`.
  static Status CopyTreeIn(PgConnection& conn, const ResourcePath& from, const ResourcePath& to);
  // Replaces the subtree of `to` by the subtree of `from`, which goes.
  static Status MoveTreeIn(PgConnection& conn, const ResourcePath& from, const ResourcePath& to);
  // Replaces the properties of `to` alone by those of `from` alone.
  static Status CopyOneIn(PgConnection& conn, const ResourcePath& from, const ResourcePath& to);

  PgDatabase& db_;
};

}  // namespace keepdav::storage
