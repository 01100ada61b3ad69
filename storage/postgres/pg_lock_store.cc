#include "storage/postgres/pg_lock_store.h"

#include "storage/postgres/pg_subtree_range.h"

namespace keepdav::storage {
namespace {

constexpr const char kColumns[] =
    "SELECT token, root, infinite_depth, exclusive, owner, timeout_s, expires_at, principal "
    "FROM locks ";

// Reads every row of a result that selects kColumns. A root that no longer parses (a row
// written by hand, or by a future version with other path rules) is skipped, as in SQLite.
std::vector<LockRecord> ReadRows(const PgResult& rows) {
  std::vector<LockRecord> out;
  for (int i = 0; i < rows.rows(); ++i) {
    Result<ResourcePath> root = ResourcePath::Parse(rows.Bytes(i, 1));
    if (!root.ok()) continue;
    LockRecord r;
    r.token = std::string(rows.Bytes(i, 0));
    r.root = root.value();
    r.infinite_depth = rows.Bool(i, 2);
    r.exclusive = rows.Bool(i, 3);
    r.owner = std::string(rows.Bytes(i, 4));
    r.timeout_s = rows.Int(i, 5);
    r.expires_at = rows.Int(i, 6);
    r.principal = std::string(rows.Bytes(i, 7));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<LockRecord>> FindCoveringIn(PgConnection& conn, const ResourcePath& path,
                                               int64_t now) {
  // Ordered by root: an ancestor's bytes are a prefix of its descendants', so outermost first.
  PgParams params;
  Result<PgResult> rows =
      conn.Exec(std::string(kColumns) +
                    "WHERE root = ANY($1::bytea[]) AND expires_at > $2::int8 "
                    "AND (infinite_depth OR root = $3::bytea) ORDER BY root, token",
                params.Text(ByteaArrayLiteral(PathAndAncestors(path))).Int(now).Bytes(path.str()));
  if (!rows.ok()) return rows.status();
  return ReadRows(*rows);
}

Result<std::vector<LockRecord>> FindAtOrBelowIn(PgConnection& conn, const ResourcePath& path,
                                                int64_t now) {
  static const std::string kSql = std::string(kColumns) + "WHERE " + PgSubtree::Where("root") +
                                  " AND expires_at > $4::int8 ORDER BY root, token";
  SubtreeRange range(path);
  PgParams params;
  Result<PgResult> rows = conn.Exec(kSql, PgSubtree::Bind(range, params).Int(now));
  if (!rows.ok()) return rows.status();
  return ReadRows(*rows);
}

Status InsertIn(PgConnection& conn, const LockRecord& lock) {
  PgParams params;
  params.Bytes(lock.token)
      .Bytes(lock.root.str())
      .Bool(lock.infinite_depth)
      .Bool(lock.exclusive)
      .Bytes(lock.owner)
      .Int(lock.timeout_s)
      .Int(lock.expires_at)
      .Bytes(lock.principal);
  Status s = conn.Exec(
                     "INSERT INTO locks (token, root, infinite_depth, exclusive, owner, "
                     "timeout_s, expires_at, principal) VALUES ($1::bytea, $2::bytea, "
                     "$3::int4 <> 0, $4::int4 <> 0, $5::bytea, $6::int8, $7::int8, $8::bytea)",
                     params)
                 .status();
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("lock token " + lock.token + " is already in use");
  }
  return s;
}

Result<int64_t> CountOf(PgConnection& conn, std::string_view sql, const PgParams& params) {
  Result<PgResult> rows = conn.Exec(sql, params);
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) return Status::IoError("count returned no row");
  return rows->Int(0, 0);
}

}  // namespace

int64_t PgLockStore::PathKey(const std::string& path) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : path) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int64_t>(h);
}

Status PgLockStore::Insert(const LockRecord& lock) {
  if (lock.token.empty()) return Status::InvalidArgument("lock with an empty token");
  return db_.Transact([&](PgConnection& conn) { return InsertIn(conn, lock); });
}

Result<bool> PgLockStore::InsertIfAllowed(
    const LockRecord& lock, int64_t now,
    const std::function<bool(const LockNeighbourhood&)>& allow) {
  if (lock.token.empty()) return Status::InvalidArgument("lock with an empty token");
  std::vector<std::string> chain = PathAndAncestors(lock.root);
  std::string ancestors = "{";
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    if (i > 0) ancestors += ',';
    ancestors += std::to_string(PathKey(chain[i]));
  }
  ancestors += '}';
  bool inserted = false;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    inserted = false;
    PgParams keys;
    Status st = conn.Exec("SELECT keepdav_lock_path_chain($1::int8[], $2::int8)",
                          keys.Text(ancestors).Int(PathKey(lock.root.str())))
                    .status();
    if (!st.ok()) return st;
    PgParams purge;
    st = conn.Exec("DELETE FROM locks WHERE expires_at <= $1::int8", purge.Int(now)).status();
    if (!st.ok()) return st;
    LockNeighbourhood around;
    Result<std::vector<LockRecord>> covering = FindCoveringIn(conn, lock.root, now);
    if (!covering.ok()) return covering.status();
    around.covering = std::move(covering).value();
    if (lock.infinite_depth) {
      Result<std::vector<LockRecord>> below = FindAtOrBelowIn(conn, lock.root, now);
      if (!below.ok()) return below.status();
      for (LockRecord& r : below.value()) {
        if (r.root != lock.root) around.below.push_back(std::move(r));
      }
    }
    PgParams count;
    Result<PgResult> counts = conn.Exec(
        "SELECT count(*) FILTER (WHERE root = $1::bytea), count(*) FROM locks "
        "WHERE expires_at > $2::int8",
        count.Bytes(lock.root.str()).Int(now));
    if (!counts.ok()) return counts.status();
    around.count_at_root = counts->Int(0, 0);
    around.count_total = counts->Int(0, 1);
    if (!allow(around)) return Status::Ok();  // commits the purge alone
    st = InsertIn(conn, lock);
    if (st.ok()) inserted = true;
    return st;
  });
  if (!s.ok()) return s;
  return inserted;
}

Result<LockRecord> PgLockStore::Find(const std::string& token, int64_t now) {
  std::vector<LockRecord> found;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> rows =
        conn.Exec(std::string(kColumns) + "WHERE token = $1::bytea AND expires_at > $2::int8",
                  params.Bytes(token).Int(now));
    if (!rows.ok()) return rows.status();
    found = ReadRows(*rows);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (found.empty()) return Status::NotFound("no active lock with token " + token);
  return std::move(found.front());
}

Result<std::vector<LockRecord>> PgLockStore::FindCovering(const ResourcePath& path, int64_t now) {
  std::vector<LockRecord> out;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    Result<std::vector<LockRecord>> rows = FindCoveringIn(conn, path, now);
    if (!rows.ok()) return rows.status();
    out = std::move(rows).value();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<LockRecord>> PgLockStore::FindAtOrBelow(const ResourcePath& path, int64_t now) {
  std::vector<LockRecord> out;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    Result<std::vector<LockRecord>> rows = FindAtOrBelowIn(conn, path, now);
    if (!rows.ok()) return rows.status();
    out = std::move(rows).value();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<LockRecord>> PgLockStore::All(int64_t now) {
  std::vector<LockRecord> out;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> rows =
        conn.Exec(std::string(kColumns) + "WHERE expires_at > $1::int8 ORDER BY root, token",
                  params.Int(now));
    if (!rows.ok()) return rows.status();
    out = ReadRows(*rows);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<int64_t> PgLockStore::Count(int64_t now) {
  int64_t n = 0;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<int64_t> c =
        CountOf(conn, "SELECT count(*) FROM locks WHERE expires_at > $1::int8", params.Int(now));
    if (!c.ok()) return c.status();
    n = *c;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return n;
}

Result<int64_t> PgLockStore::CountAt(const ResourcePath& path, int64_t now) {
  int64_t n = 0;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<int64_t> c =
        CountOf(conn, "SELECT count(*) FROM locks WHERE root = $1::bytea AND expires_at > $2::int8",
                params.Bytes(path.str()).Int(now));
    if (!c.ok()) return c.status();
    n = *c;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return n;
}

Status PgLockStore::SetExpiry(const std::string& token, int64_t timeout_s, int64_t expires_at,
                              int64_t now) {
  int64_t changed = 0;
  // Setting given values is safe to run twice; the second run finds the lock still active.
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> r = conn.Exec(
        "UPDATE locks SET timeout_s = $2::int8, expires_at = $3::int8 "
        "WHERE token = $1::bytea AND expires_at > $4::int8",
        params.Bytes(token).Int(timeout_s).Int(expires_at).Int(now));
    if (!r.ok()) return r.status();
    changed = r->Affected();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (changed == 0) return Status::NotFound("no active lock with token " + token);
  return Status::Ok();
}

Status PgLockStore::Delete(const std::string& token) {
  int64_t changed = 0;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> r =
        conn.Exec("DELETE FROM locks WHERE token = $1::bytea", params.Bytes(token));
    if (!r.ok()) return r.status();
    changed = r->Affected();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (changed == 0) return Status::NotFound("no lock with token " + token);
  return Status::Ok();
}

Result<int64_t> PgLockStore::DeleteTree(const ResourcePath& path, bool keep_root) {
  int64_t changed = 0;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    // The subtree, less its root's own locks when $4 = 1 (the root "/" lies in its own range).
    static const std::string kSql = "DELETE FROM locks WHERE " + PgSubtree::Where("root") +
                                    " AND NOT ($4::int4 = 1 AND root = $1::bytea)";
    SubtreeRange range(path);
    PgParams params;
    Result<PgResult> r = conn.Exec(kSql, PgSubtree::Bind(range, params).Int(keep_root ? 1 : 0));
    if (!r.ok()) return r.status();
    changed = r->Affected();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return changed;
}

Result<int64_t> PgLockStore::PurgeExpired(int64_t now) {
  int64_t changed = 0;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> r =
        conn.Exec("DELETE FROM locks WHERE expires_at <= $1::int8", params.Int(now));
    if (!r.ok()) return r.status();
    changed = r->Affected();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return changed;
}

}  // namespace keepdav::storage
