#include "storage/postgres/pg_operation_journal.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "storage/journal_rows.h"

namespace keepdav::storage {
namespace {

Status LeaseLost(const char* what, int64_t id) {
  return Status::IoError(std::string(what) + " " + std::to_string(id) +
                         ": lease lost (another instance owns it now)");
}

// The UPDATE that claims, for this instance ($1) with a new lease ($2), the rows of `table`
// recovery may take at time $3, and returns their `columns`: at start-up this instance's own
// and those whose lease lapsed; in live recovery (ClaimOnlyLapsed) only other instances' whose
// lease lapsed. Under READ COMMITTED a second instance claiming at once waits for the first's
// row locks, re-checks the WHERE on the rows as the first left them (owned, leased) and skips
// them.
std::string ClaimSql(const char* table, const char* columns, bool only_lapsed) {
  return std::string("UPDATE ") + table +
         " SET owner_instance = $1::bytea, lease_expires_at = $2::int8 WHERE " +
         (only_lapsed ? "(owner_instance <> $1::bytea AND lease_expires_at <= $3::int8) OR "
                        "(owner_instance = $1::bytea AND id = ANY($4::int8[]))"
                      : "owner_instance = $1::bytea OR lease_expires_at <= $3::int8") +
         " RETURNING " + columns;
}

// The ids as a PostgreSQL array literal ("{1,2}").
std::string IdArray(const std::set<int64_t>& ids) {
  std::string out = "{";
  for (int64_t id : ids) {
    if (out.size() > 1) out += ',';
    out += std::to_string(id);
  }
  return out + "}";
}

// Runs the claim `sql` (ClaimSql) in one transaction and returns its rows decoded by `decode`,
// oldest first. `again`: for the live claim, the ids claimed before and not finished since.
template <typename Row>
Result<std::vector<Row>> ClaimRows(PgDatabase& db, const std::string& sql,
                                   const PgJournalOwner& owner, const Clock& clock,
                                   Row (*decode)(const JournalRowReader&),
                                   const std::set<int64_t>* again) {
  std::vector<Row> out;
  Status s = db.Transact([&](PgConnection& conn) -> Status {
    out.clear();
    const int64_t now = clock.Now();
    PgParams params;
    params.Bytes(owner.instance_id).Int(now + owner.lease_s).Int(now);
    if (again != nullptr) params.Text(IdArray(*again));
    Result<PgResult> rows = conn.Exec(sql, params);
    if (!rows.ok()) return rows.status();
    int i = 0;
    const JournalRowReader row{[&](int col) { return rows->Int(i, col); },
                               [&](int col) { return rows->Bytes(i, col); }};
    for (; i < rows->rows(); ++i) out.push_back(decode(row));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  std::sort(out.begin(), out.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  return out;
}

}  // namespace

PgOperationJournal::~PgOperationJournal() {
  {
    std::lock_guard<std::mutex> lock(renew_mu_);
    stopping_ = true;
  }
  renew_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

std::string PgOperationJournal::DefaultInstanceId(int port) {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "localhost");
  }
  return std::string(host) + ":" + std::to_string(port);
}

void PgOperationJournal::StartRenewing(std::chrono::milliseconds interval) {
  renewer_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(renew_mu_);
    while (!renew_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      RenewLeases();  // a failure is retried at the next interval
      lock.lock();
    }
  });
}

Result<int64_t> PgOperationJournal::RenewLeases() {
  int64_t renewed = 0;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    renewed = 0;
    for (const char* sql :
         {"UPDATE operations SET lease_expires_at = $2::int8 WHERE owner_instance = $1::bytea",
          "UPDATE partial_writes SET lease_expires_at = $2::int8 "
          "WHERE owner_instance = $1::bytea"}) {
      PgParams params;
      Result<PgResult> r = conn.Exec(sql, params.Bytes(owner_.instance_id).Int(LeaseEnd()));
      if (!r.ok()) return r.status();
      renewed += r->Affected();
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return renewed;
}

Status PgOperationJournal::InsertIn(PgConnection& conn, JournalEntry* entry) {
  const std::string staging = entry->staging ? entry->staging->str() : std::string();
  const std::string trash = entry->trash ? entry->trash->str() : std::string();
  PgParams params;
  params.Int(static_cast<int64_t>(entry->kind))
      .Int(static_cast<int64_t>(entry->state))
      .Bytes(entry->source.str())
      .Bytes(entry->destination.str())
      .Bytes(staging)
      .Bytes(trash)
      .Int(static_cast<int64_t>(entry->staged_inode))
      .Int(static_cast<int64_t>(entry->staged_device))
      .Bytes(owner_.instance_id)
      .Int(LeaseEnd());
  Result<PgResult> r = conn.Exec(
      "INSERT INTO operations (kind, state, source, destination, staging, trash, staged_inode, "
      "staged_device, owner_instance, lease_expires_at) VALUES ($1::int4, $2::int4, $3::bytea, "
      "$4::bytea, $5::bytea, $6::bytea, $7::int8, $8::int8, $9::bytea, $10::int8) RETURNING id",
      params);
  if (!r.ok()) return r.status();
  entry->id = r->Int(0, 0);
  return Status::Ok();
}

Status PgOperationJournal::SetStateIn(PgConnection& conn, const JournalEntry& entry) {
  PgParams params;
  params.Int(entry.id)
      .Int(static_cast<int64_t>(entry.state))
      .Int(static_cast<int64_t>(entry.staged_inode))
      .Int(static_cast<int64_t>(entry.staged_device))
      .Bytes(owner_.instance_id)
      .Int(LeaseEnd());
  Result<PgResult> r = conn.Exec(
      "UPDATE operations SET state = $2::int4, staged_inode = $3::int8, staged_device = $4::int8, "
      "lease_expires_at = $6::int8 WHERE id = $1::int8 AND owner_instance = $5::bytea",
      params);
  if (!r.ok()) return r.status();
  if (r->Affected() == 0) return LeaseLost("journal entry", entry.id);
  return Status::Ok();
}

Status PgOperationJournal::DeleteRowIn(PgConnection& conn, int64_t id) {
  PgParams params;
  Result<PgResult> r =
      conn.Exec("DELETE FROM operations WHERE id = $1::int8 AND owner_instance = $2::bytea",
                params.Int(id).Bytes(owner_.instance_id));
  if (!r.ok()) return r.status();
  if (r->Affected() > 0) return Status::Ok();
  PgParams probe;
  Result<PgResult> other = conn.Exec("SELECT 1 FROM operations WHERE id = $1::int8", probe.Int(id));
  if (!other.ok()) return other.status();
  return other->rows() == 0 ? Status::Ok() : LeaseLost("journal entry", id);
}

Status PgOperationJournal::Begin(JournalEntry* entry) {
  if (entry->kind == JournalEntry::Kind::kRename) {
    return Status::InvalidArgument("a rename is journaled by BeginRename");
  }
  if (!entry->staging || !entry->trash) return MissingStaging(*entry);
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kBuilding;
  next.staged_inode = 0;
  next.staged_device = 0;
  Status s = db_.Transact([&](PgConnection& conn) { return InsertIn(conn, &next); });
  if (!s.ok()) return s;
  entry->id = next.id;
  entry->state = JournalEntry::State::kBuilding;
  return Status::Ok();
}

Status PgOperationJournal::StageProperties(JournalEntry* entry, bool whole_tree, uint64_t inode,
                                           uint64_t device) {
  if (!entry->staging) return MissingStaging(*entry);
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kReady;
  next.staged_inode = inode;
  next.staged_device = device;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    Status st = whole_tree ? PgPropertyStore::CopyTreeIn(conn, entry->source, *entry->staging)
                           : PgPropertyStore::CopyOneIn(conn, entry->source, *entry->staging);
    return st.ok() ? SetStateIn(conn, next) : st;
  });
  if (s.ok()) *entry = next;
  return s;
}

Status PgOperationJournal::CommitSwap(JournalEntry* entry) {
  if (!entry->staging) return MissingStaging(*entry);
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kSwapped;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    // The staged properties become the destination's; what was at the destination goes.
    Status st = PgPropertyStore::MoveTreeIn(conn, *entry->staging, entry->destination);
    if (st.ok() && entry->kind == JournalEntry::Kind::kMove) {
      st = PgPropertyStore::DeleteTreeIn(conn, entry->source);
    }
    return st.ok() ? SetStateIn(conn, next) : st;
  });
  if (s.ok()) *entry = next;
  return s;
}

Status PgOperationJournal::BeginRename(JournalEntry* entry, uint64_t inode, uint64_t device) {
  JournalEntry next = BeginRenameEntry(*entry, inode, device);
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    Status st = InsertIn(conn, &next);
    return st.ok() ? PgPropertyStore::MoveTreeIn(conn, next.source, next.destination) : st;
  });
  if (s.ok()) *entry = next;
  return s;
}

Status PgOperationJournal::UndoRename(const JournalEntry& entry) {
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    Status st = DeleteRowIn(conn, entry.id);
    return st.ok() ? PgPropertyStore::MoveTreeIn(conn, entry.destination, entry.source) : st;
  });
  if (s.ok()) Unclaim(&claimed_ops_, entry.id);
  return s;
}

Status PgOperationJournal::BeginReplace(JournalEntry* entry, uint64_t inode, uint64_t device) {
  if (!entry->trash) return MissingStaging(*entry);
  JournalEntry next = BeginReplaceEntry(*entry, inode, device);
  Status s = db_.Transact([&](PgConnection& conn) { return InsertIn(conn, &next); });
  if (s.ok()) *entry = next;
  return s;
}

Status PgOperationJournal::StageReplace(JournalEntry* entry) {
  if (!entry->trash) return MissingStaging(*entry);
  JournalEntry next = *entry;
  next.state = JournalEntry::State::kReady;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    Status st = PgPropertyStore::MoveTreeIn(conn, entry->destination, *entry->trash);
    if (st.ok()) st = PgPropertyStore::MoveTreeIn(conn, entry->source, entry->destination);
    return st.ok() ? SetStateIn(conn, next) : st;
  });
  if (s.ok()) *entry = next;
  return s;
}

Status PgOperationJournal::UndoReplace(const JournalEntry& entry) {
  if (!entry.trash) return MissingStaging(entry);
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    Status st = DeleteRowIn(conn, entry.id);
    if (st.ok()) st = PgPropertyStore::MoveTreeIn(conn, entry.destination, entry.source);
    if (st.ok()) st = PgPropertyStore::MoveTreeIn(conn, *entry.trash, entry.destination);
    return st;
  });
  if (s.ok()) Unclaim(&claimed_ops_, entry.id);
  return s;
}

Status PgOperationJournal::BeginDelete(JournalEntry* entry) {
  JournalEntry next = BeginDeleteEntry(*entry);
  Status s = db_.Transact([&](PgConnection& conn) { return InsertIn(conn, &next); });
  if (s.ok()) *entry = next;
  return s;
}

Status PgOperationJournal::Finish(const JournalEntry& entry) {
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    // The row first: an entry another instance has taken over keeps its staged properties.
    Status st = DeleteRowIn(conn, entry.id);
    // A rename has no staging path; nor has an unreadable entry whose staging was bad.
    if (st.ok() && entry.staging) st = PgPropertyStore::DeleteTreeIn(conn, *entry.staging);
    return st;
  });
  if (s.ok()) Unclaim(&claimed_ops_, entry.id);
  return s;
}

void PgOperationJournal::ClaimOnlyLapsed() {
  only_lapsed_.store(true);
}

Result<std::vector<JournalEntry>> PgOperationJournal::Pending() {
  return Claim("operations", kJournalEntryColumns, &JournalEntryFromRow, &claimed_ops_);
}

template <typename Row>
Result<std::vector<Row>> PgOperationJournal::Claim(const char* table, const char* columns,
                                                   Row (*decode)(const JournalRowReader&),
                                                   std::set<int64_t>* claimed) {
  if (!only_lapsed_.load()) {
    return ClaimRows(db_, ClaimSql(table, columns, false), owner_, clock_, decode, nullptr);
  }
  std::set<int64_t> again = Claimed(claimed);
  auto rows = ClaimRows(db_, ClaimSql(table, columns, true), owner_, clock_, decode, &again);
  if (rows.ok()) {
    std::lock_guard<std::mutex> lock(claimed_mu_);
    for (const Row& r : rows.value()) claimed->insert(r.id);
  }
  return rows;
}

std::set<int64_t> PgOperationJournal::Claimed(const std::set<int64_t>* ids) {
  std::lock_guard<std::mutex> lock(claimed_mu_);
  return *ids;
}

void PgOperationJournal::Unclaim(std::set<int64_t>* ids, int64_t id) {
  std::lock_guard<std::mutex> lock(claimed_mu_);
  ids->erase(id);
}

Status PgOperationJournal::BeginPartialWrite(PartialWriteRecord* record) {
  int64_t id = 0;
  Status s = db_.Transact([&](PgConnection& conn) -> Status {
    PgParams params;
    params.Bytes(record->path.str())
        .Int(static_cast<int64_t>(record->inode))
        .Int(static_cast<int64_t>(record->old_size))
        .Int(record->old_mtime_ns)
        .Int(static_cast<int64_t>(record->offset))
        .Bytes(record->saved)
        .Bytes(owner_.instance_id)
        .Int(LeaseEnd());
    Result<PgResult> r = conn.Exec(
        "INSERT INTO partial_writes (path, inode, old_size, old_mtime_ns, write_offset, saved, "
        "owner_instance, lease_expires_at) VALUES ($1::bytea, $2::int8, $3::int8, $4::int8, "
        "$5::int8, $6::bytea, $7::bytea, $8::int8) RETURNING id",
        params);
    if (!r.ok()) return r.status();
    id = r->Int(0, 0);
    return Status::Ok();
  });
  if (s.ok()) record->id = id;
  return s;
}

Status PgOperationJournal::FinishPartialWrite(int64_t id) {
  int64_t changed = 0;
  // Deleting twice deletes nothing more.
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> r =
        conn.Exec("DELETE FROM partial_writes WHERE id = $1::int8 AND owner_instance = $2::bytea",
                  params.Int(id).Bytes(owner_.instance_id));
    if (!r.ok()) return r.status();
    changed = r->Affected();
    if (changed > 0) return Status::Ok();
    PgParams probe;
    Result<PgResult> other =
        conn.Exec("SELECT 1 FROM partial_writes WHERE id = $1::int8", probe.Int(id));
    if (!other.ok()) return other.status();
    return other->rows() == 0 ? Status::Ok() : LeaseLost("partial-write record", id);
  });
  if (s.ok()) Unclaim(&claimed_writes_, id);
  return s;
}

Result<std::vector<PartialWriteRecord>> PgOperationJournal::PendingPartialWrites() {
  return Claim("partial_writes", "id, path, inode, old_size, old_mtime_ns, write_offset, saved",
               &PartialWriteFromRow, &claimed_writes_);
}

}  // namespace keepdav::storage
