// PropertyStore: dead properties of resources, persisted in the Database.
//
// To storage a property value is opaque bytes (webdav/ stores a verbatim XML fragment). Names are
// (namespace URI, local name); the empty namespace is allowed. Every mutation runs in one
// transaction. CopyTree/MoveTree/DeleteTree act on a resource and everything below it, so that
// COPY, MOVE and DELETE keep properties consistent with the files.
//
// Thread-safe (serialised through the Database lock).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/database.h"
#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

struct PropertyName {
  std::string ns;
  std::string local;
  bool operator==(const PropertyName& o) const { return ns == o.ns && local == o.local; }
  bool operator<(const PropertyName& o) const { return ns != o.ns ? ns < o.ns : local < o.local; }
};

struct DeadProperty {
  PropertyName name;
  std::string value;
};

// One step of a PROPPATCH: set (value present) or remove (remove == true).
struct PropertyChange {
  PropertyName name;
  bool remove = false;
  std::string value;
};

class PropertyStore {
 public:
  explicit PropertyStore(Database& db) : db_(db) {}

  // All dead properties of `path`, ordered by (ns, local).
  Result<std::vector<DeadProperty>> GetAll(const ResourcePath& path);

  // kNotFound when `path` has no such property.
  Result<std::string> Get(const ResourcePath& path, const PropertyName& name);

  // Calls `visit` for every property of every direct member of `dir` (not `dir` itself), grouped
  // by member path in ascending order: one query for a whole folder, for PROPFIND Depth 1.
  // `visit` runs under the database lock, so it must not call back into the store.
  Status ForEachInMembers(
      const ResourcePath& dir,
      const std::function<void(std::string_view member_path, const DeadProperty&)>& visit);

  // Applies all changes in order in one transaction: all or nothing. Removing an absent property
  // is not an error.
  Status Apply(const ResourcePath& path, const std::vector<PropertyChange>& changes);

  // Replaces the properties of `to` and everything below it by copies of those of `from` and
  // everything below it. kInvalidArgument when one contains the other (RFC 4918 forbids such
  // COPY/MOVE); from == to is a no-op.
  Status CopyTree(const ResourcePath& from, const ResourcePath& to);
  // Like CopyTree, then deletes the properties of `from` and below: one transaction.
  Status MoveTree(const ResourcePath& from, const ResourcePath& to);
  // Deletes the properties of `path` and everything below it.
  Status DeleteTree(const ResourcePath& path);

  // Whether `path` or anything below it has a property (one indexed read).
  Result<bool> AnyUnder(const ResourcePath& path);

  // The distinct paths at or below `path` that have properties, in ascending order (for
  // reconciling after a partly failed tree operation).
  Result<std::vector<std::string>> PathsUnder(const ResourcePath& path);

  // Building blocks for transactions that span other tables too (OperationJournal).
  // REQUIRES: db.Lock() held and a transaction open.
  static Status DeleteTreeLocked(Database& db, const ResourcePath& path);
  // Replaces the subtree of `to` by a copy of the subtree of `from`.
  static Status CopyTreeLocked(Database& db, const ResourcePath& from, const ResourcePath& to);
  // Replaces the subtree of `to` by the subtree of `from`, which goes.
  static Status MoveTreeLocked(Database& db, const ResourcePath& from, const ResourcePath& to);
  // Replaces the properties of `to` alone by those of `from` alone.
  static Status CopyOneLocked(Database& db, const ResourcePath& from, const ResourcePath& to);

  // The database the properties live in (the LockStore of the same root shares it).
  Database& database() const { return db_; }

 private:
  Database& db_;
};

}  // namespace keepdav::storage
