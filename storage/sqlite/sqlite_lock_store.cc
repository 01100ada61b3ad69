#include "storage/sqlite/sqlite_lock_store.h"

#include "storage/sqlite/sqlite_subtree_range.h"

namespace keepdav::storage {
namespace {

constexpr const char kColumns[] =
    "SELECT token, root, infinite_depth, exclusive, owner, timeout_s, expires_at, principal "
    "FROM locks ";

// Reads every row of a statement that selects kColumns. A root that no longer parses (a row
// written by hand, or by a future version with other path rules) is skipped rather than failing
// every query that meets it.
Result<std::vector<LockRecord>> ReadRows(Statement& st) {
  std::vector<LockRecord> out;
  while (st.Step()) {
    Result<ResourcePath> root = ResourcePath::Parse(st.ColumnText(1));
    if (!root.ok()) continue;
    LockRecord r;
    r.token = std::string(st.ColumnText(0));
    r.root = root.value();
    r.infinite_depth = st.ColumnInt(2) != 0;
    r.exclusive = st.ColumnInt(3) != 0;
    r.owner = std::string(st.ColumnBlob(4));
    r.timeout_s = st.ColumnInt(5);
    r.expires_at = st.ColumnInt(6);
    r.principal = std::string(st.ColumnText(7));
    out.push_back(std::move(r));
  }
  if (!st.status().ok()) return st.status();
  return out;
}

Result<int64_t> ReadCount(Statement& st) {
  if (!st.Step()) {
    return st.status().ok() ? Status::IoError("count returned no row") : st.status();
  }
  return st.ColumnInt(0);
}

// Runs a statement that changes rows and returns how many it changed. REQUIRES: db lock held.
Result<int64_t> RunCountingChanges(Database& db, Statement& st) {
  Status s = st.Run();
  if (!s.ok()) return s;
  Result<Statement> changes = db.Prepare("SELECT changes()");
  if (!changes.ok()) return changes.status();
  return ReadCount(*changes);
}

}  // namespace

bool SqliteLockStore::KnownEmptyLocked() {
  if (!db_.sole_user()) return false;
  if (rows_ < 0) {
    Result<Statement> st = db_.Prepare("SELECT count(*) FROM locks");
    if (!st.ok()) return false;
    Result<int64_t> n = ReadCount(*st);
    if (!n.ok()) return false;
    rows_ = *n;
  }
  return rows_ == 0;
}

Status SqliteLockStore::Insert(const LockRecord& lock) {
  if (lock.token.empty()) return Status::InvalidArgument("lock with an empty token");
  auto guard = db_.Lock();
  return InsertLocked(lock);
}

Status SqliteLockStore::InsertLocked(const LockRecord& lock) {
  Result<Statement> st = db_.Prepare(
      "INSERT INTO locks (token, root, infinite_depth, exclusive, owner, timeout_s, expires_at, "
      "principal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st.ok()) return st.status();
  st->BindText(1, lock.token)
      .BindText(2, lock.root.str())
      .BindInt(3, lock.infinite_depth ? 1 : 0)
      .BindInt(4, lock.exclusive ? 1 : 0)
      .BindBlob(5, lock.owner)
      .BindInt(6, lock.timeout_s)
      .BindInt(7, lock.expires_at)
      .BindText(8, lock.principal);
  Status s = st->Run();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("lock token " + lock.token + " is already in use");
  }
  if (s.ok()) CountRowsLocked(1);
  return s;
}

Result<bool> SqliteLockStore::InsertIfAllowed(
    const LockRecord& lock, int64_t now,
    const std::function<bool(const LockNeighbourhood&)>& allow) {
  if (lock.token.empty()) return Status::InvalidArgument("lock with an empty token");
  auto guard = db_.Lock();
  // The database lock serialises this process; the IMMEDIATE transaction another process on the
  // same file (a database not opened exclusive).
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Result<bool> inserted = InsertIfAllowedLocked(lock, now, allow);
  Status s = inserted.ok() ? tx.Commit() : inserted.status();
  if (!s.ok()) {
    rows_ = -1;  // the purge's count went back with the transaction: count again when needed
    return s;
  }
  return inserted;
}

Result<bool> SqliteLockStore::InsertIfAllowedLocked(
    const LockRecord& lock, int64_t now,
    const std::function<bool(const LockNeighbourhood&)>& allow) {
  Result<int64_t> purged = PurgeExpiredLocked(now);
  if (!purged.ok()) return purged.status();
  LockNeighbourhood around;
  Result<std::vector<LockRecord>> covering = FindCoveringLocked(lock.root, now);
  if (!covering.ok()) return covering.status();
  around.covering = std::move(covering).value();
  if (lock.infinite_depth) {
    Result<std::vector<LockRecord>> below = FindAtOrBelowLocked(lock.root, now);
    if (!below.ok()) return below.status();
    for (LockRecord& r : below.value()) {
      if (r.root != lock.root) around.below.push_back(std::move(r));
    }
  }
  Result<int64_t> at = CountAtLocked(lock.root, now);
  if (!at.ok()) return at.status();
  around.count_at_root = *at;
  Result<int64_t> total = CountLocked(now);
  if (!total.ok()) return total.status();
  around.count_total = *total;
  if (!allow(around)) return false;
  Status s = InsertLocked(lock);
  if (!s.ok()) return s;
  return true;
}

Result<LockRecord> SqliteLockStore::Find(const std::string& token, int64_t now) {
  auto guard = db_.Lock();
  Result<Statement> st =
      db_.Prepare(std::string(kColumns) + "WHERE token = ?1 AND expires_at > ?2");
  if (!st.ok()) return st.status();
  st->BindText(1, token).BindInt(2, now);
  Result<std::vector<LockRecord>> rows = ReadRows(*st);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no active lock with token " + token);
  return std::move(rows->front());
}

Result<std::vector<LockRecord>> SqliteLockStore::FindCovering(const ResourcePath& path,
                                                              int64_t now) {
  auto guard = db_.Lock();
  return FindCoveringLocked(path, now);
}

Result<std::vector<LockRecord>> SqliteLockStore::FindCoveringLocked(const ResourcePath& path,
                                                                    int64_t now) {
  if (KnownEmptyLocked()) return std::vector<LockRecord>();
  // One indexed lookup per ancestor: a path is a handful of segments, while a scan would read
  // every lock in the table for every request.
  std::vector<ResourcePath> chain;
  for (ResourcePath p = path;; p = p.Parent()) {
    chain.push_back(p);
    if (p.IsRoot()) break;
  }
  Result<Statement> st = db_.Prepare(
      std::string(kColumns) +
      "WHERE root = ?1 AND expires_at > ?2 AND (infinite_depth = 1 OR ?3 = 1) ORDER BY token");
  if (!st.ok()) return st.status();
  std::vector<LockRecord> out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    st->Reset();
    st->BindText(1, it->str()).BindInt(2, now).BindInt(3, *it == path ? 1 : 0);
    Result<std::vector<LockRecord>> rows = ReadRows(*st);
    if (!rows.ok()) return rows.status();
    for (LockRecord& r : rows.value()) out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<LockRecord>> SqliteLockStore::FindAtOrBelow(const ResourcePath& path,
                                                               int64_t now) {
  auto guard = db_.Lock();
  return FindAtOrBelowLocked(path, now);
}

Result<std::vector<LockRecord>> SqliteLockStore::FindAtOrBelowLocked(const ResourcePath& path,
                                                                     int64_t now) {
  if (KnownEmptyLocked()) return std::vector<LockRecord>();
  static const std::string kSql = std::string(kColumns) + "WHERE " + SqliteSubtree::Where("root") +
                                  " AND expires_at > ?4 ORDER BY root, token";
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  SqliteSubtree::Bind(SubtreeRange(path), *st);
  st->BindInt(4, now);
  return ReadRows(*st);
}

Result<std::vector<LockRecord>> SqliteLockStore::All(int64_t now) {
  auto guard = db_.Lock();
  Result<Statement> st =
      db_.Prepare(std::string(kColumns) + "WHERE expires_at > ?1 ORDER BY root, token");
  if (!st.ok()) return st.status();
  st->BindInt(1, now);
  return ReadRows(*st);
}

Result<int64_t> SqliteLockStore::Count(int64_t now) {
  auto guard = db_.Lock();
  return CountLocked(now);
}

Result<int64_t> SqliteLockStore::CountLocked(int64_t now) {
  Result<Statement> st = db_.Prepare("SELECT count(*) FROM locks WHERE expires_at > ?1");
  if (!st.ok()) return st.status();
  st->BindInt(1, now);
  return ReadCount(*st);
}

Result<int64_t> SqliteLockStore::CountAt(const ResourcePath& path, int64_t now) {
  auto guard = db_.Lock();
  return CountAtLocked(path, now);
}

Result<int64_t> SqliteLockStore::CountAtLocked(const ResourcePath& path, int64_t now) {
  Result<Statement> st =
      db_.Prepare("SELECT count(*) FROM locks WHERE root = ?1 AND expires_at > ?2");
  if (!st.ok()) return st.status();
  st->BindText(1, path.str()).BindInt(2, now);
  return ReadCount(*st);
}

Status SqliteLockStore::SetExpiry(const std::string& token, int64_t timeout_s, int64_t expires_at,
                                  int64_t now) {
  auto guard = db_.Lock();
  Result<Statement> st = db_.Prepare(
      "UPDATE locks SET timeout_s = ?2, expires_at = ?3 WHERE token = ?1 AND expires_at > ?4");
  if (!st.ok()) return st.status();
  st->BindText(1, token).BindInt(2, timeout_s).BindInt(3, expires_at).BindInt(4, now);
  Result<int64_t> n = RunCountingChanges(db_, *st);
  if (!n.ok()) return n.status();
  if (*n == 0) return Status::NotFound("no active lock with token " + token);
  return Status::Ok();
}

Status SqliteLockStore::Delete(const std::string& token) {
  auto guard = db_.Lock();
  Result<Statement> st = db_.Prepare("DELETE FROM locks WHERE token = ?1");
  if (!st.ok()) return st.status();
  st->BindText(1, token);
  Result<int64_t> n = RunCountingChanges(db_, *st);
  if (!n.ok()) return n.status();
  CountRowsLocked(-*n);
  if (*n == 0) return Status::NotFound("no lock with token " + token);
  return Status::Ok();
}

Result<int64_t> SqliteLockStore::DeleteTree(const ResourcePath& path, bool keep_root) {
  auto guard = db_.Lock();
  if (KnownEmptyLocked()) return int64_t{0};
  // The subtree, less its root's own locks when ?4 = 1 (the root "/" lies in its own range).
  static const std::string kSql =
      "DELETE FROM locks WHERE " + SqliteSubtree::Where("root") + " AND NOT (?4 = 1 AND root = ?1)";
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  SqliteSubtree::Bind(SubtreeRange(path), *st);
  st->BindInt(4, keep_root ? 1 : 0);
  Result<int64_t> n = RunCountingChanges(db_, *st);
  if (n.ok()) CountRowsLocked(-*n);
  return n;
}

Result<int64_t> SqliteLockStore::PurgeExpired(int64_t now) {
  auto guard = db_.Lock();
  return PurgeExpiredLocked(now);
}

Result<int64_t> SqliteLockStore::PurgeExpiredLocked(int64_t now) {
  Result<Statement> st = db_.Prepare("DELETE FROM locks WHERE expires_at <= ?1");
  if (!st.ok()) return st.status();
  st->BindInt(1, now);
  Result<int64_t> n = RunCountingChanges(db_, *st);
  if (n.ok()) CountRowsLocked(-*n);
  return n;
}

}  // namespace keepdav::storage
