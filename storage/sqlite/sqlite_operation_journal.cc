#include "storage/sqlite/sqlite_operation_journal.h"

#include <string>

namespace keepdav::storage {
namespace {

Status MissingStaging(const JournalEntry& entry) {
  return Status::InvalidArgument("journal entry for " + entry.destination.str() +
                                 " has no staging or trash path");
}

}  // namespace

Result<ResourcePath> SqliteOperationJournal::PathFromText(std::string_view text) {
  // Journal paths may contain reserved segments (staging names), which Parse refuses; rebuild
  // them segment by segment instead.
  if (text.empty() || text[0] != '/') {
    return Status::InvalidPath("journal path '" + std::string(text) + "'");
  }
  ResourcePath p;
  size_t pos = 1;
  while (pos < text.size()) {
    size_t slash = text.find('/', pos);
    if (slash == std::string_view::npos) slash = text.size();
    std::string_view seg = text.substr(pos, slash - pos);
    if (ResourcePath::IsReservedName(seg)) {
      p = p.InternalChild(seg);
    } else if (ResourcePath::IsValidSegment(seg)) {
      p = p.Child(seg);
    } else {
      return Status::InvalidPath("journal path " + std::string(text));
    }
    pos = slash + 1;
  }
  return p;
}

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
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Result<Statement> st = db_.Prepare(
      "INSERT INTO operations (kind, state, source, destination, staging, trash, staged_inode, "
      "staged_device) VALUES (?1, ?2, ?3, ?4, '', '', ?5, ?6)");
  if (!st.ok()) return st.status();
  st->BindInt(1, static_cast<int64_t>(JournalEntry::Kind::kRename))
      .BindInt(2, static_cast<int64_t>(JournalEntry::State::kReady))
      .BindText(3, entry->source.str())
      .BindText(4, entry->destination.str())
      .BindInt(5, static_cast<int64_t>(inode))
      .BindInt(6, static_cast<int64_t>(device));
  Status s = st->Run();
  if (!s.ok()) return s;
  Result<int64_t> id = LastInsertIdLocked();
  if (!id.ok()) return id.status();
  s = props_.MoveTreeLocked(entry->source, entry->destination);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (!s.ok()) return s;
  entry->id = *id;
  entry->kind = JournalEntry::Kind::kRename;
  entry->state = JournalEntry::State::kReady;
  entry->staging.reset();
  entry->trash.reset();
  entry->staged_inode = inode;
  entry->staged_device = device;
  return Status::Ok();
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
  JournalEntry next = *entry;
  next.kind = JournalEntry::Kind::kReplace;
  next.state = JournalEntry::State::kBuilding;
  next.staging = next.trash;  // Finish drops what is left at the trash path
  next.staged_inode = inode;
  next.staged_device = device;
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
  JournalEntry next = *entry;
  next.kind = JournalEntry::Kind::kDelete;
  next.state = JournalEntry::State::kReady;
  next.source = next.destination;
  next.staging.reset();
  next.trash.reset();
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
  Result<Statement> st = db_.Prepare(
      "SELECT id, kind, state, source, destination, staging, trash, staged_inode, staged_device "
      "FROM operations ORDER BY id");
  if (!st.ok()) return st.status();
  std::vector<JournalEntry> out;
  while (st->Step()) {
    JournalEntry e;
    e.id = st->ColumnInt(0);
    e.kind = static_cast<JournalEntry::Kind>(st->ColumnInt(1));
    e.state = static_cast<JournalEntry::State>(st->ColumnInt(2));
    auto read = [&](int col, ResourcePath* out_path) {
      Result<ResourcePath> p = PathFromText(st->ColumnText(col));
      if (p.ok()) {
        *out_path = std::move(p).value();
      } else {
        e.unreadable = true;
      }
      return p.ok();
    };
    read(3, &e.source);
    read(4, &e.destination);
    if (e.kind != JournalEntry::Kind::kRename && e.kind != JournalEntry::Kind::kDelete) {
      ResourcePath staging, trash;
      if (read(5, &staging)) e.staging = staging;
      if (read(6, &trash)) e.trash = trash;
    }
    e.staged_inode = static_cast<uint64_t>(st->ColumnInt(7));
    e.staged_device = static_cast<uint64_t>(st->ColumnInt(8));
    out.push_back(std::move(e));
  }
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
  std::vector<PartialWriteRecord> out;
  while (st->Step()) {
    PartialWriteRecord r;
    r.id = st->ColumnInt(0);
    Result<ResourcePath> p = PathFromText(st->ColumnText(1));
    if (p.ok()) {
      r.path = std::move(p).value();
    } else {
      r.unreadable = true;
    }
    r.inode = static_cast<uint64_t>(st->ColumnInt(2));
    r.old_size = static_cast<uint64_t>(st->ColumnInt(3));
    r.old_mtime_ns = st->ColumnInt(4);
    r.offset = static_cast<uint64_t>(st->ColumnInt(5));
    r.saved = std::string(st->ColumnBlob(6));
    out.push_back(std::move(r));
  }
  if (!st->status().ok()) return st->status();
  return out;
}

}  // namespace keepdav::storage
