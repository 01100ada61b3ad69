#include "storage/fault_injecting_stores.h"

#include <utility>

namespace keepdav::storage {

void StoreFaults::FailAtMutation(int n, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = n;
  fail_status_ = std::move(status);
  mutating_calls_ = 0;
}

void StoreFaults::CrashAtMutation(int n, std::function<void()> on_crash, bool after_call) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_at_ = n;
  crash_after_call_ = after_call;
  on_crash_ = std::move(on_crash);
  mutating_calls_ = 0;
  crashed_ = false;
}

void StoreFaults::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = 0;
  crash_at_ = 0;
  on_crash_ = nullptr;
  crashed_ = false;
}

Status StoreFaults::Check(const std::string& what) {
  if (crashed_) return Status::IoError("database crashed before " + what);
  return Status::Ok();
}

Status StoreFaults::Mutate(const std::string& what, const std::function<Status()>& call) {
  std::function<void()> on_crash;
  bool crash_after = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) return Status::IoError("database crashed before " + what);
    const int n = ++mutating_calls_;
    if (n == fail_at_) {
      return Status::WithCode(fail_status_.code(),
                              "injected fault: " + what + ": " + fail_status_.message());
    }
    if (n == crash_at_) {
      crashed_ = true;
      crash_after = crash_after_call_;
      on_crash = std::move(on_crash_);
      on_crash_ = nullptr;
    }
  }
  if (on_crash && !crash_after) on_crash();
  if (crashed_ && !crash_after) return Status::IoError("database crashed at " + what);
  Status s = call();
  if (!crash_after) return s;
  if (on_crash) on_crash();
  return Status::IoError("database crashed after " + what);
}

// PropertyStore.

Result<std::vector<DeadProperty>> FaultInjectingPropertyStore::GetAll(const ResourcePath& path) {
  Status s = faults_.Check("properties get all " + path.str());
  if (!s.ok()) return s;
  return inner_.GetAll(path);
}

Result<std::string> FaultInjectingPropertyStore::Get(const ResourcePath& path,
                                                     const PropertyName& name) {
  Status s = faults_.Check("properties get " + path.str());
  if (!s.ok()) return s;
  return inner_.Get(path, name);
}

Status FaultInjectingPropertyStore::ForEachInMembers(
    const ResourcePath& dir,
    const std::function<void(std::string_view member_path, const DeadProperty&)>& visit) {
  Status s = faults_.Check("properties of members of " + dir.str());
  if (!s.ok()) return s;
  return inner_.ForEachInMembers(dir, visit);
}

Status FaultInjectingPropertyStore::Apply(const ResourcePath& path,
                                          const std::vector<PropertyChange>& changes) {
  return faults_.Mutate("properties apply " + path.str(),
                        [&] { return inner_.Apply(path, changes); });
}

Result<bool> FaultInjectingPropertyStore::ApplyUnlessLocked(
    const ResourcePath& path, const std::vector<PropertyChange>& changes, int64_t now) {
  bool applied = false;
  Status s = faults_.Mutate("properties apply unless locked " + path.str(), [&]() -> Status {
    Result<bool> r = inner_.ApplyUnlessLocked(path, changes, now);
    if (!r.ok()) return r.status();
    applied = *r;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return applied;
}

Status FaultInjectingPropertyStore::CopyTree(const ResourcePath& from, const ResourcePath& to) {
  return faults_.Mutate("properties copy " + from.str() + " " + to.str(),
                        [&] { return inner_.CopyTree(from, to); });
}

Status FaultInjectingPropertyStore::MoveTree(const ResourcePath& from, const ResourcePath& to) {
  return faults_.Mutate("properties move " + from.str() + " " + to.str(),
                        [&] { return inner_.MoveTree(from, to); });
}

Status FaultInjectingPropertyStore::DeleteTree(const ResourcePath& path) {
  return faults_.Mutate("properties delete " + path.str(), [&] { return inner_.DeleteTree(path); });
}

Result<bool> FaultInjectingPropertyStore::AnyUnder(const ResourcePath& path) {
  Status s = faults_.Check("properties any under " + path.str());
  if (!s.ok()) return s;
  return inner_.AnyUnder(path);
}

Result<std::vector<std::string>> FaultInjectingPropertyStore::PathsUnder(const ResourcePath& path) {
  Status s = faults_.Check("properties paths under " + path.str());
  if (!s.ok()) return s;
  return inner_.PathsUnder(path);
}

// LockStore.

Status FaultInjectingLockStore::Insert(const LockRecord& lock) {
  return faults_.Mutate("lock insert " + lock.root.str(), [&] { return inner_.Insert(lock); });
}

Result<bool> FaultInjectingLockStore::InsertIfAllowed(
    const LockRecord& lock, int64_t now,
    const std::function<bool(const LockNeighbourhood&)>& allow) {
  bool inserted = false;
  Status s = faults_.Mutate("lock insert if allowed " + lock.root.str(), [&]() -> Status {
    Result<bool> r = inner_.InsertIfAllowed(lock, now, allow);
    if (!r.ok()) return r.status();
    inserted = *r;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return inserted;
}

Result<LockRecord> FaultInjectingLockStore::Find(const std::string& token, int64_t now) {
  Status s = faults_.Check("lock find");
  if (!s.ok()) return s;
  return inner_.Find(token, now);
}

Result<std::vector<LockRecord>> FaultInjectingLockStore::FindCovering(const ResourcePath& path,
                                                                      int64_t now) {
  Status s = faults_.Check("locks covering " + path.str());
  if (!s.ok()) return s;
  return inner_.FindCovering(path, now);
}

Result<std::vector<LockRecord>> FaultInjectingLockStore::FindAtOrBelow(const ResourcePath& path,
                                                                       int64_t now) {
  Status s = faults_.Check("locks at or below " + path.str());
  if (!s.ok()) return s;
  return inner_.FindAtOrBelow(path, now);
}

Result<std::vector<LockRecord>> FaultInjectingLockStore::All(int64_t now) {
  Status s = faults_.Check("all locks");
  if (!s.ok()) return s;
  return inner_.All(now);
}

Result<int64_t> FaultInjectingLockStore::Count(int64_t now) {
  Status s = faults_.Check("lock count");
  if (!s.ok()) return s;
  return inner_.Count(now);
}

Result<int64_t> FaultInjectingLockStore::CountAt(const ResourcePath& path, int64_t now) {
  Status s = faults_.Check("lock count at " + path.str());
  if (!s.ok()) return s;
  return inner_.CountAt(path, now);
}

Status FaultInjectingLockStore::SetExpiry(const std::string& token, int64_t timeout_s,
                                          int64_t expires_at, int64_t now) {
  return faults_.Mutate("lock refresh",
                        [&] { return inner_.SetExpiry(token, timeout_s, expires_at, now); });
}

Status FaultInjectingLockStore::Delete(const std::string& token) {
  return faults_.Mutate("lock delete", [&] { return inner_.Delete(token); });
}

Result<int64_t> FaultInjectingLockStore::DeleteTree(const ResourcePath& path, bool keep_root) {
  int64_t removed = 0;
  Status s = faults_.Mutate("locks delete " + path.str(), [&] {
    auto r = inner_.DeleteTree(path, keep_root);
    if (r.ok()) removed = r.value();
    return r.status();
  });
  if (!s.ok()) return s;
  return removed;
}

Result<int64_t> FaultInjectingLockStore::PurgeExpired(int64_t now) {
  int64_t purged = 0;
  Status s = faults_.Mutate("locks purge", [&] {
    auto r = inner_.PurgeExpired(now);
    if (r.ok()) purged = r.value();
    return r.status();
  });
  if (!s.ok()) return s;
  return purged;
}

// OperationJournal.

Status FaultInjectingOperationJournal::Begin(JournalEntry* entry) {
  return faults_.Mutate("journal begin " + entry->destination.str(),
                        [&] { return inner_.Begin(entry); });
}

Status FaultInjectingOperationJournal::StageProperties(JournalEntry* entry, bool whole_tree,
                                                       uint64_t inode, uint64_t device) {
  return faults_.Mutate("journal stage " + entry->destination.str(),
                        [&] { return inner_.StageProperties(entry, whole_tree, inode, device); });
}

Status FaultInjectingOperationJournal::CommitSwap(JournalEntry* entry) {
  return faults_.Mutate("journal commit swap " + entry->destination.str(),
                        [&] { return inner_.CommitSwap(entry); });
}

Status FaultInjectingOperationJournal::BeginRename(JournalEntry* entry, uint64_t inode,
                                                   uint64_t device) {
  return faults_.Mutate("journal begin rename " + entry->destination.str(),
                        [&] { return inner_.BeginRename(entry, inode, device); });
}

Status FaultInjectingOperationJournal::UndoRename(const JournalEntry& entry) {
  return faults_.Mutate("journal undo rename " + entry.destination.str(),
                        [&] { return inner_.UndoRename(entry); });
}

Status FaultInjectingOperationJournal::BeginReplace(JournalEntry* entry, uint64_t inode,
                                                    uint64_t device) {
  return faults_.Mutate("journal begin replace " + entry->destination.str(),
                        [&] { return inner_.BeginReplace(entry, inode, device); });
}

Status FaultInjectingOperationJournal::StageReplace(JournalEntry* entry) {
  return faults_.Mutate("journal stage replace " + entry->destination.str(),
                        [&] { return inner_.StageReplace(entry); });
}

Status FaultInjectingOperationJournal::UndoReplace(const JournalEntry& entry) {
  return faults_.Mutate("journal undo replace " + entry.destination.str(),
                        [&] { return inner_.UndoReplace(entry); });
}

Status FaultInjectingOperationJournal::BeginDelete(JournalEntry* entry) {
  return faults_.Mutate("journal begin delete " + entry->destination.str(),
                        [&] { return inner_.BeginDelete(entry); });
}

Status FaultInjectingOperationJournal::Finish(const JournalEntry& entry) {
  return faults_.Mutate("journal finish " + entry.destination.str(),
                        [&] { return inner_.Finish(entry); });
}

Result<std::vector<JournalEntry>> FaultInjectingOperationJournal::Pending() {
  Status s = faults_.Check("journal pending");
  if (!s.ok()) return s;
  return inner_.Pending();
}

Status FaultInjectingOperationJournal::BeginPartialWrite(PartialWriteRecord* record) {
  return faults_.Mutate("journal begin partial write " + record->path.str(),
                        [&] { return inner_.BeginPartialWrite(record); });
}

Status FaultInjectingOperationJournal::FinishPartialWrite(int64_t id) {
  return faults_.Mutate("journal finish partial write",
                        [&] { return inner_.FinishPartialWrite(id); });
}

Result<std::vector<PartialWriteRecord>> FaultInjectingOperationJournal::PendingPartialWrites() {
  Status s = faults_.Check("journal pending partial writes");
  if (!s.ok()) return s;
  return inner_.PendingPartialWrites();
}

}  // namespace keepdav::storage
