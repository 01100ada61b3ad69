#include "storage/postgres/pg_database.h"

#include <chrono>
#include <iterator>
#include <thread>
#include <utility>

namespace keepdav::storage {
namespace {

// Schema migrations: entry i takes the schema from version i to version i + 1. Append only; a
// released entry never changes. Paths, names, tokens, owners and instance ids are bytea: to
// storage they are bytes (paths need not be UTF-8), and bytea compares bytewise, as
// std::string and SQLite's BINARY collation do, so the subtree ranges of PgSubtree work
// without COLLATE "C". Times are whole seconds since the epoch, as in the SQLite schema.
constexpr const char* kMigrations[] = {
    // v1: everything the SQLite schema has reached in its six versions, plus what several
    // instances need: each journal entry and partial-write record names the instance that owns
    // it and holds a lease (seconds since the epoch) that the owner renews; another instance
    // may recover it only after the lease has lapsed. keepdav_lock_path_chain takes the
    // advisory locks that make lock creation race-free (PgLockStore::InsertIfAllowed): shared
    // on each ancestor of the path, root first, then exclusive on the path itself.
    "CREATE TABLE properties ("
    "  path bytea NOT NULL,"
    "  ns bytea NOT NULL,"
    "  name bytea NOT NULL,"
    "  value bytea NOT NULL,"
    "  PRIMARY KEY (path, ns, name));"
    "CREATE TABLE locks ("
    "  token bytea PRIMARY KEY,"
    "  root bytea NOT NULL,"
    "  infinite_depth boolean NOT NULL,"
    "  exclusive boolean NOT NULL,"
    "  owner bytea NOT NULL,"
    "  principal bytea NOT NULL,"
    "  timeout_s bigint NOT NULL,"
    "  expires_at bigint NOT NULL);"
    "CREATE INDEX locks_by_root ON locks (root);"
    "CREATE INDEX locks_by_expiry ON locks (expires_at);"
    "CREATE TABLE operations ("
    "  id bigserial PRIMARY KEY,"
    "  kind integer NOT NULL,"
    "  state integer NOT NULL,"
    "  source bytea NOT NULL,"
    "  destination bytea NOT NULL,"
    "  staging bytea NOT NULL,"
    "  trash bytea NOT NULL,"
    "  staged_inode bigint NOT NULL,"
    "  staged_device bigint NOT NULL,"
    "  owner_instance bytea NOT NULL,"
    "  lease_expires_at bigint NOT NULL);"
    "CREATE TABLE partial_writes ("
    "  id bigserial PRIMARY KEY,"
    "  path bytea NOT NULL,"
    "  inode bigint NOT NULL,"
    "  old_size bigint NOT NULL,"
    "  old_mtime_ns bigint NOT NULL,"
    "  write_offset bigint NOT NULL,"
    "  saved bytea NOT NULL,"
    "  owner_instance bytea NOT NULL,"
    "  lease_expires_at bigint NOT NULL);"
    "CREATE TABLE checksums ("
    "  path bytea PRIMARY KEY,"
    "  inode bigint NOT NULL,"
    "  size bigint NOT NULL,"
    "  mtime_ns bigint NOT NULL,"
    "  ctime_ns bigint NOT NULL,"
    "  sha1 text NOT NULL,"
    "  md5 text NOT NULL,"
    "  sha256 text NOT NULL);"
    "CREATE FUNCTION keepdav_lock_path_chain(ancestors bigint[], self bigint) RETURNS void "
    "LANGUAGE plpgsql AS $$ "
    "DECLARE k bigint; "
    "BEGIN "
    "  FOREACH k IN ARRAY ancestors LOOP PERFORM pg_advisory_xact_lock_shared(k); END LOOP; "
    "  PERFORM pg_advisory_xact_lock(self); "
    "END $$;",
};
static_assert(std::size(kMigrations) == PgDatabase::kSchemaVersion,
              "one migration per schema version");

// The advisory lock that serialises migrations of instances starting at once ("keepdav" in
// ASCII; the path locks of PgLockStore are hashes and may collide with it only harmlessly).
constexpr int64_t kMigrationLockKey = 0x6b656570646176;

bool IsPostgresUri(const std::string& uri) {
  return uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0;
}

}  // namespace

Result<std::unique_ptr<PgDatabase>> PgDatabase::Open(const std::string& uri,
                                                     const PgOptions& options) {
  if (!IsPostgresUri(uri)) {
    return Status::InvalidArgument("not a PostgreSQL URI (postgresql://...): " + uri);
  }
  if (options.pool_size < 1) return Status::InvalidArgument("the pool needs a connection");
  // Defaults first: the URI (expanded from dbname) overrides them.
  std::vector<std::string> keywords = {"connect_timeout", "application_name", "dbname"};
  std::vector<std::string> values = {std::to_string(options.connect_timeout_s), "keepdav", uri};
  std::unique_ptr<PgDatabase> db(new PgDatabase(std::move(keywords), std::move(values), options));
  Status s = db->Migrate();
  if (!s.ok()) return Status::WithCode(s.code(), "PostgreSQL database: " + s.message());
  return db;
}

PgDatabase::~PgDatabase() = default;

Status PgDatabase::Migrate() {
  return Transact([](PgConnection& conn) -> Status {
    Status s =
        conn.Execute("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
    if (!s.ok()) return s;
    s = conn.Execute("CREATE TABLE IF NOT EXISTS keepdav_schema (version integer NOT NULL)");
    if (!s.ok()) return s;
    Result<PgResult> row = conn.Exec("SELECT version FROM keepdav_schema");
    if (!row.ok()) return row.status();
    const bool has_row = row->rows() > 0;
    const int64_t version = has_row ? row->Int(0, 0) : 0;
    if (version == kSchemaVersion) return Status::Ok();
    if (version > kSchemaVersion || version < 0) {
      return Status::InvalidArgument("schema version " + std::to_string(version) +
                                     " is newer than this keepdav supports (" +
                                     std::to_string(kSchemaVersion) + "); upgrade keepdav");
    }
    for (int64_t v = version; v < kSchemaVersion; ++v) {
      s = conn.Execute(kMigrations[v]);
      if (!s.ok()) return s;
    }
    const std::string set =
        has_row ? "UPDATE keepdav_schema SET version = " + std::to_string(kSchemaVersion)
                : "INSERT INTO keepdav_schema (version) VALUES (" + std::to_string(kSchemaVersion) +
                      ")";
    return conn.Execute(set);
  });
}

Result<std::unique_ptr<PgConnection>> PgDatabase::Acquire() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.acquire_timeout_ms);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->generation >= generation_) return conn;
      // Made before a connection was found dead: probably dead too. Dropped, not tried.
      --open_;
      lock.unlock();
      conn.reset();
      lock.lock();
    }
    if (open_ < options_.pool_size) {
      ++open_;
      const uint64_t generation = generation_;
      lock.unlock();
      Result<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(keywords_, values_);
      if (!conn.ok()) {
        lock.lock();
        --open_;
        freed_.notify_one();
        return conn.status();
      }
      (*conn)->generation = generation;
      (*conn)->CountRoundTripsIn(&round_trips_);
      return conn;
    }
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      return Status::Busy("all " + std::to_string(options_.pool_size) +
                          " PostgreSQL connections stayed in use for " +
                          std::to_string(options_.acquire_timeout_ms) + " ms");
    }
  }
}

void PgDatabase::Release(std::unique_ptr<PgConnection> conn) {
  std::unique_lock<std::mutex> lock(mu_);
  if (conn->broken()) {
    if (conn->generation >= generation_) generation_ = conn->generation + 1;
    --open_;
    lock.unlock();
    conn.reset();
    freed_.notify_one();
    return;
  }
  idle_.push_back(std::move(conn));
  lock.unlock();
  freed_.notify_one();
}

int PgDatabase::open_connections() {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

Status PgDatabase::TransactOnce(PgConnection& conn,
                                const std::function<Status(PgConnection&)>& body, bool serializable,
                                bool* commit_sent, bool* retry) {
  *commit_sent = false;
  *retry = false;
  Status s = conn.Execute(serializable ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN");
  if (!s.ok()) return s;
  s = body(conn);
  if (!s.ok()) {
    // ROLLBACK is a statement of its own: it resets what the connection says of the last
    // failure, which Transact needs (a conflict is run again).
    const bool retryable = conn.retryable();
    if (!conn.broken()) conn.Execute("ROLLBACK");
    if (retryable) *retry = true;
    return s;
  }
  *commit_sent = true;
  return conn.Execute("COMMIT");
}

Status PgDatabase::Transact(const std::function<Status(PgConnection&)>& body, bool serializable) {
  bool ran_again_after_loss = false;
  for (int attempt = 1;; ++attempt) {
    Result<std::unique_ptr<PgConnection>> conn = Acquire();
    if (!conn.ok()) return conn.status();
    bool commit_sent = false;
    bool retry = false;
    Status s = TransactOnce(**conn, body, serializable, &commit_sent, &retry);
    const bool broken = (*conn)->broken();
    // A serialization failure at COMMIT leaves the flag on the connection.
    const bool conflict = !s.ok() && (retry || (*conn)->retryable());
    Release(std::move(conn).value());
    if (s.ok()) return s;
    if (conflict && attempt < options_.max_attempts) {
      // Another transaction won; back off a little, more each time, so the two do not meet
      // again at once.
      std::this_thread::sleep_for(std::chrono::microseconds(200 * attempt * attempt));
      continue;
    }
    // The server rolled the transaction back with the connection; nothing was committed unless
    // COMMIT itself was under way.
    if (broken && !commit_sent && !ran_again_after_loss) {
      ran_again_after_loss = true;
      continue;
    }
    return s;
  }
}

Status PgDatabase::Autocommit(const std::function<Status(PgConnection&)>& body) {
  for (int attempt = 0;; ++attempt) {
    Result<std::unique_ptr<PgConnection>> conn = Acquire();
    if (!conn.ok()) return conn.status();
    Status s = body(**conn);
    const bool broken = !s.ok() && (*conn)->broken();
    Release(std::move(conn).value());
    if (s.ok() || !broken || attempt > 0) return s;
  }
}

}  // namespace keepdav::storage
