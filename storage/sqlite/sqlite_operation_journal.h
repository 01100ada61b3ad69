// SqliteOperationJournal: the OperationJournal over the SQLite Database of a SqlitePropertyStore
// (table `operations`, schema in storage/database.cc).
//
// Built over the property store itself, so it cannot be given another database: each step is
// one SQLite transaction spanning the `operations` and `properties` tables, run with the
// store's own subtree statements. Paths are stored as ResourcePath strings and read back as
// storage/journal_rows.h does for every journal.
//
// Ownership: does not own `properties`, which must outlive the journal. Thread-safe: every call
// takes the Database lock for the whole of its transaction. Errors: those of OperationJournal,
// with SQLite's codes mapped by Database.
#pragma once

#include "storage/operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"

namespace keepdav::storage {

class SqliteOperationJournal : public OperationJournal {
 public:
  explicit SqliteOperationJournal(SqlitePropertyStore& properties)
      : props_(properties), db_(properties.database()) {}

  Status Begin(JournalEntry* entry) override;
  Status StageProperties(JournalEntry* entry, bool whole_tree, uint64_t inode,
                         uint64_t device) override;
  Status CommitSwap(JournalEntry* entry) override;
  Status BeginRename(JournalEntry* entry, uint64_t inode, uint64_t device) override;
  Status UndoRename(const JournalEntry& entry) override;
  Status BeginReplace(JournalEntry* entry, uint64_t inode, uint64_t device) override;
  Status StageReplace(JournalEntry* entry) override;
  Status UndoReplace(const JournalEntry& entry) override;
  Status BeginDelete(JournalEntry* entry) override;
  Status Finish(const JournalEntry& entry) override;
  Result<std::vector<JournalEntry>> Pending() override;
  Status BeginPartialWrite(PartialWriteRecord* record) override;
  Status FinishPartialWrite(int64_t id) override;
  Result<std::vector<PartialWriteRecord>> PendingPartialWrites() override;

 private:
  // REQUIRES: the database lock held (as do the two below).
  Result<int64_t> LastInsertIdLocked();
  Status SetStateLocked(const JournalEntry& entry);
  Status DeleteRowLocked(int64_t id);
  // Inserts `entry` as it is (kind, state, paths, identity) and fills its id.
  Status InsertLocked(JournalEntry* entry);

  SqlitePropertyStore& props_;
  Database& db_;
};

}  // namespace keepdav::storage
