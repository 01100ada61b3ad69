#include "webdav/start_up_recovery.h"

#include <Poco/Logger.h>

#include "webdav/partial_update.h"
#include "webdav/staged_transfer.h"

namespace keepdav::webdav {

using storage::Status;

namespace {

// The DELETE part of step 1.
Status FinishDeletes(storage::FileSystem& fs, storage::PropertyStore& properties,
                     storage::OperationJournal& journal,
                     const std::vector<storage::JournalEntry>& pending) {
  for (const storage::JournalEntry& e : pending) {
    if (e.kind != storage::JournalEntry::Kind::kDelete) continue;
    if (!e.unreadable) {
      Poco::Logger::get("keepdav.dav")
          .information(
              "recovery: dropping the properties of what the interrupted DELETE of %s "
              "removed",
              e.destination.str());
      auto paths = properties.PathsUnder(e.destination);
      if (!paths.ok()) return paths.status();
      for (const std::string& p : paths.value()) {
        auto rp = storage::ResourcePath::Parse(p);
        if (!rp.ok()) continue;  // a reserved path: not this DELETE's
        auto info = fs.Stat(rp.value());
        if (info.ok()) continue;
        if (!info.status().IsNotFound() &&
            info.status().code() != storage::StatusCode::kNotADirectory) {
          return info.status();
        }
        Status s = properties.DeleteTree(rp.value());
        if (!s.ok()) return s;
      }
    }
    Status s = journal.Finish(e);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Step 3 of RecoverAtStartUp.
Status DropLocksOfMissingResources(storage::FileSystem& fs, storage::LockStore& locks,
                                   int64_t now) {
  auto all = locks.All(now);
  if (!all.ok()) return all.status();
  for (const storage::LockRecord& l : all.value()) {
    auto info = fs.Stat(l.root);
    if (info.ok()) continue;
    if (!info.status().IsNotFound() &&
        info.status().code() != storage::StatusCode::kNotADirectory) {
      return info.status();
    }
    Poco::Logger::get("keepdav.dav")
        .information("recovery: dropping the lock on %s, which does not exist", l.root.str());
    Status s = locks.Delete(l.token);
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return Status::Ok();
}

Status RecoverJournal(storage::FileSystem& fs, storage::PropertyStore& properties,
                      storage::OperationJournal& journal, int max_depth, int64_t* recovered) {
  // One Pending() for both steps: a shared journal claims the entries it returns (a second call
  // would not return them again, see storage/postgres/pg_operation_journal.h).
  auto pending = journal.Pending();
  if (!pending.ok()) return pending.status();
  if (recovered != nullptr && !pending->empty()) {
    *recovered += static_cast<int64_t>(pending->size());
    Poco::Logger::get("keepdav.dav")
        .notice("recovering lapsed journal entries of other instances: %z", pending->size());
  }
  Status s = StagedTransfer::Recover(fs, journal, pending.value(), max_depth);
  if (!s.ok()) return s;
  s = FinishDeletes(fs, properties, journal, pending.value());
  if (!s.ok()) return s;
  return PartialUpdate::Recover(fs, journal, recovered);
}

}  // namespace

Status RecoverAtStartUp(storage::FileSystem& fs, storage::PropertyStore& properties,
                        storage::OperationJournal& journal, storage::LockStore& locks,
                        const storage::Clock& clock, int max_depth) {
  Status s = RecoverJournal(fs, properties, journal, max_depth, nullptr);
  if (!s.ok()) return s;
  return DropLocksOfMissingResources(fs, locks, clock.Now());
}

Status RecoverLapsed(storage::FileSystem& fs, storage::PropertyStore& properties,
                     storage::OperationJournal& journal, int max_depth) {
  int64_t recovered = 0;  // also what tells RecoverJournal the entries are a dead instance's
  return RecoverJournal(fs, properties, journal, max_depth, &recovered);
}

}  // namespace keepdav::webdav
