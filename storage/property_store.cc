#include "storage/property_store.h"

namespace keepdav::storage {
namespace {

// The subtree of P is P itself plus every path in [P + "/", P + "0"): '0' is the byte after '/',
// so the range holds exactly the paths that continue P with a slash, "/a/b" but not "/ab", and
// it can use the primary key. For the root every path lies in ["/", "0"). Paths compare
// bytewise (BINARY collation), like std::string.
struct SubtreeRange {
  explicit SubtreeRange(const ResourcePath& p)
      : self(p.str()),
        low(p.IsRoot() ? "/" : p.str() + "/"),
        high(p.IsRoot() ? "0" : p.str() + "0") {}
  std::string self;
  std::string low;
  std::string high;
};

// Parameters ?1 = self, ?2 = low, ?3 = high.
constexpr const char kSubtreeWhere[] = "(path = ?1 OR (path >= ?2 AND path < ?3))";

void BindSubtree(Statement& st, const SubtreeRange& r) {
  st.BindText(1, r.self).BindText(2, r.low).BindText(3, r.high);
}

}  // namespace

Status PropertyStore::DeleteTreeLocked(Database& db, const ResourcePath& path) {
  Result<Statement> st = db.Prepare(std::string("DELETE FROM properties WHERE ") + kSubtreeWhere);
  if (!st.ok()) return st.status();
  BindSubtree(*st, SubtreeRange(path));
  return st->Run();
}

Status PropertyStore::CopyTreeLocked(Database& db, const ResourcePath& from,
                                     const ResourcePath& to) {
  Status s = DeleteTreeLocked(db, to);
  if (!s.ok()) return s;
  // New path: `to` for `from` itself, else `to` followed by the rest of the old path after
  // `from` ("/x/y"). The rest is cut by bytes (CAST AS BLOB) because substr() and length() on
  // TEXT count characters, which would go wrong for paths that are not valid UTF-8.
  // ?4 = `to`, ?5 = `to` as a prefix ("" for the root), ?6 = 1-based byte where the rest starts.
  Result<Statement> st =
      db.Prepare(std::string("INSERT INTO properties (path, ns, name, value) "
                             "SELECT CASE WHEN path = ?1 THEN ?4 "
                             "ELSE ?5 || substr(CAST(path AS BLOB), ?6) END, ns, name, value "
                             "FROM properties WHERE ") +
                 kSubtreeWhere);
  if (!st.ok()) return st.status();
  BindSubtree(*st, SubtreeRange(from));
  st->BindText(4, to.str())
      .BindText(5, to.IsRoot() ? std::string_view() : std::string_view(to.str()))
      .BindInt(6, from.IsRoot() ? 1 : static_cast<int64_t>(from.str().size()) + 1);
  return st->Run();
}

Status PropertyStore::CopyOneLocked(Database& db, const ResourcePath& from,
                                    const ResourcePath& to) {
  Result<Statement> del = db.Prepare("DELETE FROM properties WHERE path = ?1");
  if (!del.ok()) return del.status();
  del->BindText(1, to.str());
  Status s = del->Run();
  if (!s.ok()) return s;
  Result<Statement> st = db.Prepare(
      "INSERT INTO properties (path, ns, name, value) "
      "SELECT ?2, ns, name, value FROM properties WHERE path = ?1");
  if (!st.ok()) return st.status();
  st->BindText(1, from.str()).BindText(2, to.str());
  return st->Run();
}

namespace {

// COPY and MOVE onto an ancestor or descendant are refused by WebDAV (RFC 4918 §9.8.5, §9.9.4:
// 403 when source and destination overlap), and the delete-then-copy above would lose data.
Status CheckDisjoint(const ResourcePath& from, const ResourcePath& to, const char* op) {
  if (from.Contains(to) || to.Contains(from)) {
    return Status::InvalidArgument(std::string(op) + " " + from.str() + " to " + to.str() +
                                   ": source and destination overlap");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<DeadProperty>> PropertyStore::GetAll(const ResourcePath& path) {
  auto lock = db_.Lock();
  Result<Statement> st =
      db_.Prepare("SELECT ns, name, value FROM properties WHERE path = ?1 ORDER BY ns, name");
  if (!st.ok()) return st.status();
  st->BindText(1, path.str());
  std::vector<DeadProperty> out;
  while (st->Step()) {
    DeadProperty p;
    p.name.ns = std::string(st->ColumnText(0));
    p.name.local = std::string(st->ColumnText(1));
    p.value = std::string(st->ColumnBlob(2));
    out.push_back(std::move(p));
  }
  if (!st->status().ok()) return st->status();
  return out;
}

Result<std::string> PropertyStore::Get(const ResourcePath& path, const PropertyName& name) {
  auto lock = db_.Lock();
  Result<Statement> st =
      db_.Prepare("SELECT value FROM properties WHERE path = ?1 AND ns = ?2 AND name = ?3");
  if (!st.ok()) return st.status();
  st->BindText(1, path.str()).BindText(2, name.ns).BindText(3, name.local);
  if (st->Step()) return std::string(st->ColumnBlob(0));
  if (!st->status().ok()) return st->status();
  return Status::NotFound("property {" + name.ns + "}" + name.local + " of " + path.str());
}

Status PropertyStore::ForEachInMembers(
    const ResourcePath& dir,
    const std::function<void(std::string_view member_path, const DeadProperty&)>& visit) {
  auto lock = db_.Lock();
  // Members lie strictly inside (low, high) — the root's own "/" equals low and is excluded —
  // and have no further '/' after the prefix (byte ?3 onwards).
  Result<Statement> st = db_.Prepare(
      "SELECT path, ns, name, value FROM properties "
      "WHERE path > ?1 AND path < ?2 AND instr(substr(CAST(path AS BLOB), ?3), X'2F') = 0 "
      "ORDER BY path, ns, name");
  if (!st.ok()) return st.status();
  SubtreeRange range(dir);
  st->BindText(1, range.low)
      .BindText(2, range.high)
      .BindInt(3, static_cast<int64_t>(range.low.size()) + 1);
  DeadProperty p;
  while (st->Step()) {
    p.name.ns = std::string(st->ColumnText(1));
    p.name.local = std::string(st->ColumnText(2));
    p.value = std::string(st->ColumnBlob(3));
    visit(st->ColumnText(0), p);
  }
  return st->status();
}

Status PropertyStore::Apply(const ResourcePath& path, const std::vector<PropertyChange>& changes) {
  for (const PropertyChange& c : changes) {
    // An XML element always has a local name; an empty one is a caller bug, caught before
    // anything is written.
    if (c.name.local.empty()) return Status::InvalidArgument("property with an empty name");
  }
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Result<Statement> set = db_.Prepare(
      "INSERT INTO properties (path, ns, name, value) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (path, ns, name) DO UPDATE SET value = excluded.value");
  if (!set.ok()) return set.status();
  Result<Statement> remove =
      db_.Prepare("DELETE FROM properties WHERE path = ?1 AND ns = ?2 AND name = ?3");
  if (!remove.ok()) return remove.status();
  for (const PropertyChange& c : changes) {
    Statement& st = c.remove ? *remove : *set;
    st.Reset();
    st.BindText(1, path.str()).BindText(2, c.name.ns).BindText(3, c.name.local);
    if (!c.remove) st.BindBlob(4, c.value);
    Status s = st.Run();
    if (!s.ok()) return s;  // `tx` rolls back everything applied so far
  }
  return tx.Commit();
}

Status PropertyStore::CopyTree(const ResourcePath& from, const ResourcePath& to) {
  if (from == to) return Status::Ok();
  Status s = CheckDisjoint(from, to, "copy properties");
  if (!s.ok()) return s;
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  s = CopyTreeLocked(db_, from, to);
  if (!s.ok()) return s;
  return tx.Commit();
}

Status PropertyStore::MoveTree(const ResourcePath& from, const ResourcePath& to) {
  if (from == to) return Status::Ok();
  Status s = CheckDisjoint(from, to, "move properties");
  if (!s.ok()) return s;
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  s = MoveTreeLocked(db_, from, to);
  if (!s.ok()) return s;
  return tx.Commit();
}

Status PropertyStore::MoveTreeLocked(Database& db, const ResourcePath& from,
                                     const ResourcePath& to) {
  Status s = CopyTreeLocked(db, from, to);
  return s.ok() ? DeleteTreeLocked(db, from) : s;
}

Status PropertyStore::DeleteTree(const ResourcePath& path) {
  auto lock = db_.Lock();
  return DeleteTreeLocked(db_, path);
}

Result<bool> PropertyStore::AnyUnder(const ResourcePath& path) {
  auto lock = db_.Lock();
  Result<Statement> st =
      db_.Prepare(std::string("SELECT 1 FROM properties WHERE ") + kSubtreeWhere + " LIMIT 1");
  if (!st.ok()) return st.status();
  BindSubtree(*st, SubtreeRange(path));
  bool any = st->Step();
  if (!st->status().ok()) return st->status();
  return any;
}

Result<std::vector<std::string>> PropertyStore::PathsUnder(const ResourcePath& path) {
  auto lock = db_.Lock();
  Result<Statement> st = db_.Prepare(std::string("SELECT DISTINCT path FROM properties WHERE ") +
                                     kSubtreeWhere + " ORDER BY path");
  if (!st.ok()) return st.status();
  BindSubtree(*st, SubtreeRange(path));
  std::vector<std::string> out;
  while (st->Step()) out.emplace_back(st->ColumnText(0));
  if (!st->status().ok()) return st->status();
  return out;
}

}  // namespace keepdav::storage
