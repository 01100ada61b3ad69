// COPY and MOVE (RFC 4918 §9.8, §9.9): the checks are planned first (copy_move_plan.h), then a
// COPY is staged (staged_transfer.h) and a MOVE is a journaled rename, or a staged copy when the
// destination lies on another device.
#include <Poco/Logger.h>

#include <mutex>
#include <shared_mutex>

#include "storage/random_hex.h"
#include "webdav/collection_url.h"
#include "webdav/copy_move_plan.h"
#include "webdav/dav_handler.h"
#include "webdav/error_response.h"
#include "webdav/staged_transfer.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

using storage::FileInfo;
using storage::ResourcePath;
using storage::Status;
using storage::StatusCode;

namespace {

Poco::Logger& Log() {
  return Poco::Logger::get("keepdav.dav");
}

// kCrossDevice when the destination's directory is on another device than the source, known
// from the stats before anything changes (a rename would answer EXDEV; where it does anyway, as
// across two bind mounts of one file system, the callers fall back on that answer).
Status CheckSameDevice(storage::FileSystem& fs, const CopyMovePlan& plan) {
  auto parent = fs.Stat(plan.to.Parent());
  if (parent.ok() && parent->device != plan.source.device) {
    return Status::WithCode(StatusCode::kCrossDevice,
                            plan.from.str() + " and " + plan.to.str() + " are on two devices");
  }
  return Status::Ok();
}

// §10.6: the answer to a COPY or MOVE whose destination exists (or appeared while it ran) under
// Overwrite: F.
DavError DestinationExists() {
  return DavError::Make(412, "the destination exists and Overwrite is F");
}

// Removes the replaced tree a same-device MOVE renamed aside (whatever the client does: the
// move is done, or the trash belongs to nothing any more).
Status RemoveTrash(storage::FileSystem& fs, Progress& progress, int max_depth,
                   const ResourcePath& trash) {
  auto old = fs.Stat(trash);
  if (!old.ok()) return old.status();
  TreeWalker walker(fs, progress, max_depth);
  walker.set_ignore_cancel(true);
  std::vector<MemberFailure> failures;
  return walker.DeleteTree(trash, old.value(), &failures);
}

}  // namespace

DavResponse DavHandler::HandleCopy(const DavRequest& req) {
  return CopyOrMove(req, /*move=*/false);
}

DavResponse DavHandler::HandleMove(const DavRequest& req) {
  return CopyOrMove(req, /*move=*/true);
}

std::optional<DavResponse> DavHandler::RunStaged(const DavRequest& req, bool move,
                                                 const ResourcePath& from,
                                                 const FileInfo& from_info, const ResourcePath& to,
                                                 bool* to_existed, bool overwrite, Depth depth) {
  StagedTransfer transfer(fs_, journal_, *req.progress, settings_.max_tree_depth);
  ResourcePath failed_member = to;
  std::vector<MemberFailure> leftovers;
  Status s = transfer.Run(move, from, from_info, to, to_existed, overwrite, depth, &failed_member,
                          &leftovers);
  if (s.code() == StatusCode::kAlreadyExists && !overwrite && failed_member == to) {
    // Created by another request since this one was planned.
    return DavResponse(DestinationExists());
  }
  if (!s.ok()) {
    // Nothing changed at the destination: one status for the whole request. The member that
    // failed is named in the log.
    DavError err = DavError::FromStorage(s);
    if (failed_member != to) err = err.WithDetail("(at " + failed_member.str() + ")");
    return DavResponse(std::move(err));
  }
  // The move happened, but parts of the source could not be removed.
  if (!leftovers.empty()) return MemberFailuresResponse(std::move(leftovers), req.space);
  return std::nullopt;
}

Status DavHandler::RenameJournaled(const DavRequest& req, const CopyMovePlan& plan) {
  // Same device: one journaled property transaction and one rename, in constant time. A tree
  // without dead properties needs no journal: the rename alone is atomic.
  Status same = CheckSameDevice(fs_, plan);
  if (!same.ok()) return same;
  std::unique_lock<std::shared_mutex> namespace_lock(namespace_mutex_);  // see its declaration
  auto has_props = props_.AnyUnder(plan.from);
  if (!has_props.ok()) return has_props.status();
  storage::JournalEntry entry;
  entry.source = plan.from;
  entry.destination = plan.to;
  Status s;
  if (has_props.value()) {
    s = journal_.BeginRename(&entry, plan.source.inode, plan.source.device);
  } else {
    // Properties a crash may have left at the destination must not attach to the moved tree.
    s = props_.DeleteTree(plan.to);
  }
  if (!s.ok()) return s;
  s = fs_.Rename(plan.from, plan.to, /*replace=*/false);
  req.progress->AddDone();
  if (s.ok()) {
    if (has_props.value()) journal_.Finish(entry);
    return s;
  }
  if (has_props.value()) {
    Status undo = journal_.UndoRename(entry);
    if (!undo.ok()) return undo;
  }
  return s;
}

Status DavHandler::RenameReplacing(const DavRequest& req, const CopyMovePlan& plan) {
  // §9.9.3: with Overwrite T the destination is deleted first (as by DELETE Depth infinity). So
  // that a kill at any step leaves either the old destination or the moved source whole, the
  // old destination is renamed aside to a reserved name, the source renamed in, and only then
  // the old one removed, each step journaled (OperationJournal::BeginReplace; start-up
  // recovery rolls back or forward).
  Status s = CheckSameDevice(fs_, plan);
  if (!s.ok()) return s;
  std::unique_lock<std::shared_mutex> namespace_lock(namespace_mutex_);  // see its declaration
  // The plan is older than the lock: a MOVE or DELETE beside this one may have taken the source
  // meanwhile. Checked before the destination goes aside, so that such a MOVE fails (404)
  // without the destination ever missing (the load test saw GETs find it absent).
  auto source_now = fs_.Stat(plan.from);
  if (!source_now.ok()) return source_now.status();
  const ResourcePath trash = plan.to.Parent().InternalChild(
      std::string(ResourcePath::kReservedPrefix) + "trash-" + storage::RandomHex());
  storage::JournalEntry entry;
  entry.source = plan.from;
  entry.destination = plan.to;
  entry.trash = trash;
  s = journal_.BeginReplace(&entry, plan.source.inode, plan.source.device);
  if (!s.ok()) return s;
  s = fs_.Rename(plan.to, trash, /*replace=*/false);
  if (!s.ok()) {
    journal_.Finish(entry);  // nothing changed; if this fails, recovery finds nothing to undo
    return s;
  }
  s = journal_.StageReplace(&entry);
  if (s.ok()) {
    s = fs_.Rename(plan.from, plan.to, /*replace=*/false);
    if (s.code() == StatusCode::kAlreadyExists) {
      // Another request (a PUT) created the destination while the old one was aside. The MOVE
      // deletes the destination first (§9.9.3), so the newcomer came after that: it is replaced
      // too, by one atomic rename (a file or an empty folder; for others the rename fails and
      // the old destination cannot come back: start-up recovery sorts that out, logged below).
      // Recovery finds the destination with the source's identity either way.
      s = fs_.Rename(plan.from, plan.to, /*replace=*/true);
    }
    req.progress->AddDone();
    if (!s.ok()) {
      // kCrossDevice among others: put everything back; the caller may then stage the move.
      Status back = fs_.Rename(trash, plan.to, /*replace=*/false);
      if (back.code() == StatusCode::kAlreadyExists && s.code() == StatusCode::kNotFound) {
        // Requests beside this one took both places: a DELETE the source (it does not take the
        // namespace lock), a PUT the destination while the old one was aside. As §9.9.3 has it,
        // this MOVE deleted the destination and then found no source: the newcomer stays, the
        // old destination and every property involved go (none belongs to what exists now),
        // and the answer is 404.
        namespace_lock.unlock();
        Log().warning("MOVE %s onto %s: the source went and the destination came back meanwhile",
                      plan.from.str(), plan.to.str());
        RemoveTrash(fs_, *req.progress, settings_.max_tree_depth, trash);
        Status dropped = props_.DeleteTree(plan.to);
        if (dropped.ok()) dropped = props_.DeleteTree(plan.from);
        if (dropped.ok()) dropped = journal_.Finish(entry);
        if (!dropped.ok()) {
          Log().warning("MOVE onto %s: clean-up left to start-up recovery (%s)", plan.to.str(),
                        dropped.message());
        }
        return s;
      }
      if (back.ok()) back = journal_.UndoReplace(entry);
      if (!back.ok()) {
        Log().error(
            "MOVE %s onto %s failed (%s) and cannot be undone (%s); start-up recovery "
            "will finish it",
            plan.from.str(), plan.to.str(), s.message(), back.message());
        return back;  // not kCrossDevice: the destination is not in place for a staged move
      }
      return s;
    }
  } else {
    Status back = fs_.Rename(trash, plan.to, /*replace=*/false);
    if (back.ok()) back = journal_.Finish(entry);
    if (!back.ok()) {
      Log().error(
          "MOVE %s onto %s: cannot put the destination back (%s); start-up recovery "
          "will",
          plan.from.str(), plan.to.str(), back.message());
    }
    return s;
  }
  namespace_lock.unlock();
  // The move is done; the old destination goes (possibly a long walk), whatever the client does.
  Status removed = RemoveTrash(fs_, *req.progress, settings_.max_tree_depth, trash);
  if (removed.ok()) removed = journal_.Finish(entry);
  if (!removed.ok()) {
    Log().warning(
        "MOVE onto %s: the replaced resource is not removed yet (%s); start-up "
        "recovery will",
        plan.to.str(), removed.message());
  }
  return Status::Ok();
}

std::optional<DavResponse> DavHandler::RunMove(const DavRequest& req, const CopyMovePlan& plan,
                                               bool* replaced) {
  if (plan.destination_existed()) req.progress->BeginLong();
  // The destination may have appeared (a PUT beside this MOVE: the rename finds it) or gone
  // (the rename aside does not find it) since the plan: follow what is there, a few times.
  // Instances sharing the tree do not share the namespace lock, so there it can change between
  // two attempts more often: the 64-client test through two instances saw four attempts run
  // out (405) about once in 30,000 requests.
  Status s;
  for (int attempt = 0;; ++attempt) {
    s = *replaced ? RenameReplacing(req, plan) : RenameJournaled(req, plan);
    if (attempt >= 9) break;
    if (!*replaced && s.code() == StatusCode::kAlreadyExists && plan.overwrite) {
      *replaced = true;
    } else if (*replaced && s.code() == StatusCode::kNotFound && !fs_.Stat(plan.to).ok() &&
               fs_.Stat(plan.from).ok()) {
      *replaced = false;
    } else {
      break;
    }
  }
  if (s.ok()) return std::nullopt;
  if (s.code() == StatusCode::kAlreadyExists && !plan.overwrite) {
    return DavResponse(DestinationExists());
  }
  if (s.code() != StatusCode::kCrossDevice) return DavResponse(DavError::FromStorage(s));
  // Another file system below the root: a staged copy, then the source goes.
  req.progress->BeginLong();
  std::optional<DavResponse> answer = RunStaged(req, /*move=*/true, plan.from, plan.source, plan.to,
                                                replaced, plan.overwrite, Depth::kInfinity);
  // A 207 means the move happened but parts of the source stayed: those keep their locks.
  if (answer && !answer->is_error()) {
    ForgetRemovedLocks(plan.from, /*all_removed=*/false, plan.locks_seen);
  }
  return answer;
}

void DavHandler::CarryChecksums(const CopyMovePlan& plan, bool move,
                                const storage::Result<storage::FileChecksums>& carried) {
  // The sums are a cache: a failure here costs a recomputation, so it is logged, not answered.
  // A rename keeps the inodes below a moved collection, so their rows stay valid at the new
  // place; a copied tree's members get theirs computed when first asked.
  Status s = move ? checksums_.MoveTree(plan.from, plan.to) : checksums_.DeleteTree(plan.to);
  if (s.ok() && carried.ok()) s = checksums_.Remember(plan.to, carried.value());
  if (!s.ok()) {
    Poco::Logger::get("keepdav.dav")
        .warning("checksums of %s -> %s not carried: %s", plan.from.str(), plan.to.str(),
                 s.message());
  }
}

DavResponse DavHandler::CopyOrMove(const DavRequest& req, bool move) {
  CopyMovePlan plan;
  DavError err = PlanCopyOrMove(req, move, fs_, &plan);
  if (!err.ok()) return err;
  err = CheckConditions(req, plan.from, &plan.source, plan.LockedChanges(), &plan.locks_seen);
  if (!err.ok()) return err;
  if (plan.destination_existed() && !plan.overwrite) {
    return DestinationExists();
  }
  // Read before the source goes or changes; never computed here (only what is stored).
  storage::Result<storage::FileChecksums> carried =
      plan.source.IsFile() ? checksums_.Stored(plan.from, plan.source)
                           : storage::Result<storage::FileChecksums>(Status::NotFound("a tree"));
  std::optional<DavResponse> answer;
  bool replaced = plan.destination_existed();  // what the swap found (see RunStaged)
  if (!move) {
    if (plan.IsLongCopy()) req.progress->BeginLong();
    // All or nothing (staged_transfer.h): the old destination stays whole until the swap.
    answer = RunStaged(req, /*move=*/false, plan.from, plan.source, plan.to, &replaced,
                       plan.overwrite, plan.depth);
  } else {
    answer = RunMove(req, plan, &replaced);
  }
  if (answer) return std::move(*answer);  // an error, or a 207 naming members that failed
  CarryChecksums(plan, move, carried);
  // §7.5: MOVE does not move locks and COPY does not copy them. An overwritten destination's own
  // locks stay and now cover the new resource; locks inside what it replaced are gone.
  if (move) ForgetRemovedLocks(plan.from, /*all_removed=*/true, plan.locks_seen);
  if (replaced) locks_.RemoveTree(plan.to, /*keep_root=*/true);
  DavResponse done = DavResponse::Empty(replaced ? 204 : 201);
  AddCollectionLocation(req, plan.source.IsDirectory(), &done);
  return done;
}

}  // namespace keepdav::webdav
