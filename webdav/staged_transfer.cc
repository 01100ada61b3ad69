#include "webdav/staged_transfer.h"

#include <Poco/Logger.h>

#include <cstdio>

#include "storage/random_hex.h"

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
                entry.destination.str(), staging.str(), s.message());
    return;
  }
  s = journal_.Finish(entry);
  if (!s.ok()) Log().error("rolling back %s: %s", entry.destination.str(), s.message());
}

Status StagedTransfer::Run(bool move, const ResourcePath& from, const FileInfo& from_info,
                           const ResourcePath& to, bool* to_existed, bool overwrite, Depth depth,
                           ResourcePath* failed_member,
                           std::vector<MemberFailure>* source_leftovers) {
  const std::string hex = storage::RandomHex();
  const ResourcePath parent = to.Parent();
  const ResourcePath staging =
      parent.InternalChild(std::string(ResourcePath::kReservedPrefix) + "stage-" + hex);
  const ResourcePath trash =
      parent.InternalChild(std::string(ResourcePath::kReservedPrefix) + "trash-" + hex);
  JournalEntry entry;
  entry.kind = move ? JournalEntry::Kind::kMove : JournalEntry::Kind::kCopy;
  entry.source = from;
  entry.destination = to;
  entry.staging = staging;
  entry.trash = trash;
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
  // 3. The swap: the only moment the destination changes. The destination may have appeared or
  // gone since the request was planned (a PUT, DELETE or MOVE beside this one): the swap follows
  // what is there now, a few times if it keeps changing.
  bool replaced = *to_existed;
  bool used_trash = false;
  for (int attempt = 0;; ++attempt) {
    const bool retry = attempt < 3;
    if (!replaced) {
      s = fs_.Rename(staging, to, /*replace=*/false);
      if (s.code() == StatusCode::kAlreadyExists && overwrite && retry) {
        replaced = true;
        continue;
      }
    } else {
      s = fs_.Exchange(staging, to);
      if (s.code() == StatusCode::kInvalidArgument) {
        s = fs_.Rename(to, trash, /*replace=*/false);
        if (s.ok()) {
          used_trash = true;
          s = fs_.Rename(staging, to, /*replace=*/false);
          if (!s.ok()) {
            fs_.Rename(trash, to, /*replace=*/false);
            used_trash = false;
          }
        }
      }
      if (s.code() == StatusCode::kNotFound && retry) {
        replaced = false;
        continue;
      }
    }
    break;
  }
  if (!s.ok()) {
    RollBack(entry, staging);
    return s;
  }
  *to_existed = replaced;
  // 4. The properties follow. If this fails, the journal row stays and start-up recovery rolls
  // the properties forward (the destination's inode shows that the swap happened).
  s = journal_.CommitSwap(&entry);
  if (!s.ok()) {
    // The files are in place but their properties are not: swap back, so that the destination
    // the server goes on serving is the old one whole, and the answer (an error) is true.
    Status undo;
    if (!replaced) {
      undo = fs_.Rename(to, staging, /*replace=*/false);
    } else if (!used_trash) {
      undo = fs_.Exchange(staging, to);
    } else {
      undo = fs_.Rename(to, staging, /*replace=*/false);
      if (undo.ok()) undo = fs_.Rename(trash, to, /*replace=*/false);
    }
    if (undo.ok()) {
      RollBack(entry, staging);
      return s;
    }
    Log().error(
        "%s %s: files swapped but properties not committed (%s), and the swap cannot be "
        "undone (%s); start-up recovery will finish it",
        std::string(move ? "MOVE" : "COPY"), to.str(), s.message(), undo.message());
    return s;
  }
  // 5. Clean up: the old destination, and for a move the source. What cannot be removed now
  // stays journaled (kSwapped), so start-up recovery removes it: a reserved name is never
  // served, but it must not stay on the disk for ever.
  bool cleaned = true;
  if (replaced) {
    Status c = RemoveIfExists(fs_, used_trash ? trash : staging, max_depth_, &progress_, nullptr);
    if (!c.ok()) {
      Log().warning("cannot remove the replaced %s: %s (left to start-up recovery)", to.str(),
                    c.message());
      cleaned = false;
    }
  }
  if (move) RemoveIfExists(fs_, from, max_depth_, &progress_, source_leftovers);
  if (!cleaned) return Status::Ok();
  s = journal_.Finish(entry);
  if (!s.ok()) Log().warning("journal clean-up for %s: %s", to.str(), s.message());
  return Status::Ok();
}

Status StagedTransfer::Recover(storage::FileSystem& fs, storage::OperationJournal& journal,
                               std::vector<JournalEntry>& pending, int max_depth) {
  for (JournalEntry& e : pending) {
    // DELETE's entries need the property store: RecoverAtStartUp (start_up_recovery.h).
    if (e.kind == JournalEntry::Kind::kDelete) continue;
    const bool staged = e.kind != JournalEntry::Kind::kRename;
    if (e.unreadable || (staged && (!e.staging || !e.trash))) {
      Log().error("journal entry %Ld is unreadable; dropping it", static_cast<Poco::Int64>(e.id));
      journal.Finish(e);
      continue;
    }
    if (e.kind == JournalEntry::Kind::kRename) {
      // A same-device MOVE: its properties moved first; keep them only if the rename happened.
      auto dest = fs.Stat(e.destination);
      bool renamed = dest.ok() && dest->inode == e.staged_inode && dest->device == e.staged_device;
      Log().information("recovery: %s the interrupted MOVE %s to %s",
                        std::string(renamed ? "finishing" : "undoing"), e.source.str(),
                        e.destination.str());
      Status s = renamed ? journal.Finish(e) : journal.UndoRename(e);
      if (!s.ok()) return s;
      continue;
    }
    if (e.kind == JournalEntry::Kind::kReplace) {
      // A same-device MOVE onto an existing resource (OperationJournal::BeginReplace).
      auto dest = fs.Stat(e.destination);
      const bool moved = e.state == JournalEntry::State::kReady && dest.ok() &&
                         dest->inode == e.staged_inode && dest->device == e.staged_device;
      Log().information("recovery: %s the interrupted MOVE %s onto %s",
                        std::string(moved ? "finishing" : "undoing"), e.source.str(),
                        e.destination.str());
      Status s;
      if (moved) {
        s = RemoveIfExists(fs, *e.trash, max_depth, nullptr, nullptr);
        if (s.ok()) s = journal.Finish(e);
      } else {
        if (!dest.ok() && dest.status().IsNotFound() && fs.Stat(*e.trash).ok()) {
          s = fs.Rename(*e.trash, e.destination, /*replace=*/false);
        }
        if (s.ok()) {
          s = e.state == JournalEntry::State::kReady ? journal.UndoReplace(e) : journal.Finish(e);
        }
      }
      if (!s.ok()) return s;
      continue;
    }
    const ResourcePath& source = e.source;
    const ResourcePath& to = e.destination;
    const ResourcePath& staging = *e.staging;
    const ResourcePath& trash = *e.trash;
    const char* what = e.kind == JournalEntry::Kind::kMove ? "MOVE" : "COPY";
    if (e.state == JournalEntry::State::kReady) {
      auto dest = fs.Stat(to);
      bool swapped = dest.ok() && dest->inode == e.staged_inode && dest->device == e.staged_device;
      if (swapped) {
        Status s = journal.CommitSwap(&e);
        if (!s.ok()) return s;
      } else if (!dest.ok() && dest.status().IsNotFound() && fs.Stat(trash).ok()) {
        // Killed between the two renames of the fallback swap: put the old destination back.
        Status s = fs.Rename(trash, to, /*replace=*/false);
        if (!s.ok()) return s;
      }
    }
    if (e.state == JournalEntry::State::kSwapped) {
      Log().information("recovery: finishing the interrupted %s to %s", std::string(what),
                        e.destination.str());
      RemoveIfExists(fs, staging, max_depth, nullptr, nullptr);
      RemoveIfExists(fs, trash, max_depth, nullptr, nullptr);
      if (e.kind == JournalEntry::Kind::kMove) {
        RemoveIfExists(fs, source, max_depth, nullptr, nullptr);
      }
    } else {
      Log().information("recovery: undoing the interrupted %s to %s", std::string(what),
                        e.destination.str());
      Status s = RemoveIfExists(fs, staging, max_depth, nullptr, nullptr);
      if (!s.ok()) return s;
    }
    Status s = journal.Finish(e);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace keepdav::webdav
