#include "storage/postgres/pg_property_store.h"

#include "storage/postgres/pg_subtree_range.h"

namespace keepdav::storage {
namespace {

const std::string& SubtreeWhere() {
  static const std::string kWhere = PgSubtree::Where("path");
  return kWhere;
}

// The new path of a row of the subtree of `from` ($1-$3) that moves to `to`: `to` for `from`
// itself ($4), else `to` as a prefix ($5, "" for the root) followed by the rest of the old path
// from byte $6 (bytea counts bytes, so paths that are not UTF-8 are cut right).
constexpr const char kRenamedPath[] =
    "CASE WHEN path = $1::bytea THEN $4::bytea ELSE $5::bytea || substring(path FROM $6::int4) "
    "END";

// The end of the statements that put rows at a destination whose rows were deleted just
// before, in the same transaction: under READ COMMITTED another transaction (a PROPPATCH) may
// have inserted a row there since, and a plain INSERT would fail on it (23505). The copied value
// wins for that name, as if the PROPPATCH had come first; its other names stay, as if it had
// come after.
constexpr const char kCopiedWins[] =
    " ON CONFLICT (path, ns, name) DO UPDATE SET value = excluded.value";

// An XML element always has a local name; an empty one is a caller bug, caught before anything
// is written.
Status CheckNames(const std::vector<PropertyChange>& changes) {
  for (const PropertyChange& c : changes) {
    if (c.name.local.empty()) return Status::InvalidArgument("property with an empty name");
  }
  return Status::Ok();
}

// Each change in turn, on `conn` (in a transaction when there are several).
Status ApplyIn(PgConnection& conn, const ResourcePath& path,
               const std::vector<PropertyChange>& changes) {
  for (const PropertyChange& c : changes) {
    PgParams params;
    params.Bytes(path.str()).Bytes(c.name.ns).Bytes(c.name.local);
    Result<PgResult> r =
        c.remove ? conn.Exec(
                       "DELETE FROM properties WHERE path = $1::bytea AND ns = $2::bytea AND "
                       "name = $3::bytea",
                       params)
                 : conn.Exec(
                       "INSERT INTO properties (path, ns, name, value) "
                       "VALUES ($1::bytea, $2::bytea, $3::bytea, $4::bytea) "
                       "ON CONFLICT (path, ns, name) DO UPDATE SET value = excluded.value",
                       params.Bytes(c.value));
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

PgParams& BindRename(const SubtreeRange& range, const ResourcePath& from, const ResourcePath& to,
                     PgParams& params) {
  return PgSubtree::Bind(range, params)
      .Bytes(to.str())
      .Bytes(to.IsRoot() ? std::string_view() : std::string_view(to.str()))
      .Int(from.IsRoot() ? 1 : static_cast<int64_t>(from.str().size()) + 1);
}

}  // namespace

Status PgPropertyStore::DeleteTreeIn(PgConnection& conn, const ResourcePath& path) {
  static const std::string kSql = "DELETE FROM properties WHERE " + SubtreeWhere();
  SubtreeRange range(path);
  PgParams params;
  return conn.Exec(kSql, PgSubtree::Bind(range, params)).status();
}

Status PgPropertyStore::CopyTreeIn(PgConnection& conn, const ResourcePath& from,
                                   const ResourcePath& to) {
  Status s = DeleteTreeIn(conn, to);
  if (!s.ok()) return s;
  static const std::string kSql =
      "INSERT INTO properties (path, ns, name, value) SELECT " + std::string(kRenamedPath) +
      ", ns, name, value FROM properties WHERE " + SubtreeWhere() + kCopiedWins;
  SubtreeRange range(from);
  PgParams params;
  return conn.Exec(kSql, BindRename(range, from, to, params)).status();
}

Status PgPropertyStore::MoveTreeIn(PgConnection& conn, const ResourcePath& from,
                                   const ResourcePath& to) {
  Status s = DeleteTreeIn(conn, to);
  if (!s.ok()) return s;
  // One statement: the rows are taken out of the source's subtree and put back under the
  // destination's (the trees are disjoint, so no new path meets an old one). Not an UPDATE of
  // the path: it could not give way to a row inserted at the destination since the DELETE
  // above (kCopiedWins).
  static const std::string kSql =
      "WITH moved AS (DELETE FROM properties WHERE " + SubtreeWhere() +
      " RETURNING path, ns, name, value) INSERT INTO properties (path, ns, name, value) SELECT " +
      std::string(kRenamedPath) + ", ns, name, value FROM moved" + kCopiedWins;
  SubtreeRange range(from);
  PgParams params;
  return conn.Exec(kSql, BindRename(range, from, to, params)).status();
}

Status PgPropertyStore::CopyOneIn(PgConnection& conn, const ResourcePath& from,
                                  const ResourcePath& to) {
  PgParams del;
  Status s =
      conn.Exec("DELETE FROM properties WHERE path = $1::bytea", del.Bytes(to.str())).status();
  if (!s.ok()) return s;
  PgParams params;
  return conn
      .Exec(
          std::string("INSERT INTO properties (path, ns, name, value) "
                      "SELECT $2::bytea, ns, name, value FROM properties WHERE path = $1::bytea") +
              kCopiedWins,
          params.Bytes(from.str()).Bytes(to.str()))
      .status();
}

Result<std::vector<DeadProperty>> PgPropertyStore::GetAll(const ResourcePath& path) {
  std::vector<DeadProperty> out;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> rows =
        conn.Exec("SELECT ns, name, value FROM properties WHERE path = $1::bytea ORDER BY ns, name",
                  params.Bytes(path.str()));
    if (!rows.ok()) return rows.status();
    out.clear();
    for (int i = 0; i < rows->rows(); ++i) {
      DeadProperty p;
      p.name.ns = std::string(rows->Bytes(i, 0));
      p.name.local = std::string(rows->Bytes(i, 1));
      p.value = std::string(rows->Bytes(i, 2));
      out.push_back(std::move(p));
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::string> PgPropertyStore::Get(const ResourcePath& path, const PropertyName& name) {
  std::string value;
  bool found = false;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> rows = conn.Exec(
        "SELECT value FROM properties WHERE path = $1::bytea AND ns = $2::bytea AND "
        "name = $3::bytea",
        params.Bytes(path.str()).Bytes(name.ns).Bytes(name.local));
    if (!rows.ok()) return rows.status();
    found = rows->rows() > 0;
    if (found) value = std::string(rows->Bytes(0, 0));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!found)
    return Status::NotFound("property {" + name.ns + "}" + name.local + " of " + path.str());
  return value;
}

Status PgPropertyStore::ForEachInMembers(
    const ResourcePath& dir,
    const std::function<void(std::string_view member_path, const DeadProperty&)>& visit) {
  return db_.Autocommit([&](PgConnection& conn) -> Status {
    // Members lie strictly inside (low, high) -- the root's own "/" equals low and is excluded
    // -- and have no further '/' after the prefix (byte $3 onwards).
    SubtreeRange range(dir);
    PgParams params;
    Result<PgResult> rows = conn.Exec(
        "SELECT path, ns, name, value FROM properties "
        "WHERE path > $1::bytea AND path < $2::bytea "
        "AND position('\\x2f'::bytea IN substring(path FROM $3::int4)) = 0 "
        "ORDER BY path, ns, name",
        params.Bytes(range.low).Bytes(range.high).Int(static_cast<int64_t>(range.low.size()) + 1));
    if (!rows.ok()) return rows.status();
    DeadProperty p;
    for (int i = 0; i < rows->rows(); ++i) {
      p.name.ns.assign(rows->Bytes(i, 1));
      p.name.local.assign(rows->Bytes(i, 2));
      p.value.assign(rows->Bytes(i, 3));
      visit(rows->Bytes(i, 0), p);
    }
    return Status::Ok();
  });
}

Status PgPropertyStore::Apply(const ResourcePath& path,
                              const std::vector<PropertyChange>& changes) {
  Status s = CheckNames(changes);
  if (!s.ok()) return s;
  // One change (what most clients send: Finder, Windows and the sync apps set one property at
  // a time) is one statement, atomic alone, and an upsert or delete of given values, which may
  // run twice: no transaction, so one round trip instead of three (BEGIN, it, COMMIT).
  auto apply = [&](PgConnection& conn) { return ApplyIn(conn, path, changes); };
  return changes.size() == 1 ? db_.Autocommit(apply) : db_.Transact(apply);
}

Result<bool> PgPropertyStore::ApplyUnlessLocked(const ResourcePath& path,
                                                const std::vector<PropertyChange>& changes,
                                                int64_t now) {
  Status s = CheckNames(changes);
  if (!s.ok()) return s;
  const std::string chain = ByteaArrayLiteral(PathAndAncestors(path));
  bool applied = false;
  if (changes.size() == 1) {
    // One statement, so one round trip: the covering locks (PgLockStore's FindCovering rule)
    // and the upsert or delete see one snapshot, and the write happens only when there are
    // none. Run twice, it does the same again.
    const PropertyChange& c = changes.front();
    s = db_.Autocommit([&](PgConnection& conn) -> Status {
      PgParams params;
      params.Bytes(path.str()).Bytes(c.name.ns).Bytes(c.name.local);
      Result<PgResult> r =
          c.remove ? conn.Exec(
                         "WITH held AS (SELECT 1 FROM locks WHERE root = ANY($4::bytea[]) AND "
                         "expires_at > $5::int8 AND (infinite_depth OR root = $1::bytea) LIMIT 1), "
                         "done AS (DELETE FROM properties WHERE path = $1::bytea AND "
                         "ns = $2::bytea AND name = $3::bytea AND NOT EXISTS (SELECT 1 FROM held) "
                         "RETURNING 1) "
                         "SELECT NOT EXISTS (SELECT 1 FROM held)",
                         params.Text(chain).Int(now))
                   : conn.Exec(
                         "WITH held AS (SELECT 1 FROM locks WHERE root = ANY($5::bytea[]) AND "
                         "expires_at > $6::int8 AND (infinite_depth OR root = $1::bytea) LIMIT 1), "
                         "done AS (INSERT INTO properties (path, ns, name, value) "
                         "SELECT $1::bytea, $2::bytea, $3::bytea, $4::bytea "
                         "WHERE NOT EXISTS (SELECT 1 FROM held) "
                         "ON CONFLICT (path, ns, name) DO UPDATE SET value = excluded.value "
                         "RETURNING 1) "
                         "SELECT NOT EXISTS (SELECT 1 FROM held)",
                         params.Bytes(c.value).Text(chain).Int(now));
      if (!r.ok()) return r.status();
      applied = r->Bool(0, 0);
      return Status::Ok();
    });
  } else {
    s = db_.Transact([&](PgConnection& conn) -> Status {
      applied = false;
      PgParams params;
      Result<PgResult> held = conn.Exec(
          "SELECT 1 FROM locks WHERE root = ANY($1::bytea[]) AND expires_at > $2::int8 AND "
          "(infinite_depth OR root = $3::bytea) LIMIT 1",
          params.Text(chain).Int(now).Bytes(path.str()));
      if (!held.ok()) return held.status();
      if (held->rows() > 0) return Status::Ok();
      Status a = ApplyIn(conn, path, changes);
      if (!a.ok()) return a;  // Transact rolls back everything applied so far
      applied = true;
      return Status::Ok();
    });
  }
  if (!s.ok()) return s;
  return applied;
}

Status PgPropertyStore::CopyTree(const ResourcePath& from, const ResourcePath& to) {
  if (from == to) return Status::Ok();
  Status s = CheckDisjointTrees(from, to, "copy properties");
  if (!s.ok()) return s;
  return db_.Transact([&](PgConnection& conn) { return CopyTreeIn(conn, from, to); });
}

Status PgPropertyStore::MoveTree(const ResourcePath& from, const ResourcePath& to) {
  if (from == to) return Status::Ok();
  Status s = CheckDisjointTrees(from, to, "move properties");
  if (!s.ok()) return s;
  return db_.Transact([&](PgConnection& conn) { return MoveTreeIn(conn, from, to); });
}

Status PgPropertyStore::DeleteTree(const ResourcePath& path) {
  // One statement, and deleting twice deletes nothing more.
  return db_.Autocommit([&](PgConnection& conn) { return DeleteTreeIn(conn, path); });
}

Result<bool> PgPropertyStore::AnyUnder(const ResourcePath& path) {
  bool any = false;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    static const std::string kSql = "SELECT 1 FROM properties WHERE " + SubtreeWhere() + " LIMIT 1";
    SubtreeRange range(path);
    PgParams params;
    Result<PgResult> rows = conn.Exec(kSql, PgSubtree::Bind(range, params));
    if (!rows.ok()) return rows.status();
    any = rows->rows() > 0;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return any;
}

Result<std::vector<std::string>> PgPropertyStore::PathsUnder(const ResourcePath& path) {
  std::vector<std::string> out;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    static const std::string kSql =
        "SELECT DISTINCT path FROM properties WHERE " + SubtreeWhere() + " ORDER BY path";
    SubtreeRange range(path);
    PgParams params;
    Result<PgResult> rows = conn.Exec(kSql, PgSubtree::Bind(range, params));
    if (!rows.ok()) return rows.status();
    out.clear();
    for (int i = 0; i < rows->rows(); ++i) out.emplace_back(rows->Bytes(i, 0));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace keepdav::storage
