// COPY and MOVE (RFC 4918 §9.8, §9.9).
#include "webdav/dav_handler.h"
#include "webdav/staged_transfer.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

using storage::FileInfo;
using storage::ResourcePath;
using storage::Status;
using storage::StatusCode;

namespace {

// A file at least this large takes long to copy byte by byte (Progress::BeginLong).
constexpr uint64_t kLargeFile = 16ull << 20;

}  // namespace

DavError DavHandler::HandleCopy(const DavRequest& req, ResponseSink& sink) {
  return CopyOrMove(req, sink, /*move=*/false);
}

DavError DavHandler::HandleMove(const DavRequest& req, ResponseSink& sink) {
  return CopyOrMove(req, sink, /*move=*/true);
}

DavError DavHandler::RunStaged(const DavRequest& req, ResponseSink& sink, bool move,
                               const ResourcePath& from, const FileInfo& from_info,
                               const ResourcePath& to, bool to_existed, int depth) {
  StagedTransfer transfer(fs_, journal_, *req.progress, settings_.max_tree_depth);
  ResourcePath failed_member = to;
  std::vector<MemberFailure> leftovers;
  Status s = transfer.Run(move, from, from_info, to, to_existed, depth, &failed_member, &leftovers);
  if (!s.ok()) {
    // Nothing changed at the destination: one status for the whole request, naming the member.
    DavError err = DavError::FromStorage(s);
    if (failed_member != to) err.message += " (at " + failed_member.str() + ")";
    return err;
  }
  if (!leftovers.empty()) {
    // The move happened, but parts of the source could not be removed.
    WriteFailures(sink, leftovers);
  }
  return DavError::Ok();
}

DavError DavHandler::CopyOrMove(const DavRequest& req, ResponseSink& sink, bool move) {
  ResourcePath from, to;
  DavError err = ParseTarget(req, &from);
  if (!err.ok()) return err;
  err = ParseDestination(req, &to);
  if (!err.ok()) return err;

  auto src = fs_.Stat(from);
  if (!src.ok()) return DavError::FromStorage(src.status());

  int depth = TreeWalker::kInfinity;
  if (!ParseDepth(req, TreeWalker::kInfinity, &depth) || depth == 1 ||
      (move && depth != TreeWalker::kInfinity)) {
    // §9.8.3: COPY takes 0 or infinity; §9.9.2: MOVE of a collection only infinity.
    return DavError::Make(400, "invalid Depth for " + req.method);
  }
  if (!src->IsDirectory()) depth = TreeWalker::kInfinity;
  bool overwrite = true;
  if (const std::string* h = req.Header("Overwrite")) {
    if (*h == "F" || *h == "f") {
      overwrite = false;
    } else if (*h != "T" && *h != "t") {
      return DavError::Make(400, "Overwrite must be T or F");
    }
  }
  if (from == to) return DavError::Make(403, "source and destination are the same resource");
  if (from.IsRoot() && move) return DavError::Make(403, "the root collection cannot be moved");
  if (src->IsDirectory() && from.Contains(to)) {
    return DavError::Make(403, "the destination lies inside the source");
  }
  if (to.Contains(from)) {
    // Overwriting an ancestor would destroy the source itself.
    return DavError::Make(403, "the destination contains the source");
  }

  // §9.8.5 / §9.9.4: the destination's parent must exist as a collection.
  auto parent = fs_.Stat(to.Parent());
  if (!parent.ok() || !parent->IsDirectory()) {
    return DavError::Make(409, "the destination's parent collection does not exist");
  }
  auto dst = fs_.Stat(to);
  bool existed = dst.ok();
  if (!existed && !dst.status().IsNotFound()) return DavError::FromStorage(dst.status());

  // RFC 4918 §7.4, §7.5: the destination (and whatever it replaces) and its parent need their
  // tokens; MOVE's source too, with every locked member, and the parent it leaves.
  std::vector<ChangedResource> changes = {{to, /*with_members=*/existed, /*adds_or_removes=*/true}};
  if (move) {
    changes.insert(changes.begin(), {from, /*with_members=*/true, /*adds_or_removes=*/true});
  }
  err = CheckConditions(req, from, &src.value(), changes);
  if (!err.ok()) return err;
  if (existed && !overwrite) {
    return DavError::Make(412, "the destination exists and Overwrite is F");
  }

  std::vector<MemberFailure> failures;
  if (!move) {
    // A tree, or a large file copied byte by byte, takes long.
    if (src->IsDirectory() || src->size >= kLargeFile) req.progress->BeginLong();
    // All or nothing (staged_transfer.h): the old destination stays whole until the swap.
    err = RunStaged(req, sink, /*move=*/false, from, src.value(), to, existed, depth);
    if (!err.ok() || sink.sent()) return err;
  } else {
    if (existed) {
      // §9.9.3: with Overwrite T the destination is deleted first (as by DELETE Depth infinity).
      req.progress->BeginLong();
      Status s = DeleteResource(req, to, dst.value(), &failures);
      if (!s.ok()) {
        if (failures.empty()) return DavError::FromStorage(s);
        ForgetRemovedLocks(to, /*all_removed=*/false);
        WriteFailures(sink, failures);
        return DavError::Ok();
      }
    }
    // Same device: one journaled property transaction and one rename, in constant time. A tree
    // without dead properties needs no journal: the rename alone is atomic.
    auto has_props = props_.AnyUnder(from);
    if (!has_props.ok()) return DavError::FromStorage(has_props.status());
    storage::JournalEntry entry;
    entry.source = from.str();
    entry.destination = to.str();
    Status s;
    if (has_props.value()) {
      s = journal_.BeginRename(&entry, src->inode, src->device);
    } else {
      // Properties a crash may have left at the destination must not attach to the moved tree.
      s = props_.DeleteTree(to);
    }
    if (!s.ok()) return DavError::FromStorage(s);
    s = fs_.Rename(from, to, /*replace=*/false);
    req.progress->AddDone();
    if (s.ok()) {
      if (has_props.value()) journal_.Finish(entry);
    } else {
      if (has_props.value()) {
        Status undo = journal_.UndoRename(entry);
        if (!undo.ok()) return DavError::FromStorage(undo);
      }
      if (s.code() != StatusCode::kCrossDevice) return DavError::FromStorage(s);
      // Another file system below the root: a staged copy, then the source goes.
      req.progress->BeginLong();
      err = RunStaged(req, sink, /*move=*/true, from, src.value(), to, /*to_existed=*/false,
                      TreeWalker::kInfinity);
      // A 207 means the move happened but parts of the source stayed: those keep their locks.
      if (sink.sent()) ForgetRemovedLocks(from, /*all_removed=*/false);
      if (!err.ok() || sink.sent()) return err;
    }
  }
  // §7.5: MOVE does not move locks and COPY does not copy them. An overwritten destination's own
  // locks stay and now cover the new resource; locks inside what it replaced are gone.
  if (move) ForgetRemovedLocks(from, /*all_removed=*/true);
  if (existed) locks_.RemoveTree(to, /*keep_root=*/true);
  sink.SetStatus(existed ? 204 : 201);
  sink.SendEmpty();
  return DavError::Ok();
}

}  // namespace keepdav::webdav
