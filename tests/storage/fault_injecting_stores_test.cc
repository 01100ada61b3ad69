// The fault-injecting store wrappers (storage/fault_injecting_stores.h): which calls count as
// mutating, across the three stores in one sequence; a failure at one step only; a crash that
// stops every later call, before or just after the crashing call; the on_crash hook.
#include "storage/fault_injecting_stores.h"

#include <gtest/gtest.h>

#include <memory>

#include "storage/database.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"

namespace keepdav::storage {
namespace {

ResourcePath P(std::string_view s) {
  return ResourcePath::Parse(s).value();
}

const PropertyName kName{"urn:k", "a"};

class FaultInjectingStoresTest : public ::testing::Test {
 protected:
  FaultInjectingStoresTest()
      : db_(Database::Open(":memory:").value()),
        props_(*db_),
        journal_(props_),
        locks_(*db_),
        faulty_props_(props_, faults_),
        faulty_locks_(locks_, faults_),
        faulty_journal_(journal_, faults_) {}

  LockRecord Lock(const std::string& token) {
    LockRecord l;
    l.token = token;
    l.root = P("/f");
    l.expires_at = 100;
    return l;
  }

  std::unique_ptr<Database> db_;
  SqlitePropertyStore props_;
  SqliteOperationJournal journal_;
  SqliteLockStore locks_;
  StoreFaults faults_;
  FaultInjectingPropertyStore faulty_props_;
  FaultInjectingLockStore faulty_locks_;
  FaultInjectingOperationJournal faulty_journal_;
};

TEST_F(FaultInjectingStoresTest, MutatingCallsAreCountedAcrossTheStoresAndReadsAreNot) {
  ASSERT_TRUE(faulty_props_.Apply(P("/f"), {{kName, false, "v"}}).ok());
  ASSERT_TRUE(faulty_locks_.Insert(Lock("t1")).ok());
  JournalEntry e;
  e.destination = P("/f");
  ASSERT_TRUE(faulty_journal_.BeginDelete(&e).ok());
  EXPECT_TRUE(faulty_props_.Get(P("/f"), kName).ok());
  EXPECT_TRUE(faulty_locks_.All(0).ok());
  EXPECT_TRUE(faulty_journal_.Pending().ok());
  EXPECT_EQ(faults_.mutating_calls(), 3);
}

TEST_F(FaultInjectingStoresTest, FailAtMutationFailsThatCallOnlyAndDoesNotMakeIt) {
  faults_.FailAtMutation(2, Status::WithCode(StatusCode::kNoSpace, "full"));
  ASSERT_TRUE(faulty_props_.Apply(P("/a"), {{kName, false, "1"}}).ok());
  Status s = faulty_props_.Apply(P("/b"), {{kName, false, "2"}});
  EXPECT_EQ(s.code(), StatusCode::kNoSpace);
  EXPECT_TRUE(props_.Get(P("/b"), kName).status().IsNotFound());
  EXPECT_TRUE(faulty_props_.Apply(P("/c"), {{kName, false, "3"}}).ok());
  EXPECT_FALSE(faults_.crashed());
}

TEST_F(FaultInjectingStoresTest, CrashBeforeTheCallStopsEveryLaterCall) {
  int hooks = 0;
  faults_.CrashAtMutation(2, [&] { ++hooks; });
  ASSERT_TRUE(faulty_locks_.Insert(Lock("t1")).ok());
  EXPECT_EQ(faulty_locks_.Insert(Lock("t2")).code(), StatusCode::kIoError);
  EXPECT_TRUE(faults_.crashed());
  EXPECT_EQ(hooks, 1);
  EXPECT_TRUE(locks_.Find("t2", 0).status().IsNotFound());  // not made
  EXPECT_FALSE(faulty_locks_.All(0).ok());                  // reads fail too
  EXPECT_FALSE(faulty_props_.Apply(P("/a"), {{kName, false, "1"}}).ok());
  EXPECT_TRUE(props_.Get(P("/a"), kName).status().IsNotFound());
  EXPECT_EQ(hooks, 1);
}

TEST_F(FaultInjectingStoresTest, CrashAfterTheCallMakesItAndStillReportsTheCrash) {
  int hooks = 0;
  faults_.CrashAtMutation(
      1, [&] { ++hooks; }, /*after_call=*/true);
  EXPECT_EQ(faulty_props_.Apply(P("/a"), {{kName, false, "1"}}).code(), StatusCode::kIoError);
  EXPECT_EQ(hooks, 1);
  EXPECT_EQ(*props_.Get(P("/a"), kName), "1");  // the transaction committed
  EXPECT_FALSE(faulty_props_.Get(P("/a"), kName).ok());
}

TEST_F(FaultInjectingStoresTest, CrashFromOutsideStopsTheStoresAndClearFaultsRestarts) {
  faults_.Crash();
  EXPECT_FALSE(faulty_journal_.Pending().ok());
  faults_.ClearFaults();
  EXPECT_TRUE(faulty_journal_.Pending().ok());
  EXPECT_TRUE(faulty_props_.Apply(P("/a"), {{kName, false, "1"}}).ok());
}

}  // namespace
}  // namespace keepdav::storage
