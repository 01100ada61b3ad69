// Fault-injecting decorators of the database seams, for crash tests: FaultInjectingPropertyStore,
// FaultInjectingLockStore and FaultInjectingOperationJournal wrap a real store each and share one
// StoreFaults, which counts their *mutating* calls across all three (the database steps of a
// request, in order) and can make one of them fail or "crash" there.
//
// - FailAtMutation(n, status): the nth mutating call fails with `status` and is not made; the
//   calls before and after it go ahead (a full disk or a read-only database at that step).
// - CrashAtMutation(n, on_crash, after_call): the nth mutating call and every call after it, of
//   any kind and on any of the wrappers, fail with kIoError "crashed", as if the process had
//   been killed there. With `after_call` the nth call is still made (killed just after its
//   transaction committed). `on_crash` runs once, on the calling thread, when the crash happens
//   (a test uses it to stop the file system too: FaultInjectingFileSystem::CrashAtMutation(1)).
// - Crash(): crashes now (from the file system's on_crash, so that no store call follows a
//   file-system crash).
// Each wrapped call is one transaction of the store (every mutation is atomic, see the store
// interfaces), so before and after a call are the only crash points a database step has.
// Mutating calls: PropertyStore Apply, ApplyUnlessLocked, CopyTree, MoveTree, DeleteTree; LockStore
// Insert, InsertIfAllowed, SetExpiry, Delete, DeleteTree, PurgeExpired; every OperationJournal call
// but Pending and PendingPartialWrites.
//
// Ownership: the wrappers own nothing; the wrapped stores and the StoreFaults must outlive them.
// Thread-safe (the settings may change while calls run), as the wrapped stores are.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "storage/lock_store.h"
#include "storage/operation_journal.h"
#include "storage/property_store.h"

namespace keepdav::storage {

class StoreFaults {
 public:
  // See the file comment. Each resets mutating_calls() (and CrashAtMutation crashed()).
  void FailAtMutation(int n, Status status);
  void CrashAtMutation(int n, std::function<void()> on_crash = nullptr, bool after_call = false);
  void Crash() { crashed_ = true; }
  void ClearFaults();

  int mutating_calls() const { return mutating_calls_.load(); }
  bool crashed() const { return crashed_.load(); }

  // For the wrappers: the fault for a call named `what`, or OK to go ahead. A mutating call
  // goes through Mutate, which makes it (unless a fault answered) and crashes after it if due.
  Status Check(const std::string& what);
  Status Mutate(const std::string& what, const std::function<Status()>& call);

 private:
  std::mutex mu_;
  int fail_at_ = 0;                 // guarded by mu_
  Status fail_status_;              // guarded by mu_
  int crash_at_ = 0;                // guarded by mu_
  bool crash_after_call_ = false;   // guarded by mu_
  std::function<void()> on_crash_;  // guarded by mu_
  std::atomic<int> mutating_calls_{0};
  std::atomic<bool> crashed_{false};
};

class FaultInjectingPropertyStore : public PropertyStore {
 public:
  FaultInjectingPropertyStore(PropertyStore& inner, StoreFaults& faults)
      : inner_(inner), faults_(faults) {}

  Result<std::vector<DeadProperty>> GetAll(const ResourcePath& path) override;
  Result<std::string> Get(const ResourcePath& path, const PropertyName& name) override;
  Status ForEachInMembers(
      const ResourcePath& dir,
      const std::function<void(std::string_view member_path, const DeadProperty&)>& visit) override;
  Status Apply(const ResourcePath& path, const std::vector<PropertyChange>& changes) override;
  Result<bool> ApplyUnlessLocked(const ResourcePath& path,
                                 const std::vector<PropertyChange>& changes, int64_t now) override;
  Status CopyTree(const ResourcePath& from, const ResourcePath& to) override;
  Status MoveTree(const ResourcePath& from, const ResourcePath& to) override;
  Status DeleteTree(const ResourcePath& path) override;
  Result<bool> AnyUnder(const ResourcePath& path) override;
  Result<std::vector<std::string>> PathsUnder(const ResourcePath& path) override;

 private:
  PropertyStore& inner_;
  StoreFaults& faults_;
};

class FaultInjectingLockStore : public LockStore {
 public:
  FaultInjectingLockStore(LockStore& inner, StoreFaults& faults) : inner_(inner), faults_(faults) {}

  Status Insert(const LockRecord& lock) override;
  Result<bool> InsertIfAllowed(const LockRecord& lock, int64_t now,
                               const std::function<bool(const LockNeighbourhood&)>& allow) override;
  Result<LockRecord> Find(const std::string& token, int64_t now) override;
  Result<std::vector<LockRecord>> FindCovering(const ResourcePath& path, int64_t now) override;
  Result<std::vector<LockRecord>> FindAtOrBelow(const ResourcePath& path, int64_t now) override;
  Result<std::vector<LockRecord>> All(int64_t now) override;
  Result<int64_t> Count(int64_t now) override;
  Result<int64_t> CountAt(const ResourcePath& path, int64_t now) override;
  Status SetExpiry(const std::string& token, int64_t timeout_s, int64_t expires_at,
                   int64_t now) override;
  Status Delete(const std::string& token) override;
  using LockStore::DeleteTree;
  Result<int64_t> DeleteTree(const ResourcePath& path, bool keep_root) override;
  Result<int64_t> PurgeExpired(int64_t now) override;

 private:
  LockStore& inner_;
  StoreFaults& faults_;
};

class FaultInjectingOperationJournal : public OperationJournal {
 public:
  FaultInjectingOperationJournal(OperationJournal& inner, StoreFaults& faults)
      : inner_(inner), faults_(faults) {}

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
  OperationJournal& inner_;
  StoreFaults& faults_;
};

}  // namespace keepdav::storage
