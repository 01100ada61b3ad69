// SqliteChecksumStore: the ChecksumStore over a SQLite Database (table `checksums`, schema
// version 4 in storage/database.cc).
//
// One row per path in a WITHOUT ROWID table keyed by path, so a subtree is one range scan
// (SubtreeRange); the identity is compared in C++ after the primary-key lookup. Every mutation
// is one statement or one transaction.
//
// Ownership: does not own `db`, which must outlive the store. Thread-safe: every call takes the
// Database lock. Errors: those of ChecksumStore, with SQLite's codes mapped by Database.
#pragma once

#include "storage/checksum_store.h"
#include "storage/database.h"

namespace keepdav::storage {

class SqliteChecksumStore : public ChecksumStore {
 public:
  explicit SqliteChecksumStore(Database& db) : db_(db) {}

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
  // REQUIRES: the database lock held.
  Status DeleteTreeLocked(const ResourcePath& path);

  Database& db_;
};

}  // namespace keepdav::storage
