// What only the PostgreSQL stores promise (issue 15: several keepdav instances over one
// database): lock creation without a race between instances, a pool that reconnects by itself
// after the server went away and says kUnavailable while it is away, journal entries that no
// two instances recover, the schema version, and how many round trips the hot calls cost.
// The contract every store keeps is in the *_store_test.cc suites (Postgres backend).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/clock.h"
#include "storage/postgres/pg_checksum_store.h"
#include "storage/postgres/pg_database.h"
#include "storage/postgres/pg_lock_store.h"
#include "storage/postgres/pg_operation_journal.h"
#include "storage/postgres/pg_property_store.h"
#include "tests/storage/pg_cluster.h"
#include "tests/storage/status_printer.h"
#include "tests/storage/test_files.h"

namespace keepdav::storage {
namespace {

using test_support::P;
using test_support::PgCluster;

class FakeClock : public Clock {
 public:
  int64_t Now() const override { return now.load(); }
  std::atomic<int64_t> now{1000};
};

// A test's own schema in the process's cluster, and a way to open "instances" on it: each
// PgDatabase is a pool of its own, as each keepdav process has.
class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    cluster_ = PgCluster::Shared(&why);
    if (cluster_ == nullptr) GTEST_SKIP() << "PostgreSQL is not available here: " << why;
    schema_ = cluster_->NewSchema();
    ASSERT_FALSE(schema_.empty());
  }
  void TearDown() override {
    if (cluster_ != nullptr) cluster_->DropSchema(schema_);
  }
  std::unique_ptr<PgDatabase> OpenInstance(int pool_size = 4) {
    PgOptions options;
    options.pool_size = pool_size;
    Result<std::unique_ptr<PgDatabase>> db = PgDatabase::Open(cluster_->Uri(schema_), options);
    EXPECT_TRUE(db.ok()) << db.status().ToString() << cluster_->LogTail();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  // One keepdav instance's journal: a pool, a property store and a journal of its own.
  struct JournalInstance {
    std::unique_ptr<PgDatabase> db;
    std::unique_ptr<PgPropertyStore> props;
    std::unique_ptr<PgOperationJournal> journal;
  };
  // An instance for each id, with leases of `lease_s` on clock_; empty when one failed to open.
  std::vector<JournalInstance> OpenJournals(const std::vector<std::string>& ids, int64_t lease_s) {
    std::vector<JournalInstance> out;
    for (const std::string& id : ids) {
      JournalInstance j;
      j.db = OpenInstance();
      if (j.db == nullptr) return {};
      j.props = std::make_unique<PgPropertyStore>(*j.db);
      j.journal =
          std::make_unique<PgOperationJournal>(*j.props, PgJournalOwner{id, lease_s}, clock_);
      out.push_back(std::move(j));
    }
    return out;
  }

  PgCluster* cluster_ = nullptr;
  std::string schema_;
  FakeClock clock_;  // the journals' (OpenJournals)
};

LockRecord MakeLock(const std::string& token, std::string_view root, bool infinite,
                    bool exclusive) {
  LockRecord r;
  r.token = token;
  r.root = P(root);
  r.infinite_depth = infinite;
  r.exclusive = exclusive;
  r.timeout_s = 600;
  r.expires_at = 100000;
  return r;
}

// webdav/LockManager's conflict rule (RFC 4918 §6.1): exclusive against anything, shared
// against exclusive, with what lies below only for a depth-infinity lock.
bool NoConflict(const LockRecord& lock, const LockNeighbourhood& around) {
  for (const LockRecord& other : around.covering) {
    if (lock.exclusive || other.exclusive) return false;
  }
  for (const LockRecord& other : around.below) {
    if (lock.exclusive || other.exclusive) return false;
  }
  return true;
}

// Two instances race, round after round, to lock: the same resource; a depth-infinity lock
// on a collection against an exclusive lock on its member; a shared lock against an exclusive
// one. In every round exactly one wins, and the table holds exactly the winner's lock.
TEST_F(PgStoreTest, RacingInstancesLeaveExactlyOneLockHolder) {
  std::unique_ptr<PgDatabase> db_a = OpenInstance();
  std::unique_ptr<PgDatabase> db_b = OpenInstance();
  ASSERT_TRUE(db_a && db_b);
  PgLockStore a(*db_a), b(*db_b);
  struct Race {
    const char* name;
    LockRecord first, second;
  };
  const std::vector<Race> races = {
      {"same resource", MakeLock("a", "/doc", false, true), MakeLock("b", "/doc", false, true)},
      {"depth-infinity ancestor vs member", MakeLock("a", "/dir", true, true),
       MakeLock("b", "/dir/sub/file", false, true)},
      {"member vs depth-infinity ancestor", MakeLock("a", "/dir/file", false, true),
       MakeLock("b", "/dir", true, false)},
      {"shared vs exclusive", MakeLock("a", "/s", false, false), MakeLock("b", "/s", true, true)},
  };
  constexpr int kRounds = 60;
  for (const Race& race : races) {
    int wins_a = 0, wins_b = 0;
    for (int round = 0; round < kRounds; ++round) {
      LockRecord first = race.first, second = race.second;
      first.token += std::to_string(round);
      second.token += std::to_string(round);
      std::atomic<int> ready{0};
      Result<bool> got_a = false, got_b = false;
      auto run = [&](PgLockStore& store, const LockRecord& lock, Result<bool>* out) {
        ready.fetch_add(1);
        while (ready.load() < 2) {
        }
        *out = store.InsertIfAllowed(
            lock, 0, [&](const LockNeighbourhood& around) { return NoConflict(lock, around); });
      };
      std::thread ta(run, std::ref(a), std::cref(first), &got_a);
      std::thread tb(run, std::ref(b), std::cref(second), &got_b);
      ta.join();
      tb.join();
      ASSERT_TRUE(got_a.ok()) << got_a.status().ToString();
      ASSERT_TRUE(got_b.ok()) << got_b.status().ToString();
      ASSERT_NE(*got_a, *got_b) << race.name << ", round " << round << ": "
                                << (*got_a ? "both won" : "neither won");
      (*got_a ? wins_a : wins_b) += 1;
      Result<std::vector<LockRecord>> all = a.All(0);
      ASSERT_TRUE(all.ok());
      ASSERT_EQ(all->size(), 1u) << race.name << ", round " << round;
      EXPECT_EQ((*all)[0].token, *got_a ? first.token : second.token);
      ASSERT_TRUE(b.DeleteTree(ResourcePath()).ok());
    }
    // Not asserted (scheduling decides), but a race both sides never win is no race.
    std::printf("[ race     ] %s: instance A won %d, B won %d of %d rounds\n", race.name, wins_a,
                wins_b, kRounds);
  }
}

// A lock taken through one instance is seen through the other at the next call: nothing is
// cached (a tokenless PUT through B must be refused at once).
TEST_F(PgStoreTest, ALockThroughOneInstanceIsSeenThroughTheOtherAtOnce) {
  std::unique_ptr<PgDatabase> db_a = OpenInstance();
  std::unique_ptr<PgDatabase> db_b = OpenInstance();
  ASSERT_TRUE(db_a && db_b);
  PgLockStore a(*db_a), b(*db_b);
  EXPECT_TRUE(b.FindCovering(P("/dir/file"), 0)->empty());
  ASSERT_TRUE(a.Insert(MakeLock("t", "/dir", true, true)).ok());
  Result<std::vector<LockRecord>> covering = b.FindCovering(P("/dir/file"), 0);
  ASSERT_TRUE(covering.ok());
  ASSERT_EQ(covering->size(), 1u);
  EXPECT_EQ((*covering)[0].token, "t");
  // A refresh through B is what A then sees.
  ASSERT_TRUE(b.SetExpiry("t", 60, 5000, 0).ok());
  EXPECT_EQ(a.Find("t", 0)->expires_at, 5000);
}

// The server stops: every call answers kUnavailable at once (no hang), nothing is changed;
// it comes back: the same PgDatabase works again without being reopened. A restart (pg_ctl
// stop and start) while the pool holds idle connections costs no failed call at all: the
// first call finds its connection dead before anything was sent and runs on a new one, and
// the other idle connections of before are dropped unused.
TEST_F(PgStoreTest, ThePoolReconnectsAfterARestartAndSaysUnavailableMeanwhile) {
  std::unique_ptr<PgDatabase> db = OpenInstance(/*pool_size=*/3);
  ASSERT_TRUE(db);
  PgPropertyStore props(*db);
  PgLockStore locks(*db);
  ASSERT_TRUE(props.Apply(P("/f"), {{{"urn:x", "p"}, false, "v1"}}).ok());
  // Fill the pool with idle connections.
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&] {
        for (int j = 0; j < 20; ++j) EXPECT_TRUE(props.GetAll(P("/f")).ok());
      });
    }
    for (auto& t : threads) t.join();
  }

  ASSERT_TRUE(cluster_->Stop()) << cluster_->LogTail();
  Status get = props.Get(P("/f"), {"urn:x", "p"}).status();
  EXPECT_EQ(get.code(), StatusCode::kUnavailable) << get.ToString();
  Status apply = props.Apply(P("/f"), {{{"urn:x", "p"}, false, "v2"}});
  EXPECT_EQ(apply.code(), StatusCode::kUnavailable) << apply.ToString();
  EXPECT_EQ(locks.Insert(MakeLock("t", "/f", false, true)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(locks.FindCovering(P("/f"), 0).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(db->open_connections(), 0);  // every dead connection was dropped

  ASSERT_TRUE(cluster_->Start()) << cluster_->LogTail();
  Result<std::string> value = props.Get(P("/f"), {"urn:x", "p"});
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, "v1");  // the Apply while it was down changed nothing
  ASSERT_TRUE(locks.Insert(MakeLock("t", "/f", false, true)).ok());

  // Idle connections, then a restart behind the pool's back.
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&] {
        for (int j = 0; j < 20; ++j) EXPECT_TRUE(props.GetAll(P("/f")).ok());
      });
    }
    for (auto& t : threads) t.join();
  }
  ASSERT_TRUE(cluster_->Stop() && cluster_->Start()) << cluster_->LogTail();
  EXPECT_TRUE(props.Apply(P("/f"), {{{"urn:x", "p"}, false, "v3"}}).ok());
  EXPECT_EQ(*props.Get(P("/f"), {"urn:x", "p"}), "v3");
  EXPECT_EQ(locks.FindCovering(P("/f"), 0)->size(), 1u);
  EXPECT_LE(db->open_connections(), 3);
}

TEST_F(PgStoreTest, AnUnreachableServerIsUnavailableAtOpen) {
  Result<std::unique_ptr<PgDatabase>> db =
      PgDatabase::Open("postgresql:///postgres?host=/nonexistent-keepdav-dir&user=keepdav");
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().ToString();
  EXPECT_EQ(PgDatabase::Open("/var/lib/keepdav.db").status().code(), StatusCode::kInvalidArgument);
}

// The pool never opens more than its size, however many threads call at once.
TEST_F(PgStoreTest, ThePoolIsBounded) {
  std::unique_ptr<PgDatabase> db = OpenInstance(/*pool_size=*/2);
  ASSERT_TRUE(db);
  PgPropertyStore props(*db);
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 15; ++j) {
        EXPECT_TRUE(props.Apply(P("/t" + std::to_string(i)), {{{"", "n"}, false, "x"}}).ok());
        int open = db->open_connections();
        int seen = most.load();
        while (open > seen && !most.compare_exchange_weak(seen, open)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 2);
  EXPECT_GE(most.load(), 1);
}

// Instances starting together migrate once; a database of a newer keepdav is refused.
TEST_F(PgStoreTest, SchemaVersionIsCheckedAndMigrationsDoNotRace) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (!OpenInstance()) failures.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(cluster_->Sql("UPDATE " + schema_ + ".keepdav_schema SET version = 99"));
  Result<std::unique_ptr<PgDatabase>> db = PgDatabase::Open(cluster_->Uri(schema_));
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument) << db.status().ToString();
}

JournalEntry CopyEntry(int n) {
  JournalEntry e;
  e.kind = JournalEntry::Kind::kCopy;
  e.source = P("/src" + std::to_string(n));
  e.destination = P("/dst" + std::to_string(n));
  e.staging = ResourcePath().InternalChild(".keepdav-stage-" + std::to_string(n));
  e.trash = ResourcePath().InternalChild(".keepdav-trash-" + std::to_string(n));
  return e;
}

// What one instance's recovery claimed.
struct Claimed {
  Result<std::vector<JournalEntry>> entries = std::vector<JournalEntry>();
  Result<std::vector<PartialWriteRecord>> writes = std::vector<PartialWriteRecord>();
  bool ok() const { return entries.ok() && writes.ok(); }
};

// `x` and `y` recover at the same moment, each on a thread of its own: Pending(), then
// PendingPartialWrites().
std::pair<Claimed, Claimed> RecoverAtOnce(PgOperationJournal& x, PgOperationJournal& y) {
  std::pair<Claimed, Claimed> got;
  std::atomic<int> ready{0};
  auto recover = [&ready](PgOperationJournal* j, Claimed* out) {
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    out->entries = j->Pending();
    out->writes = j->PendingPartialWrites();
  };
  std::thread tx(recover, &x, &got.first);
  std::thread ty(recover, &y, &got.second);
  tx.join();
  ty.join();
  return got;
}

// Entries belong to the instance that began them: another instance does not see them while
// their lease runs, and a restart of the owner (same instance id) does. Once the owner is gone
// and the leases lapse, instances recovering at once claim each entry exactly once, and the
// old owner's next step on a claimed entry fails without changing anything.
TEST_F(PgStoreTest, TwoJournalOwnersNeverRecoverTheSameEntry) {
  std::vector<JournalInstance> in = OpenJournals({"host-a:8080", "host-b:8080", "host-c:8080"}, 60);
  ASSERT_EQ(in.size(), 3u);
  PgOperationJournal &a = *in[0].journal, &b = *in[1].journal, &c = *in[2].journal;

  constexpr int kEntries = 40;
  std::vector<JournalEntry> entries;
  for (int i = 0; i < kEntries; ++i) {
    JournalEntry e = CopyEntry(i);
    ASSERT_TRUE(a.Begin(&e).ok());
    entries.push_back(e);
  }
  PartialWriteRecord write;
  write.path = P("/big.iso");
  write.saved = "old";
  ASSERT_TRUE(a.BeginPartialWrite(&write).ok());

  EXPECT_TRUE(b.Pending()->empty());  // a's leases run
  EXPECT_TRUE(b.PendingPartialWrites()->empty());
  {
    PgOperationJournal a_again(*in[0].props, {"host-a:8080", 60}, clock_);  // a restarted
    EXPECT_EQ(a_again.Pending()->size(), static_cast<size_t>(kEntries));
    EXPECT_EQ(a_again.PendingPartialWrites()->size(), 1u);
  }
  // A renewal keeps them a's past the first lease.
  clock_.now += 50;
  EXPECT_EQ(*a.RenewLeases(), kEntries + 1);
  clock_.now += 50;
  EXPECT_TRUE(b.Pending()->empty());

  // a dies; its leases lapse; b and c recover at once.
  clock_.now += 61;
  auto [got_b, got_c] = RecoverAtOnce(b, c);
  ASSERT_TRUE(got_b.ok() && got_c.ok());
  std::set<int64_t> ids;
  for (const Claimed* got : {&got_b, &got_c}) {
    for (const JournalEntry& e : got->entries.value()) {
      EXPECT_TRUE(ids.insert(e.id).second) << "entry " << e.id << " recovered twice";
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEntries));
  EXPECT_EQ(got_b.writes->size() + got_c.writes->size(), 1u);
  std::printf("[ recover  ] b claimed %zu entries, c claimed %zu\n", got_b.entries->size(),
              got_c.entries->size());
  // Claimed entries stay with their new owner: asking again hands each to the same instance.
  EXPECT_EQ(b.Pending()->size(), got_b.entries->size());
  EXPECT_EQ(c.Pending()->size(), got_c.entries->size());

  // The old owner (paused, not dead) cannot step or finish an entry it lost.
  JournalEntry lost = entries[0];
  Status step = a.StageProperties(&lost, true, 1, 1);
  EXPECT_EQ(step.code(), StatusCode::kIoError) << step.ToString();
  EXPECT_EQ(lost.state, JournalEntry::State::kBuilding);
  EXPECT_FALSE(a.Finish(entries[0]).ok());
  EXPECT_EQ(b.Pending()->size() + c.Pending()->size(), static_cast<size_t>(kEntries));
  // The new owners finish them.
  for (const JournalEntry& e : got_b.entries.value()) ASSERT_TRUE(b.Finish(e).ok());
  for (const JournalEntry& e : got_c.entries.value()) ASSERT_TRUE(c.Finish(e).ok());
  EXPECT_TRUE(b.Pending()->empty());
  EXPECT_TRUE(c.Pending()->empty());
}

// Live recovery (ClaimOnlyLapsed): an instance no longer claims its own entries, which belong
// to the requests it is running, even when their lease ran out before a renewal; a restart
// (start-up recovery, same instance id) still does.
TEST_F(PgStoreTest, AfterClaimOnlyLapsedOwnEntriesAreNotClaimed) {
  std::vector<JournalInstance> in = OpenJournals({"host-a:8080"}, 60);
  ASSERT_EQ(in.size(), 1u);
  PgOperationJournal& a = *in[0].journal;
  JournalEntry e = CopyEntry(1);
  ASSERT_TRUE(a.Begin(&e).ok());
  PartialWriteRecord write;
  write.path = P("/big.iso");
  write.saved = "old";
  ASSERT_TRUE(a.BeginPartialWrite(&write).ok());
  EXPECT_EQ(a.Pending()->size(), 1u);  // start-up mode: its own
  EXPECT_EQ(a.PendingPartialWrites()->size(), 1u);

  a.ClaimOnlyLapsed();
  Result<std::vector<JournalEntry>> pending = a.Pending();
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->empty());
  EXPECT_TRUE(a.PendingPartialWrites()->empty());
  clock_.now += 61;  // its own lease lapsed: still its own
  EXPECT_TRUE(a.Pending()->empty());
  EXPECT_TRUE(a.PendingPartialWrites()->empty());
  {
    PgOperationJournal a_again(*in[0].props, {"host-a:8080", 60}, clock_);  // a restarted
    EXPECT_EQ(a_again.Pending()->size(), 1u);
    EXPECT_EQ(a_again.PendingPartialWrites()->size(), 1u);
  }
  // The request goes on: its steps still work, and it finishes.
  ASSERT_TRUE(a.StageProperties(&e, true, 1, 1).ok());
  ASSERT_TRUE(a.Finish(e).ok());
  ASSERT_TRUE(a.FinishPartialWrite(write.id).ok());
  EXPECT_TRUE(a.Pending()->empty());
}

// Two live instances recover at the same time, round after round, the entries of a third whose
// lease lapsed: each entry and record goes to exactly one, and a second claim (by either) gets
// nothing more of it.
TEST_F(PgStoreTest, LiveRecoveryClaimsALapsedEntryExactlyOnce) {
  std::vector<JournalInstance> in = OpenJournals({"host-a:8080", "host-b:8080", "host-c:8080"}, 60);
  ASSERT_EQ(in.size(), 3u);
  PgOperationJournal &a = *in[0].journal, &b = *in[1].journal, &c = *in[2].journal;
  b.ClaimOnlyLapsed();
  c.ClaimOnlyLapsed();

  constexpr int kRounds = 30;
  int wins_b = 0, wins_c = 0;
  for (int round = 0; round < kRounds; ++round) {
    JournalEntry e = CopyEntry(round);
    ASSERT_TRUE(a.Begin(&e).ok());
    PartialWriteRecord write;
    write.path = P("/w" + std::to_string(round));
    write.saved = "old";
    ASSERT_TRUE(a.BeginPartialWrite(&write).ok());
    EXPECT_TRUE(b.Pending()->empty()) << "a's lease still runs, round " << round;
    clock_.now += 61;  // a died

    auto [got_b, got_c] = RecoverAtOnce(b, c);
    ASSERT_TRUE(got_b.ok() && got_c.ok());
    ASSERT_EQ(got_b.entries->size() + got_c.entries->size(), 1u) << "round " << round;
    ASSERT_EQ(got_b.writes->size() + got_c.writes->size(), 1u) << "round " << round;
    const bool b_won = !got_b.entries->empty(), b_won_write = !got_b.writes->empty();
    EXPECT_EQ((b_won ? got_b : got_c).entries->front().id, e.id);
    EXPECT_EQ((b_won_write ? got_b : got_c).writes->front().id, write.id);
    (b_won ? wins_b : wins_c) += 1;

    // Claimed once: the other gets nothing of it; the winner gets it again until it finishes
    // it (a recovery that failed half-way is tried again at its next pass), then nobody does.
    EXPECT_TRUE((b_won ? c : b).Pending()->empty());
    EXPECT_TRUE((b_won_write ? c : b).PendingPartialWrites()->empty());
    auto again = (b_won ? b : c).Pending();
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), 1u);
    EXPECT_EQ(again->front().id, e.id);
    auto again_write = (b_won_write ? b : c).PendingPartialWrites();
    ASSERT_TRUE(again_write.ok());
    ASSERT_EQ(again_write->size(), 1u);
    ASSERT_TRUE((b_won ? b : c).Finish(e).ok());
    ASSERT_TRUE((b_won_write ? b : c).FinishPartialWrite(write.id).ok());
    EXPECT_TRUE(b.Pending()->empty());
    EXPECT_TRUE(c.Pending()->empty());
    EXPECT_TRUE(b.PendingPartialWrites()->empty());
    EXPECT_TRUE(c.PendingPartialWrites()->empty());
  }
  std::printf("[ recover  ] live: b claimed %d, c claimed %d of %d entries\n", wins_b, wins_c,
              kRounds);
  EXPECT_TRUE(a.Pending()->empty());  // a's start-up mode finds nothing left
}

// An entry of a live instance that renews its leases is never claimed by live recovery,
// through many lease lengths; once the renewals stop, it is.
TEST_F(PgStoreTest, LiveRecoveryNeverClaimsARenewedEntry) {
  std::vector<JournalInstance> in = OpenJournals({"host-a:8080", "host-b:8080"}, 30);
  ASSERT_EQ(in.size(), 2u);
  PgOperationJournal &a = *in[0].journal, &b = *in[1].journal;
  a.ClaimOnlyLapsed();
  b.ClaimOnlyLapsed();
  JournalEntry e = CopyEntry(1);
  ASSERT_TRUE(a.Begin(&e).ok());
  PartialWriteRecord write;
  write.path = P("/big.iso");
  ASSERT_TRUE(a.BeginPartialWrite(&write).ok());
  for (int i = 0; i < 30; ++i) {  // 300 s of fake time: ten leases, renewed every lease / 3
    clock_.now += 10;
    ASSERT_EQ(*a.RenewLeases(), 2);
    ASSERT_TRUE(b.Pending()->empty()) << "claimed at step " << i;
    ASSERT_TRUE(b.PendingPartialWrites()->empty()) << "claimed at step " << i;
  }
  ASSERT_TRUE(a.StageProperties(&e, true, 1, 1).ok());  // still a's
  clock_.now += 30;                                     // a stops renewing: the lease lapses
  EXPECT_EQ(b.Pending()->size(), 1u);
  EXPECT_EQ(b.PendingPartialWrites()->size(), 1u);
}

// The renewal thread keeps an instance's entries through many lease lengths.
TEST_F(PgStoreTest, StartRenewingKeepsTheLease) {
  std::vector<JournalInstance> in = OpenJournals({"host-a:1", "host-b:1"}, 10);
  ASSERT_EQ(in.size(), 2u);
  PgOperationJournal &a = *in[0].journal, &b = *in[1].journal;
  JournalEntry e = CopyEntry(1);
  ASSERT_TRUE(a.Begin(&e).ok());
  a.StartRenewing(std::chrono::milliseconds(5));
  for (int i = 0; i < 20; ++i) {  // 60 s of fake time: six leases
    clock_.now += 3;
    // Two renewals' worth of round trips (BEGIN, two UPDATEs, COMMIT each): at least one
    // whole renewal ran after the clock moved.
    const int64_t before = in[0].db->round_trips();
    for (int wait = 0; wait < 1000 && in[0].db->round_trips() < before + 8; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(b.Pending()->empty()) << "lost at step " << i;
  }
}

// Round trips per call once a connection has prepared its statements: reads are one, a
// single-statement write in a transaction three (BEGIN, the statement, COMMIT). Printed for
// the record; the bounds catch a regression (a query per member, a forgotten prepare).
TEST_F(PgStoreTest, RoundTripsPerCall) {
  std::unique_ptr<PgDatabase> db = OpenInstance(/*pool_size=*/1);
  ASSERT_TRUE(db);
  PgPropertyStore props(*db);
  PgLockStore locks(*db);
  PgChecksumStore sums(*db);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(props.Apply(P("/dir/f" + std::to_string(i)), {{{"", "a"}, false, "1"}}).ok());
  }
  auto cost = [&](const char* what, const std::function<void()>& call) {
    call();  // prepares
    const int64_t before = db->round_trips();
    call();
    const int64_t n = db->round_trips() - before;
    std::printf("[ trips    ] %-28s %lld\n", what, static_cast<long long>(n));
    return n;
  };
  EXPECT_EQ(cost("PropertyStore::GetAll", [&] { ASSERT_TRUE(props.GetAll(P("/dir/f1")).ok()); }),
            1);
  int members = 0;
  EXPECT_EQ(
      cost("ForEachInMembers (50)",
           [&] {
             members = 0;
             ASSERT_TRUE(
                 props.ForEachInMembers(P("/dir"), [&](auto, const auto&) { ++members; }).ok());
           }),
      1);
  EXPECT_EQ(members, 50);
  EXPECT_EQ(cost("LockStore::FindCovering (depth 4)",
                 [&] { ASSERT_TRUE(locks.FindCovering(P("/a/b/c/d"), 0).ok()); }),
            1);
  EXPECT_EQ(cost("PropertyStore::Apply (1)",
                 [&] {
                   ASSERT_TRUE(props.Apply(P("/x"), {{{"", "a"}, false, "2"}}).ok());
                 }),
            1);  // one statement, autocommitted
  EXPECT_EQ(
      cost(
          "ApplyUnlessLocked (1)",
          [&] {
            ASSERT_TRUE(props.ApplyUnlessLocked(P("/a/b/x"), {{{"", "a"}, false, "2"}}, 0).value());
          }),
      1);  // the lock check and the upsert: one statement (a PROPPATCH's only trip)
  EXPECT_EQ(
      cost("PropertyStore::Apply (2)",
           [&] {
             ASSERT_TRUE(
                 props.Apply(P("/x"), {{{"", "a"}, false, "3"}, {{"", "b"}, false, "4"}}).ok());
           }),
      4);  // BEGIN, two statements, COMMIT
  EXPECT_EQ(cost("ChecksumStore::Put", [&] { ASSERT_TRUE(sums.Put(P("/x"), {}, {}).ok()); }), 1);
  int n = 0;
  EXPECT_LE(
      cost("LockStore::InsertIfAllowed",
           [&] {
             LockRecord lock = MakeLock("t" + std::to_string(n++), "/l/m", true, false);
             ASSERT_TRUE(locks.InsertIfAllowed(lock, 0, [](const auto&) { return true; }).ok());
           }),
      8);
}

}  // namespace
}  // namespace keepdav::storage
