// PgOperationJournal: the OperationJournal over the PostgreSQL database of a PgPropertyStore
// (tables `operations` and `partial_writes`, schema in storage/postgres/pg_database.cc), for
// several keepdav instances sharing one tree.
//
// Each step is one transaction spanning the journal's table and `properties`, as in
// SqliteOperationJournal. What several instances add: every entry and partial-write record
// names the instance that owns it (`instance_id`, stable across restarts: the host name and
// port by default, DefaultInstanceId) and holds a lease until `now + lease_s`. Every step of
// an entry renews its lease, and RenewLeases (run by the owner every lease_s / 3 or so, or by
// StartRenewing's thread) renews all of the instance's at once. A step on an entry the
// instance no longer owns changes nothing and fails (kIoError "lease lost").
//
// Pending() and PendingPartialWrites() claim entries for recovery, in one UPDATE, and return
// them: at start-up the entries of this instance (a restart recognises its own) and those
// whose lease has lapsed (their owner died); once ClaimOnlyLapsed() has been called (live
// recovery, run every lease_s / 3 or so while requests run) only those of other instances
// whose lease has lapsed. Row locks order two instances claiming at once: the second re-reads
// the row the first changed, finds it owned and leased, and skips it, so no two instances
// recover the same entry. An entry of a live instance that renews its leases is never claimed
// by another.
//
// Ownership: does not own `properties`, `clock` or their database, which must outlive the
// journal. Thread-safe. Errors: those of OperationJournal, with PostgreSQL's mapped by
// PgConnection; kUnavailable while the database cannot be reached (the step changed nothing).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "storage/clock.h"
#include "storage/operation_journal.h"
#include "storage/postgres/pg_property_store.h"

namespace keepdav::storage {

struct JournalRowReader;  // storage/journal_rows.h

struct PgJournalOwner {
  std::string instance_id;  // REQUIRES: not empty; unique among the instances sharing the data
  int64_t lease_s = 60;     // how long an entry stays this instance's without a renewal
};

class PgOperationJournal : public OperationJournal {
 public:
  PgOperationJournal(PgPropertyStore& properties, PgJournalOwner owner, const Clock& clock)
      : props_(properties), db_(properties.database()), owner_(std::move(owner)), clock_(clock) {}
  ~PgOperationJournal() override;

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

  // From now on Pending() and PendingPartialWrites() claim only the entries of other instances
  // whose lease lapsed, no longer this instance's own: after start-up recovery those belong to
  // the requests it is running. Call it once start-up recovery is done, before live recovery
  // starts. An entry claimed is this instance's from then on, renewed with the rest by
  // RenewLeases; the live claim also returns again what it claimed before and was not finished
  // since (Finish, UndoRename, UndoReplace, FinishPartialWrite), so an entry whose recovery
  // failed half-way is tried again at the next pass. (One whose claim lost its COMMIT,
  // kUnavailable yet claimed, waits for this instance's next start-up recovery.) Thread-safe
  // (any thread, any time; a claim already running keeps the mode it started with).
  void ClaimOnlyLapsed();

  // Extends the lease of every entry and record this instance owns to now + lease_s; returns
  // how many it renewed.
  Result<int64_t> RenewLeases();
  // Runs RenewLeases every `interval` on a thread of its own until the journal is destroyed
  // (failures are retried at the next interval: a lease outlives a few). Call at most once.
  void StartRenewing(std::chrono::milliseconds interval);

  // "<host name>:<port>", the default --instance-id.
  static std::string DefaultInstanceId(int port);

  const PgJournalOwner& owner() const { return owner_; }

 private:
  int64_t LeaseEnd() const { return clock_.Now() + owner_.lease_s; }
  // Inserts `entry` as it is, owned by this instance, and fills its id. REQUIRES: in a
  // transaction on `conn` (as do the two below).
  Status InsertIn(PgConnection& conn, JournalEntry* entry);
  // Sets the state and staged identity, and renews the lease; fails when not ours.
  Status SetStateIn(PgConnection& conn, const JournalEntry& entry);
  // Drops the row; fails when another instance owns it (a row already gone is fine).
  Status DeleteRowIn(PgConnection& conn, int64_t id);
  // Pending() and PendingPartialWrites(): the claim of ClaimOnlyLapsed's mode on `table`, its
  // rows decoded; `claimed` is claimed_ops_ or claimed_writes_.
  template <typename Row>
  Result<std::vector<Row>> Claim(const char* table, const char* columns,
                                 Row (*decode)(const JournalRowReader&),
                                 std::set<int64_t>* claimed);
  // A copy of `ids` (claimed_ops_ or claimed_writes_), and the removal of one id from it.
  std::set<int64_t> Claimed(const std::set<int64_t>* ids);
  void Unclaim(std::set<int64_t>* ids, int64_t id);

  PgPropertyStore& props_;
  PgDatabase& db_;
  const PgJournalOwner owner_;
  const Clock& clock_;
  std::atomic<bool> only_lapsed_{false};  // ClaimOnlyLapsed has been called
  // Ids the live claim returned and nothing has finished since (ClaimOnlyLapsed).
  std::mutex claimed_mu_;
  std::set<int64_t> claimed_ops_;     // guarded by claimed_mu_
  std::set<int64_t> claimed_writes_;  // guarded by claimed_mu_

  std::mutex renew_mu_;
  std::condition_variable renew_cv_;
  bool stopping_ = false;  // guarded by renew_mu_
  std::thread renewer_;
};

}  // namespace keepdav::storage
