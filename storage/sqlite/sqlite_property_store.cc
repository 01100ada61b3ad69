#include "storage/sqlite/sqlite_property_store.h"

#include "storage/sqlite/sqlite_subtree_range.h"

namespace keepdav::storage {
namespace {

// "(path = ?1 OR (path >= ?2 AND path < ?3))", bound by SqliteSubtree::Bind. The statements
// built from it are static strings, made once: the statement cache is keyed by their text.
const std::string& SubtreeWhere() {
  static const std::string kWhere = SqliteSubtree::Where("path");
  return kWhere;
}

}  // namespace

Status SqlitePropertyStore::DeleteTreeLocked(const ResourcePath& path) {
  static const std::string kSql = "DELETE FROM properties WHERE " + SubtreeWhere();
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  SqliteSubtree::Bind(SubtreeRange(path), *st);
  return st->Run();
}

Status SqlitePropertyStore::CopyTreeLocked(const ResourcePath& from, const ResourcePath& to) {
  Status s = DeleteTreeLocked(to);
  if (!s.ok()) return s;
  // New path: `to` for `from` itself, else `to` followed by the rest of the old path after
  // `from` ("/x/y"). The rest is cut by bytes (CAST AS BLOB) because substr() and length() on
  // TEXT count characters, which would go wrong for paths that are not valid UTF-8.
  // ?4 = `to`, ?5 = `to` as a prefix ("" for the root), ?6 = 1-based byte where the rest starts.
  static const std::string kSql =
      "INSERT INTO properties (path, ns, name, value) "
      "SELECT CASE WHEN path = ?1 THEN ?4 "
      "ELSE ?5 || substr(CAST(path AS BLOB), ?6) END, ns, name, value "
      "FROM properties WHERE " +
      SubtreeWhere();
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  SqliteSubtree::Bind(SubtreeRange(from), *st);
  st->BindText(4, to.str())
      .BindText(5, to.IsRoot() ? std::string_view() : std::string_view(to.str()))
      .BindInt(6, from.IsRoot() ? 1 : static_cast<int64_t>(from.str().size()) + 1);
  return st->Run();
}

Status SqlitePropertyStore::CopyOneLocked(const ResourcePath& from, const ResourcePath& to) {
  Result<Statement> del = db_.Prepare("DELETE FROM properties WHERE path = ?1");
  if (!del.ok()) return del.status();
  del->BindText(1, to.str());
  Status s = del->Run();
  if (!s.ok()) return s;
  Result<Statement> st = db_.Prepare(
      "INSERT INTO properties (path, ns, name, value) "
      "SELECT ?2, ns, name, value FROM properties WHERE path = ?1");
  if (!st.ok()) return st.status();
  st->BindText(1, from.str()).BindText(2, to.str());
  return st->Run();
}

Result<std::vector<DeadProperty>> SqlitePropertyStore::GetAll(const ResourcePath& path) {
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

Result<std::string> SqlitePropertyStore::Get(const ResourcePath& path, const PropertyName& name) {
  auto lock = db_.Lock();
  Result<Statement> st =
      db_.Prepare("SELECT value FROM properties WHERE path = ?1 AND ns = ?2 AND name = ?3");
  if (!st.ok()) return st.status();
  st->BindText(1, path.str()).BindText(2, name.ns).BindText(3, name.local);
  if (st->Step()) return std::string(st->ColumnBlob(0));
  if (!st->status().ok()) return st->status();
  return Status::NotFound("property {" + name.ns + "}" + name.local + " of " + path.str());
}

Status SqlitePropertyStore::ForEachInMembers(
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

Status SqlitePropertyStore::Apply(const ResourcePath& path,
                                  const std::vector<PropertyChange>& changes) {
  Result<bool> applied = ApplyIf(path, changes, std::nullopt);
  return applied.ok() ? Status::Ok() : applied.status();
}

Result<bool> SqlitePropertyStore::ApplyUnlessLocked(const ResourcePath& path,
                                                    const std::vector<PropertyChange>& changes,
                                                    int64_t now) {
  return ApplyIf(path, changes, now);
}

Result<bool> SqlitePropertyStore::AnyLockCoversLocked(const ResourcePath& path, int64_t now) {
  // The lock store's rule (SqliteLockStore::FindCoveringLocked): one indexed lookup per
  // ancestor, root first.
  Result<Statement> st = db_.Prepare(
      "SELECT 1 FROM locks WHERE root = ?1 AND expires_at > ?2 AND (infinite_depth = 1 OR ?3 = 1) "
      "LIMIT 1");
  if (!st.ok()) return st.status();
  for (ResourcePath p = path;; p = p.Parent()) {
    st->Reset();
    st->BindText(1, p.str()).BindInt(2, now).BindInt(3, p == path ? 1 : 0);
    if (st->Step()) return true;
    if (!st->status().ok()) return st->status();
    if (p.IsRoot()) return false;
  }
}

Result<bool> SqlitePropertyStore::ApplyIf(const ResourcePath& path,
                                          const std::vector<PropertyChange>& changes,
                                          std::optional<int64_t> unless_locked_at) {
  for (const PropertyChange& c : changes) {
    // An XML element always has a local name; an empty one is a caller bug, caught before
    // anything is written.
    if (c.name.local.empty()) return Status::InvalidArgument("property with an empty name");
  }
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  if (unless_locked_at) {
    Result<bool> locked = AnyLockCoversLocked(path, *unless_locked_at);
    if (!locked.ok()) return locked.status();
    if (*locked) return false;  // `tx` ends unchanged
  }
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
  Status committed = tx.Commit();
  if (!committed.ok()) return committed;
  return true;
}

Status SqlitePropertyStore::CopyTree(const ResourcePath& from, const ResourcePath& to) {
  if (from == to) return Status::Ok();
  Status s = CheckDisjointTrees(from, to, "copy properties");
  if (!s.ok()) return s;
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  s = CopyTreeLocked(from, to);
  if (!s.ok()) return s;
  return tx.Commit();
}

Status SqlitePropertyStore::MoveTree(const ResourcePath& from, const ResourcePath& to) {
  if (from == to) return Status::Ok();
  Status s = CheckDisjointTrees(from, to, "move properties");
  if (!s.ok()) return s;
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  s = MoveTreeLocked(from, to);
  if (!s.ok()) return s;
  return tx.Commit();
}

Status SqlitePropertyStore::MoveTreeLocked(const ResourcePath& from, const ResourcePath& to) {
  Status s = CopyTreeLocked(from, to);
  return s.ok() ? DeleteTreeLocked(from) : s;
}

Status SqlitePropertyStore::DeleteTree(const ResourcePath& path) {
  auto lock = db_.Lock();
  return DeleteTreeLocked(path);
}

Result<bool> SqlitePropertyStore::AnyUnder(const ResourcePath& path) {
  auto lock = db_.Lock();
  static const std::string kSql = "SELECT 1 FROM properties WHERE " + SubtreeWhere() + " LIMIT 1";
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  SqliteSubtree::Bind(SubtreeRange(path), *st);
  bool any = st->Step();
  if (!st->status().ok()) return st->status();
  return any;
}

Result<std::vector<std::string>> SqlitePropertyStore::PathsUnder(const ResourcePath& path) {
  auto lock = db_.Lock();
  static const std::string kSql =
      "SELECT DISTINCT path FROM properties WHERE " + SubtreeWhere() + " ORDER BY path";
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  SqliteSubtree::Bind(SubtreeRange(path), *st);
  std::vector<std::string> out;
  while (st->Step()) out.emplace_back(st->ColumnText(0));
  if (!st->status().ok()) return st->status();
  return out;
}

}  // namespace keepdav::storage
