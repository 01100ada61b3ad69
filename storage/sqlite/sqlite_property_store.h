// SqlitePropertyStore: the PropertyStore over a SQLite Database (table `properties`, schema in
// storage/database.cc).
//
// Every mutation is one transaction; statements come from the Database's statement cache.
// Rows are keyed (path, ns, name) in a WITHOUT ROWID table, so a subtree is one range scan
// (SubtreeRange) and a folder's members are neighbouring pages.
//
// Ownership: does not own `db`, which must outlive the store. Thread-safe: every call takes the
// Database lock for the whole of its statement or transaction. Errors: those of PropertyStore,
// with SQLite's codes mapped by Database.
#pragma once

#include <optional>

#include "storage/database.h"
#include "storage/property_store.h"

namespace keepdav::storage {

class SqlitePropertyStore : public PropertyStore {
 public:
  explicit SqlitePropertyStore(Database& db) : db_(db) {}

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
  // Building blocks for transactions that span the operation journal's table too: the
  // SqliteOperationJournal built over this store runs them inside its own transactions.
  // REQUIRES: the database lock held and a transaction open.
  friend class SqliteOperationJournal;
  Database& database() const { return db_; }
  // Apply, and with `unless_locked_at` ApplyUnlessLocked: false when a lock covers `path`.
  Result<bool> ApplyIf(const ResourcePath& path, const std::vector<PropertyChange>& changes,
                       std::optional<int64_t> unless_locked_at);
  Result<bool> AnyLockCoversLocked(const ResourcePath& path, int64_t now);
  Status DeleteTreeLocked(const ResourcePath& path);
  // Replaces the subtree of `to` by a copy of the subtree of `from`.
  Status CopyTreeLocked(const ResourcePath& from, const ResourcePath& to);
  // Replaces the subtree of `to` by the subtree of `from`, which goes.
  Status MoveTreeLocked(const ResourcePath& from, const ResourcePath& to);
  // Replaces the properties of `to` alone by those of `from` alone.
  Status CopyOneLocked(const ResourcePath& from, const ResourcePath& to);

  Database& db_;
};

}  // namespace keepdav::storage
