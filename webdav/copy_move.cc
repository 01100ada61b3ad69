// COPY and MOVE (RFC 4918 §9.8, §9.9).
#include "webdav/dav_handler.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

using storage::FileInfo;
using storage::ResourcePath;
using storage::Status;
using storage::StatusCode;

DavError DavHandler::HandleCopy(const DavRequest& req, ResponseSink& sink) {
  return CopyOrMove(req, sink, /*move=*/false);
}

DavError DavHandler::HandleMove(const DavRequest& req, ResponseSink& sink) {
  return CopyOrMove(req, sink, /*move=*/true);
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
  if (existed) {
    // §9.8.4: with Overwrite T the destination is deleted first (as by DELETE Depth infinity).
    Status s = DeleteResource(req, to, dst.value(), &failures);
    if (!s.ok()) {
      if (failures.empty()) return DavError::FromStorage(s);
      WriteFailures(sink, failures);
      return DavError::Ok();
    }
  } else {
    // Clear properties a crash may have left behind at the destination.
    Status s = props_.DeleteTree(to);
    if (!s.ok()) return DavError::FromStorage(s);
  }

  if (move) {
    Status s = fs_.Rename(from, to, /*replace=*/false);
    if (s.ok()) {
      s = props_.MoveTree(from, to);
      req.progress->AddDone();
      if (!s.ok()) return DavError::FromStorage(s);
    } else if (s.code() != StatusCode::kCrossDevice) {
      return DavError::FromStorage(s);
    } else {
      // Another file system below the root: copy, then delete the source.
      TreeWalker walker(fs_, *req.progress, settings_.max_tree_depth);
      s = walker.CopyTree(from, src.value(), to, TreeWalker::kInfinity, &failures);
      if (!s.ok()) return DavError::FromStorage(s);
      if (failures.empty()) {
        props_.CopyTree(from, to);
        s = DeleteResource(req, from, src.value(), &failures);
      }
      if (!failures.empty()) {
        WriteFailures(sink, failures);
        return DavError::Ok();
      }
    }
  } else {
    TreeWalker walker(fs_, *req.progress, settings_.max_tree_depth);
    Status s = walker.CopyTree(from, src.value(), to, depth, &failures);
    if (!s.ok()) return DavError::FromStorage(s);
    if (depth == 0) {
      // Only the collection itself: its own properties, not its members'.
      auto props = props_.GetAll(from);
      if (props.ok() && !props->empty()) {
        std::vector<storage::PropertyChange> changes;
        for (auto& p : props.value()) changes.push_back({p.name, false, p.value});
        s = props_.Apply(to, changes);
      }
    } else {
      s = props_.CopyTree(from, to);
    }
    if (!s.ok()) return DavError::FromStorage(s);
    if (!failures.empty()) {
      WriteFailures(sink, failures);
      return DavError::Ok();
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
