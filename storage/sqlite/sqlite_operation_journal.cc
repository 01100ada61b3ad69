#include "storage/sqlite/sqlite_operation_journal.h"

#include <string>

#include "storage/journal_rows.h"

namespace keepdav::storage {
namespace {

// The columns of `st`'s current row, for storage/journal_rows.h.
JournalRowReader ReaderOf(const Statement& st) {
  return {[&st](int col) { return st.ColumnInt(col); },
          [&st](int col) { return st.ColumnBlob(col); }};
}

}  // namespace

Result<int64_t> SqliteOperationJournal::LastInsertIdLocked() {
  Result<Statement> id = db_.Prepare("SELECT last_insert_rowid()");
  if (!id.ok()) return id.status();
  if (!id->Step()) return id->status().ok() ? Status::IoError("no rowid") : id->status();
  return id->ColumnInt(0);
}

Status SqliteOperationJournal::Begin(JournalEntry* entry) {
  if (entry->kind == JournalEntry::Kind::kRename) {
    return Status::InvalidArgument("a rename is journaled by BeginRename");
  }
  if (!entry->staging || !entry->trash) return MissingStaging(*entry);
  auto lock = db_.Lock();
  Result<Statement> st = db_.Prepare(
      "INSERT INTO operations (kind, state, source, destination, staging, trash, staged_inode, "
      "staged_device) VALUES (?1, 0, ?2, ?3, ?4, ?5, 0, 0)");
  if (!st.ok()) return st.status();
  st->BindInt(1, static_cast<int64_t>(entry->kind))
      .BindText(2, entry->source.str())
      .BindText(3, entry->destination.str())
      .BindText(4, entry->staging->str())
      .BindText(5, entry->trash->str());
  Status s = st->Run();
  if (!s.ok()) return s;
  Result<int64_t> id = LastInsertIdLocked();
  if (!id.ok()) return id.status();
  entry->id = *id;
  entry->state = JournalEntry::State::kBuilding;
  return Status::Ok();
}

Status SqliteOperationJournal::DeleteRowLocked(int64_t id) {
  Result<Statement> st = db_.Prepare("DELETE FROM operations WHERE id = ?1");
  if (!st.ok()) return st.status();
  st->BindInt(1, id);
  return st->Run();
}

Status SqliteOperationJournal::SetStateLocked(const JournalEntry& entry) {
  Result<Statement> st = db_.Prepare(
      "UPDATE operations SET state = ?2, staged_inode = ?3, staged_device = ?4 WHERE id = ?1");
  if (!st.ok()) return st.status();
  st->BindInt(1, entry.id)
      .BindInt(2, static_cast<int64_t>(entry.state))
      .BindInt(3, static_cast<int64_t>(entry.staged_inode))
      .BindInt(4, static_cast<int64_t>(entry.staged_device));
  return st->Run();
}

Status SqliteOperationJournal::StageProperties(JournalEntry* entry, bool whole_tree, uint64_t inode,
                                               uint64_t device) {
  if (!entry->staging) return MissingStaging(*entry);
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s = whole_tree ? props_.CopyTreeLocked(entry->source, *entry->staging)
                        : props_.CopyOneLocked(entry->source, *entry->staging);
  if (!s.ok()) return s;
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kReady;
  next.staged_inode = inode;
  next.staged_device = device;
  s = SetStateLocked(next);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (s.ok()) *entry = next;
  return s;
}

Status SqliteOperationJournal::CommitSwap(JournalEntry* entry) {
  if (!entry->staging) return MissingStaging(*entry);
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  // The staged properties become the destination's; what was at the destination goes.
  Status s = props_.MoveTreeLocked(*entry->staging, entry->destination);
  if (s.ok() && entry->kind == JournalEntry::Kind::kMove) {
    s = props_.DeleteTreeLocked(entry->source);
  }
  if (!s.ok()) return s;
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kSwapped;
  s = SetStateLocked(next);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (s.ok()) *entry = next;
  return s;
}

Status SqliteOperationJournal::BeginRename(JournalEntry* entry, uint64_t inode, uint64_t device) {
  JournalEntry next = BeginRenameEntry(*entry, inode, device);
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s = InsertLocked(&next);
  if (s.ok()) s = props_.MoveTreeLocked(next.source, next.destination);
  if (s.ok()) s = tx.Commit();
  if (s.ok()) *entry = next;
  return s;
}

Status SqliteOperationJournal::UndoRename(const JournalEntry& entry) {
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s = props_.MoveTreeLocked(entry.destination, entry.source);
  if (s.ok()) s = DeleteRowLocked(entry.id);
  if (!s.ok()) return s;
  return tx.Commit();
}

Status SqliteOperationJournal::InsertLocked(JournalEntry* entry) {
  Result<Statement> st = db_.Prepare(
      "INSERT INTO operations (kind, state, source, destination, staging, trash, staged_inode, "
      "staged_device) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st.ok()) return st.status();
  st->BindInt(1, static_cast<int64_t>(entry->kind))
      .BindInt(2, static_cast<int64_t>(entry->state))
      .BindText(3, entry->source.str())
      .BindText(4, entry->destination.str())
      .BindText(5, entry->staging ? entry->staging->str() : std::string())
      .BindText(6, entry->trash ? entry->trash->str() : std::string())
      .BindInt(7, static_cast<int64_t>(entry->staged_inode))
      .BindInt(8, static_cast<int64_t>(entry->staged_device));
  Status s = st->Run();
  if (!s.ok()) return s;
  Result<int64_t> id = LastInsertIdLocked();
  if (!id.ok()) return id.status();
  entry->id = *id;
  return Status::Ok();
}

Status SqliteOperationJournal::BeginReplace(JournalEntry* entry, uint64_t inode, uint64_t device) {
  if (!entry->trash) return MissingStaging(*entry);
  JournalEntry next = BeginReplaceEntry(*entry, inode, device);
  auto lock = db_.Lock();
  Status s = InsertLocked(&next);
  if (s.ok()) *entry = next;
  return s;
}

Status SqliteOperationJournal::StageReplace(JournalEntry* entry) {
  if (!entry->trash) return MissingStaging(*entry);
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s = props_.MoveTreeLocked(entry->destination, *entry->trash);
  if (s.ok()) s = props_.MoveTreeLocked(entry->source, entry->destination);
  if (!s.ok()) return s;
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kReady;
  s = SetStateLocked(next);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (s.ok()) *entry = next;
  return s;
}

Status SqliteOperationJournal::UndoReplace(const JournalEntry& entry) {
  if (!entry.trash) return MissingStaging(entry);
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s = props_.MoveTreeLocked(entry.destination, entry.source);
  if (s.ok()) s = props_.MoveTreeLocked(*entry.trash, entry.destination);
  if (s.ok()) s = DeleteRowLocked(entry.id);
  if (!s.ok()) return s;
  return tx.Commit();
}

Status SqliteOperationJournal::BeginDelete(JournalEntry* entry) {
  JournalEntry next = BeginDeleteEntry(*entry);
  auto lock = db_.Lock();
  Status s = InsertLocked(&next);
  if (s.ok()) *entry = next;
  return s;
}

Status SqliteOperationJournal::Finish(const JournalEntry& entry) {
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s;
  if (entry.staging) {  // a rename has none; nor has an unreadable entry whose staging was bad
    s = props_.DeleteTreeLocked(*entry.staging);
    if (!s.ok()) return s;
  }
  s = DeleteRowLocked(entry.id);
  if (!s.ok()) return s;
  return tx.Commit();
}

Result<std::vector<JournalEntry>> SqliteOperationJournal::Pending() {
  auto lock = db_.Lock();
  static const std::string kSql =
      std::string("SELECT ") + kJournalEntryColumns + " FROM operations ORDER BY id";
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  const JournalRowReader row = ReaderOf(*st);
  std::vector<JournalEntry> out;
  while (st->Step()) out.push_back(JournalEntryFromRow(row));
  if (!st->status().ok()) return st->status();
  return out;
}

Status SqliteOperationJournal::BeginPartialWrite(PartialWriteRecord* record) {
  auto lock = db_.Lock();
  Result<Statement> st = db_.Prepare(
      "INSERT INTO partial_writes (path, inode, old_size, old_mtime_ns, offset, saved) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!st.ok()) return st.status();
  st->BindText(1, record->path.str())
      .BindInt(2, static_cast<int64_t>(record->inode))
      .BindInt(3, static_cast<int64_t>(record->old_size))
      .BindInt(4, record->old_mtime_ns)
      .BindInt(5, static_cast<int64_t>(record->offset))
      .BindBlob(6, record->saved);
  Status s = st->Run();
  if (!s.ok()) return s;
  Result<int64_t> id = LastInsertIdLocked();
  if (!id.ok()) return id.status();
  record->id = *id;
  return Status::Ok();
}

Status SqliteOperationJournal::FinishPartialWrite(int64_t id) {
  auto lock = db_.Lock();
  Result<Statement> st = db_.Prepare("DELETE FROM partial_writes WHERE id = ?1");
  if (!st.ok()) return st.status();
  st->BindInt(1, id);
  return st->Run();
}

Result<std::vector<PartialWriteRecord>> SqliteOperationJournal::PendingPartialWrites() {
  auto lock = db_.Lock();
  Result<Statement> st = db_.Prepare(
      "SELECT id, path, inode, old_size, old_mtime_ns, offset, saved FROM partial_writes "
      "ORDER BY id");
  if (!st.ok()) return st.status();
  const JournalRowReader row = ReaderOf(*st);
  std::vector<PartialWriteRecord> out;
  while (st->Step()) out.push_back(PartialWriteFromRow(row));
  if (!st->status().ok()) return st->status();
  return out;
}

}  // namespace keepdav::storage
