// PgDatabase: the PostgreSQL database that holds dead properties, locks, the operation journal
// and file checksums for several keepdav instances serving one shared tree (issue 15; the
// storage/postgres/ stores are built over it, as the SQLite ones are over Database).
//
// Opened from a libpq URI (postgresql://...). A bounded pool of connections (`pool_size`;
// PostgreSQL allows 100 connections in all by default, shared by every instance) is made
// lazily; each connection prepares its statements once (PgConnection). The schema carries a
// version (table keepdav_schema) and is created or migrated on Open, under an advisory lock so
// that instances starting together do not race. Put several keepdav trees in one database with
// a schema each: `?options=-csearch_path%3Dname` in the URI.
//
// Work runs through Transact (BEGIN ... COMMIT on one connection, retried on serialization
// failures and deadlocks) or Autocommit (one connection, no transaction: single reads, and
// single writes that may safely run twice). A lost connection is kUnavailable (worth a retry
// later; webdav/dav_error.h says what a client is told): the server rolled back whatever
// transaction was open, so nothing is half-written. The pool then drops that connection, and
// every idle one made before the loss (a restarted server closed them all), and connects anew
// on the next call: it reconnects by itself, without a background thread. A transaction that
// found its connection dead before COMMIT was sent is run once more on a new connection; one
// lost during COMMIT is not (it may have committed). (A body sees rows only once the whole
// result has arrived, so an Autocommit run again never repeats what its body did with them.)
//
// Thread-safe: any thread may call Transact/Autocommit at any time; each body runs on a connection
// no other thread uses meanwhile. Ownership: owns its connections; the stores built over it do not
// own it and must not outlive it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/status.h"

namespace keepdav::storage {

struct PgOptions {
  // Connections at most (the pool's size); each is one PostgreSQL backend process.
  int pool_size = 8;
  // How long a call waits for a free connection before kBusy.
  int acquire_timeout_ms = 5000;
  // libpq's connect_timeout (seconds), unless the URI sets one.
  int connect_timeout_s = 5;
  // Runs of a transaction that fails with a serialization failure or a deadlock, in all.
  int max_attempts = 8;
};

class PgDatabase {
 public:
  // 1: properties, locks (with principal), the operation journal with owners and leases,
  //    partial-write records, checksums; keepdav_lock_path_chain (PgLockStore).
  static constexpr int kSchemaVersion = 1;

  // Connects once (to migrate the schema and to fail early on a bad URI or password);
  // kUnavailable when the server cannot be reached, kInvalidArgument when `uri` is not a
  // postgresql:// or postgres:// URI or the schema is newer than this keepdav.
  static Result<std::unique_ptr<PgDatabase>> Open(const std::string& uri,
                                                  const PgOptions& options = PgOptions());
  ~PgDatabase();

  // Runs `body` inside one transaction and commits it; rolls back when `body` fails (its
  // status is returned). `body` may be run again (serialization failure, deadlock, a
  // connection found dead before anything was committed), so it must reset what it fills.
  // With `serializable`, the transaction is SERIALIZABLE (else READ COMMITTED).
  Status Transact(const std::function<Status(PgConnection&)>& body, bool serializable = false);
  // Runs `body` on a connection in autocommit mode, and once more on a new connection when the
  // first one was found dead. REQUIRES: `body` runs one statement (each statement is atomic
  // alone) that reads, or writes so that a second run changes nothing more than the first (an
  // upsert, a delete, an update to given values): the first run may have committed.
  Status Autocommit(const std::function<Status(PgConnection&)>& body);

  // Network round trips made by every connection so far (for measurements and tests).
  int64_t round_trips() const { return round_trips_.load(); }
  // Connections currently open (idle or in use).
  int open_connections();
  const PgOptions& options() const { return options_; }

 private:
  PgDatabase(std::vector<std::string> keywords, std::vector<std::string> values,
             const PgOptions& options)
      : keywords_(std::move(keywords)), values_(std::move(values)), options_(options) {}
  Status Migrate();
  // A connection for one call: an idle one, or a new one while fewer than pool_size are open.
  Result<std::unique_ptr<PgConnection>> Acquire();
  // Returns a connection to the pool, or drops it when it is broken (and with it every idle
  // connection older than the loss).
  void Release(std::unique_ptr<PgConnection> conn);
  // One run of Transact's body; `commit_sent` tells whether a failure came from COMMIT, `retry`
  // whether the body failed on a conflict that running it again may resolve.
  Status TransactOnce(PgConnection& conn, const std::function<Status(PgConnection&)>& body,
                      bool serializable, bool* commit_sent, bool* retry);

  const std::vector<std::string> keywords_;
  const std::vector<std::string> values_;
  const PgOptions options_;
  std::atomic<int64_t> round_trips_{0};

  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  int open_ = 0;                                     // guarded by mu_
  // Bumped when a connection is found dead: idle connections of an older generation are
  // dropped rather than used (the server they talked to has probably gone). Guarded by mu_.
  uint64_t generation_ = 0;
};

}  // namespace keepdav::storage
