// PgCluster: a throwaway PostgreSQL cluster for the tests of storage/postgres/ (issue 15).
//
// initdb and pg_ctl come from /usr/lib/postgresql/15/bin (Debian's postgresql-15 package, which
// scripts/install-deps.sh test installs; $KEEPDAV_PG_BIN names another directory). The cluster
// lives in a fresh temporary directory and listens only on a Unix socket there
// (listen_addresses=''), with fsync off: it holds test data only. initdb refuses to run as
// root, and CI runs as root: then the server runs as `nobody` (runuser), and the directory is
// given to that user.
//
// The data directory is a copy of a template initialised once per build tree (initdb takes a
// second; CTest runs every test in a process of its own). Shared() starts one cluster per test
// process, on first use, and stops and removes it when
// the process exits; it also stops clusters that test processes killed before their exit left
// behind. Each test gets a fresh schema (NewSchema) so tests do not see each other's rows.
// Not thread-safe: use from the test's main thread.
#pragma once

#include <memory>
#include <string>

#include "tests/storage/temp_dir.h"

namespace keepdav::storage::test_support {

class PgCluster {
 public:
  // The cluster of this process, started on first use. nullptr when the PostgreSQL binaries
  // are missing (the reason in *why_not: the test skips); a cluster that fails to start is a
  // test failure (ADD_FAILURE with its log), and nullptr too.
  static PgCluster* Shared(std::string* why_not);
  // Where initdb and pg_ctl are looked for.
  static std::string BinDir();

  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A libpq URI for database "postgres" over the cluster's socket; with `schema`, sessions use
  // it as their search_path (options=-csearch_path=...).
  std::string Uri(const std::string& schema = "") const;
  // Creates a schema with a new name and returns the name ("" and ADD_FAILURE on failure).
  std::string NewSchema();
  void DropSchema(const std::string& schema);
  // Runs SQL as the superuser; false (and ADD_FAILURE) on failure.
  bool Sql(const std::string& sql);

  // Stops the server (fast shutdown: connections are closed) and starts it again on the same
  // data; each true on success.
  bool Stop();
  bool Start();
  // The last lines of the server's log, for failure messages.
  std::string LogTail() const;

 private:
  PgCluster() = default;
  bool Init(std::string* error);
  // Copies the template cluster (initialised once per build tree) to `data`.
  bool CopyTemplate(const std::string& data, std::string* error);
  // Runs a command line (as the cluster's user when root); true when it exits 0.
  bool Run(const std::string& command) const;
  static void StopLeftovers();

  std::unique_ptr<TempDir> dir_;
  bool as_nobody_ = false;
  bool running_ = false;
  int schemas_ = 0;
};

}  // namespace keepdav::storage::test_support
