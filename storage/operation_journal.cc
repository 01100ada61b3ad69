#include "storage/operation_journal.h"

#include "storage/property_store.h"

namespace keepdav::storage {

Result<ResourcePath> OperationJournal::PathFromText(const std::string& text) {
  // Journal paths may contain reserved segments (staging names), which Parse refuses; rebuild
  // them segment by segment instead.
  if (text.empty() || text[0] != '/') return Status::InvalidPath("journal path '" + text + "'");
  ResourcePath p;
  size_t pos = 1;
  while (pos < text.size()) {
    size_t slash = text.find('/', pos);
    if (slash == std::string::npos) slash = text.size();
    std::string_view seg(text.data() + pos, slash - pos);
    if (ResourcePath::IsReservedName(seg)) {
      p = p.InternalChild(seg);
    } else if (ResourcePath::IsValidSegment(seg)) {
      p = p.Child(seg);
    } else {
      return Status::InvalidPath("journal path " + text);
    }
    pos = slash + 1;
  }
  return p;
}

namespace {
Result<ResourcePath> PathOf(const std::string& text) {
  return OperationJournal::PathFromText(text);
}
}  // namespace

Status OperationJournal::Begin(JournalEntry* entry) {
  auto lock = db_.Lock();
  Result<Statement> st = db_.Prepare(
      "INSERT INTO operations (kind, state, source, destination, staging, trash, staged_inode, "
      "staged_device) VALUES (?1, 0, ?2, ?3, ?4, ?5, 0, 0)");
  if (!st.ok()) return st.status();
  st->BindInt(1, static_cast<int64_t>(entry->kind))
      .BindText(2, entry->source)
      .BindText(3, entry->destination)
      .BindText(4, entry->staging)
      .BindText(5, entry->trash);
  Status s = st->Run();
  if (!s.ok()) return s;
  Result<Statement> id = db_.Prepare("SELECT last_insert_rowid()");
  if (!id.ok()) return id.status();
  if (!id->Step()) return id->status().ok() ? Status::IoError("no rowid") : id->status();
  entry->id = id->ColumnInt(0);
  entry->state = JournalEntry::State::kBuilding;
  return Status::Ok();
}

Status OperationJournal::DeleteRowLocked(int64_t id) {
  Result<Statement> st = db_.Prepare("DELETE FROM operations WHERE id = ?1");
  if (!st.ok()) return st.status();
  st->BindInt(1, id);
  return st->Run();
}

Status OperationJournal::SetState(const JournalEntry& entry) {
  Result<Statement> st = db_.Prepare(
      "UPDATE operations SET state = ?2, staged_inode = ?3, staged_device = ?4 WHERE id = ?1");
  if (!st.ok()) return st.status();
  st->BindInt(1, entry.id)
      .BindInt(2, static_cast<int64_t>(entry.state))
      .BindInt(3, static_cast<int64_t>(entry.staged_inode))
      .BindInt(4, static_cast<int64_t>(entry.staged_device));
  return st->Run();
}

Status OperationJournal::StageProperties(JournalEntry* entry, bool whole_tree, uint64_t inode,
                                         uint64_t device) {
  auto source = PathOf(entry->source);
  auto staging = PathOf(entry->staging);
  if (!source.ok()) return source.status();
  if (!staging.ok()) return staging.status();
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s = whole_tree ? PropertyStore::CopyTreeLocked(db_, source.value(), staging.value())
                        : PropertyStore::CopyOneLocked(db_, source.value(), staging.value());
  if (!s.ok()) return s;
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kReady;
  next.staged_inode = inode;
  next.staged_device = device;
  s = SetState(next);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (s.ok()) *entry = next;
  return s;
}

Status OperationJournal::CommitSwap(JournalEntry* entry) {
  auto source = PathOf(entry->source);
  auto destination = PathOf(entry->destination);
  auto staging = PathOf(entry->staging);
  if (!source.ok()) return source.status();
  if (!destination.ok()) return destination.status();
  if (!staging.ok()) return staging.status();
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  // The staged properties become the destination's; what was at the destination goes.
  Status s = PropertyStore::MoveTreeLocked(db_, staging.value(), destination.value());
  if (s.ok() && entry->kind == JournalEntry::Kind::kMove) {
    s = PropertyStore::DeleteTreeLocked(db_, source.value());
  }
  if (!s.ok()) return s;
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kSwapped;
  s = SetState(next);
  if (!s.ok()) return s;
  s = tx.Commit();
  if (s.ok()) *entry = next;
  return s;
}

Status OperationJournal::BeginRename(JournalEntry* entry, uint64_t inode, uint64_t device) {
  auto source = PathOf(entry->source);
  auto destination = PathOf(entry->destination);
  if (!source.ok()) return source.status();
  if (!destination.ok()) return destination.status();
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Result<Statement> st = db_.Prepare(
      "INSERT INTO operations (kind, state, source, destination, staging, trash, staged_inode, "
      "staged_device) VALUES (?1, ?2, ?3, ?4, '', '', ?5, ?6)");
  if (!st.ok()) return st.status();
  st->BindInt(1, static_cast<int64_t>(JournalEntry::Kind::kRename))
      .BindInt(2, static_cast<int64_t>(JournalEntry::State::kReady))
      .BindText(3, entry->source)
      .BindText(4, entry->destination)
      .BindInt(5, static_cast<int64_t>(inode))
      .BindInt(6, static_cast<int64_t>(device));
  Status s = st->Run();
  if (!s.ok()) return s;
  int64_t id = 0;
  {
    Result<Statement> rowid = db_.Prepare("SELECT last_insert_rowid()");
    if (!rowid.ok()) return rowid.status();
    if (!rowid->Step()) return rowid->status().ok() ? Status::IoError("no rowid") : rowid->status();
    id = rowid->ColumnInt(0);
  }
  s = PropertyStore::MoveTreeLocked(db_, source.value(), destination.value());
  if (!s.ok()) return s;
  s = tx.Commit();
  if (!s.ok()) return s;
  entry->id = id;
  entry->kind = JournalEntry::Kind::kRename;
  entry->state = JournalEntry::State::kReady;
  entry->staging.clear();
  entry->trash.clear();
  entry->staged_inode = inode;
  entry->staged_device = device;
  return Status::Ok();
}

Status OperationJournal::UndoRename(const JournalEntry& entry) {
  auto source = PathOf(entry.source);
  auto destination = PathOf(entry.destination);
  if (!source.ok()) return source.status();
  if (!destination.ok()) return destination.status();
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s = PropertyStore::MoveTreeLocked(db_, destination.value(), source.value());
  if (s.ok()) s = DeleteRowLocked(entry.id);
  if (!s.ok()) return s;
  return tx.Commit();
}

Status OperationJournal::Finish(const JournalEntry& entry) {
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s;
  if (!entry.staging.empty()) {  // a rename has no staging path (and "" is not the root)
    auto staging = PathOf(entry.staging);
    if (!staging.ok()) return staging.status();
    s = PropertyStore::DeleteTreeLocked(db_, staging.value());
    if (!s.ok()) return s;
  }
  s = DeleteRowLocked(entry.id);
  if (!s.ok()) return s;
  return tx.Commit();
}

Result<std::vector<JournalEntry>> OperationJournal::Pending() {
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
    e.source = std::string(st->ColumnText(3));
    e.destination = std::string(st->ColumnText(4));
    e.staging = std::string(st->ColumnText(5));
    e.trash = std::string(st->ColumnText(6));
    e.staged_inode = static_cast<uint64_t>(st->ColumnInt(7));
    e.staged_device = static_cast<uint64_t>(st->ColumnInt(8));
    out.push_back(std::move(e));
  }
  if (!st->status().ok()) return st->status();
  return out;
}

}  // namespace keepdav::storage
