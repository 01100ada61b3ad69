// PgChecksumStore: the ChecksumStore over a PostgreSQL database (table `checksums`, schema in
// storage/postgres/pg_database.cc).
//
// As SqliteChecksumStore: one row per path (bytea primary key), a subtree is one range scan, a
// folder's rows one query (deeper rows skipped in C++), and the identity is compared in C++.
// Put is one upsert and DeleteTree one DELETE, each safe to run again after a lost connection.
//
// Ownership: does not own `db`. Thread-safe. Errors: those of ChecksumStore, with PostgreSQL's
// mapped by PgConnection; kUnavailable while the database cannot be reached.
#pragma once

#include "storage/checksum_store.h"
#include "storage/postgres/pg_database.h"

namespace keepdav::storage {

class PgChecksumStore : public ChecksumStore {
 public:
  explicit PgChecksumStore(PgDatabase& db) : db_(db) {}

  Result<FileChecksums> Get(const ResourcePath& path, const FileIdentity& identity) override;
  Status Put(const ResourcePath& path, const FileIdentity& identity,
             const FileChecksums& sums) override;
  Status ForEachInMembers(
      const ResourcePath& dir,
      const std::function<void(std::string_view member_path, const FileIdentity& identity,
                               const FileChecksums& sums)>& visit) override;
  Status DeleteTree(const ResourcePath& path) override;
  Status MoveTree(const ResourcePath& from, const ResourcePath& to) override;

 private:
  PgDatabase& db_;
};

}  // namespace keepdav::storage
