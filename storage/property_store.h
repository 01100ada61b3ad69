// PropertyStore: the dead properties of resources (the interface; SqlitePropertyStore in
// storage/sqlite/ is the implementation keepdav runs today).
//
// To storage a property value is opaque bytes (webdav/ stores a verbatim XML fragment). Names are
// (namespace URI, local name); the empty namespace is allowed. Every mutation is atomic: it
// happens completely or not at all, and readers never see half of it. CopyTree/MoveTree/
// DeleteTree act on a resource and everything below it, so that COPY, MOVE and DELETE keep
// properties consistent with the files (the style guide's first lesson).
//
// Ownership: the caller owns the store; an implementation does not own the connection or
// database it is built over. Thread safety: every method may be called from any thread at any
// time (implementations serialise or isolate as they need).
//
// Errors: kNotFound only from Get (no such property); kInvalidArgument for a property with an
// empty local name and for a CopyTree/MoveTree whose trees overlap; otherwise the errors of the
// backing database (kBusy, kNoSpace, kPermissionDenied, kTooLarge, kIoError: see
// storage/database.h for SQLite's mapping). A failed mutation changed nothing.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

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
  virtual ~PropertyStore() = default;

  // All dead properties of `path`, ordered by (ns, local).
  virtual Result<std::vector<DeadProperty>> GetAll(const ResourcePath& path) = 0;

  // kNotFound when `path` has no such property.
  virtual Result<std::string> Get(const ResourcePath& path, const PropertyName& name) = 0;

  // Calls `visit` for every property of every direct member of `dir` (not `dir` itself), grouped
  // by member path in ascending bytewise order, and within a member by (ns, local): one query
  // for a whole folder, for PROPFIND Depth 1 (a hot path). `visit` may run while the store holds
  // a lock, so it must not call back into the store.
  virtual Status ForEachInMembers(
      const ResourcePath& dir,
      const std::function<void(std::string_view member_path, const DeadProperty&)>& visit) = 0;

  // Applies all changes in order, all or nothing (PROPPATCH, RFC 4918 §9.2). Removing an absent
  // property is not an error.
  virtual Status Apply(const ResourcePath& path, const std::vector<PropertyChange>& changes) = 0;
  // Apply, unless an active lock covers `path` at `now` (a lock rooted at `path`, or a
  // depth-infinity one rooted at an ancestor: LockStore::FindCovering's rule, over the lock rows
  // of the same database): then nothing is written and the answer is false. The check and the
  // change are one transaction of that database; with PostgreSQL and one change, one statement
  // (a PROPPATCH on an unlocked resource: one round trip instead of a lock lookup and a write).
  virtual Result<bool> ApplyUnlessLocked(const ResourcePath& path,
                                         const std::vector<PropertyChange>& changes,
                                         int64_t now) = 0;

  // Replaces the properties of `to` and everything below it by copies of those of `from` and
  // everything below it. kInvalidArgument when one contains the other (RFC 4918 forbids such
  // COPY/MOVE); from == to is a no-op.
  virtual Status CopyTree(const ResourcePath& from, const ResourcePath& to) = 0;
  // Like CopyTree, then deletes the properties of `from` and below: one atomic change.
  virtual Status MoveTree(const ResourcePath& from, const ResourcePath& to) = 0;
  // Deletes the properties of `path` and everything below it.
  virtual Status DeleteTree(const ResourcePath& path) = 0;

  // Whether `path` or anything below it has a property (cheap: one indexed read in SQLite).
  virtual Result<bool> AnyUnder(const ResourcePath& path) = 0;

  // The distinct paths at or below `path` that have properties, in ascending bytewise order (for
  // reconciling after a partly failed tree operation). Strings, because they may name staging
  // trees (reserved segments) that ResourcePath::Parse refuses.
  virtual Result<std::vector<std::string>> PathsUnder(const ResourcePath& path) = 0;
};

}  // namespace keepdav::storage
