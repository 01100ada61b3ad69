#include "webdav/staged_transfer.h"

#include <Poco/Logger.h>
#include <Poco/RandomStream.h>

#include <cstdio>

namespace keepdav::webdav {

using storage::FileInfo;
using storage::JournalEntry;
using storage::ResourcePath;
using storage::Status;
using storage::StatusCode;

namespace {

Poco::Logger& Log() {
  return Poco::Logger::get("keepdav.dav");
}

std::string RandomHex() {
  unsigned char bytes[8];
  Poco::RandomInputStream().read(reinterpret_cast<char*>(bytes), sizeof bytes);
  char out[17];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 2 * i, 3, "%02x", bytes[i]);
  return std::string(out, 16);
}

}  // namespace

Status StagedTransfer::RemoveIfExists(storage::FileSystem& fs, const ResourcePath& p, int max_depth,
                                      Progress* count_into, std::vector<MemberFailure>* failures) {
  auto info = fs.Stat(p);
  if (!info.ok()) return info.status().IsNotFound() ? Status::Ok() : info.status();
  // Counts into the request's progress as it goes (so 102s keep showing it), but clean-up after
  // a swap must finish: cancellation is ignored.
  Progress own;
  TreeWalker walker(fs, count_into ? *count_into : own, max_depth);
  walker.set_ignore_cancel(true);
  std::vector<MemberFailure> local;
  return walker.DeleteTree(p, info.value(), failures ? failures : &local);
}

void StagedTransfer::RollBack(const JournalEntry& entry, const ResourcePath& staging) {
  Status s = RemoveIfExists(fs_, staging, max_depth_, nullptr, nullptr);
  if (!s.ok()) {
    Log().error("rolling back %s: cannot remove %s: %s (left to start-up recovery)",
                entry.destination, entry.staging, s.message());
    return;
  }
  s = journal_.Finish(entry);
  if (!s.ok()) Log().error("rolling back %s: %s", entry.destination, s.message());
}

Status StagedTransfer::Run(bool move, const ResourcePath& from, const FileInfo& from_info,
                           const ResourcePath& to, bool to_existed, Depth depth,
                           ResourcePath* failed_member,
                           std::vector<MemberFailure>* source_leftovers) {
  const std::string hex = RandomHex();
  const ResourcePath parent = to.Parent();
  const ResourcePath staging =
      parent.InternalChild(std::string(ResourcePath::kReservedPrefix) + "stage-" + hex);
  const ResourcePath trash =
      parent.InternalChild(std::string(ResourcePath::kReservedPrefix) + "trash-" + hex);
  JournalEntry entry;
  entry.kind = move ? JournalEntry::Kind::kMove : JournalEntry::Kind::kCopy;
  entry.source = from.str();
  entry.destination = to.str();
  entry.staging = staging.str();
  entry.trash = trash.str();
  Status s = journal_.Begin(&entry);
  if (!s.ok()) return s;

  // 1. Build the new tree where nobody can see it.
  TreeWalker walker(fs_, progress_, max_depth_);
  std::vector<MemberFailure> failures;
  s = walker.CopyTree(from, from_info, staging, depth, &failures);
  if (s.ok() && !failures.empty()) {
    s = failures.front().status;
    *failed_member = staging.Rebase(failures.front().path, to);
  }
  if (s.ok() && progress_.cancelled()) s = Status::IoError("cancelled: the client went away");
  auto staged = s.ok() ? fs_.Stat(staging) : storage::Result<FileInfo>(s);
  if (!staged.ok()) {
    RollBack(entry, staging);
    return staged.status();
  }
  // 2. Its properties, and the fact that it is complete, in one transaction.
  s = journal_.StageProperties(&entry, depth != Depth::kZero, staged->inode, staged->device);
  if (!s.ok()) {
    RollBack(entry, staging);
    return s;
  }
  // 3. The swap: the only moment the destination changes.
  bool used_trash = false;
  if (!to_existed) {
    s = fs_.Rename(staging, to, /*replace=*/false);
  } else {
    s = fs_.Exchange(staging, to);
    if (s.code() == StatusCode::kInvalidArgument) {
      used_trash = true;
      s = fs_.Rename(to, trash, /*replace=*/false);
      if (s.ok()) {
        s = fs_.Rename(staging, to, /*replace=*/false);
        if (!s.ok()) fs_.Rename(trash, to, /*replace=*/false);
      }
    }
  }
  if (!s.ok()) {
    RollBack(entry, staging);
    return s;
  }
  // 4. The properties follow. If this fails, the journal row stays and start-up recovery rolls
  // the properties forward (the destination's inode shows that the swap happened).
  s = journal_.CommitSwap(&entry);
  if (!s.ok()) {
    Log().error(
        "%s %s: files swapped but properties not committed (%s); start-up recovery "
        "will finish it",
        std::string(move ? "MOVE" : "COPY"), to.str(), s.message());
    return s;
  }
  // 5. Clean up: the old destination, and for a move the source.
  if (to_existed) {
    Status c = RemoveIfExists(fs_, used_trash ? trash : staging, max_depth_, &progress_, nullptr);
    if (!c.ok()) Log().warning("cannot remove the replaced %s: %s", to.str(), c.message());
  }
  if (move) RemoveIfExists(fs_, from, max_depth_, &progress_, source_leftovers);
  s = journal_.Finish(entry);
  if (!s.ok()) Log().warning("journal clean-up for %s: %s", to.str(), s.message());
  return Status::Ok();
}

Status StagedTransfer::Recover(storage::FileSystem& fs, storage::OperationJournal& journal,
                               int max_depth) {
  auto pending = journal.Pending();
  if (!pending.ok()) return pending.status();
  for (JournalEntry& e : pending.value()) {
    if (e.kind == JournalEntry::Kind::kRename) {
      // A same-device MOVE: its properties moved first; keep them only if the rename happened.
      auto to = storage::OperationJournal::PathFromText(e.destination);
      auto dest = to.ok() ? fs.Stat(to.value()) : storage::Result<FileInfo>(to.status());
      bool renamed = dest.ok() && dest->inode == e.staged_inode && dest->device == e.staged_device;
      Log().information("recovery: %s the interrupted MOVE %s to %s",
                        std::string(renamed ? "finishing" : "undoing"), e.source, e.destination);
      Status s = renamed ? journal.Finish(e) : journal.UndoRename(e);
      if (!s.ok()) return s;
      continue;
    }
    auto source = storage::OperationJournal::PathFromText(e.source);
    auto to = storage::OperationJournal::PathFromText(e.destination);
    auto staging = storage::OperationJournal::PathFromText(e.staging);
    auto trash = storage::OperationJournal::PathFromText(e.trash);
    if (!source.ok() || !to.ok() || !staging.ok() || !trash.ok()) {
      Log().error("journal entry %Ld is unreadable; dropping it", static_cast<Poco::Int64>(e.id));
      journal.Finish(e);
      continue;
    }
    const char* what = e.kind == JournalEntry::Kind::kMove ? "MOVE" : "COPY";
    if (e.state == JournalEntry::State::kReady) {
      auto dest = fs.Stat(to.value());
      bool swapped = dest.ok() && dest->inode == e.staged_inode && dest->device == e.staged_device;
      if (swapped) {
        Status s = journal.CommitSwap(&e);
        if (!s.ok()) return s;
      } else if (!dest.ok() && dest.status().IsNotFound() && fs.Stat(trash.value()).ok()) {
        // Killed between the two renames of the fallback swap: put the old destination back.
        Status s = fs.Rename(trash.value(), to.value(), /*replace=*/false);
        if (!s.ok()) return s;
      }
    }
    if (e.state == JournalEntry::State::kSwapped) {
      Log().information("recovery: finishing the interrupted %s to %s", std::string(what),
                        e.destination);
      RemoveIfExists(fs, staging.value(), max_depth, nullptr, nullptr);
      RemoveIfExists(fs, trash.value(), max_depth, nullptr, nullptr);
      if (e.kind == JournalEntry::Kind::kMove) {
        RemoveIfExists(fs, source.value(), max_depth, nullptr, nullptr);
      }
    } else {
      Log().information("recovery: undoing the interrupted %s to %s", std::string(what),
                        e.destination);
      Status s = RemoveIfExists(fs, staging.value(), max_depth, nullptr, nullptr);
      if (!s.ok()) return s;
    }
    Status s = journal.Finish(e);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace keepdav::webdav
