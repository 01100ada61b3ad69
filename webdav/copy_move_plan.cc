#include "webdav/copy_move_plan.h"

namespace keepdav::webdav {

std::vector<ChangedResource> CopyMovePlan::LockedChanges() const {
  std::vector<ChangedResource> changes = {
      {to, /*with_members=*/destination_existed(), /*adds_or_removes=*/true}};
  if (move) {
    changes.insert(changes.begin(), {from, /*with_members=*/true, /*adds_or_removes=*/true});
  }
  return changes;
}

bool CopyMovePlan::IsLongCopy() const {
  return source.IsDirectory() || source.size >= kLargeFile;
}

namespace {

// The checks that need nothing but the two paths and the source (§9.8.3, §9.9.2, §9.8.5).
DavError CheckShape(const DavRequest& req, CopyMovePlan* plan) {
  std::optional<Depth> depth = req.depth.Or(Depth::kInfinity);
  if (!depth || *depth == Depth::kOne || (plan->move && *depth != Depth::kInfinity)) {
    // §9.8.3: COPY takes 0 or infinity; §9.9.2: MOVE of a collection only infinity.
    return DavError::Make(400, "invalid Depth for " + req.method);
  }
  plan->depth = plan->source.IsDirectory() ? *depth : Depth::kInfinity;
  if (const std::string* h = req.Header("Overwrite")) {
    std::optional<bool> overwrite = ParseOverwrite(*h);
    if (!overwrite) return DavError::Make(400, "Overwrite must be T or F");
    plan->overwrite = *overwrite;
  }
  if (plan->from == plan->to) {
    return DavError::Make(403, "source and destination are the same resource");
  }
  if (plan->from.IsRoot() && plan->move) {
    return DavError::Make(403, "the root collection cannot be moved");
  }
  if (plan->source.IsDirectory() && plan->from.Contains(plan->to)) {
    return DavError::Make(403, "the destination lies inside the source");
  }
  if (plan->to.Contains(plan->from)) {
    // Overwriting an ancestor would destroy the source itself.
    return DavError::Make(403, "the destination contains the source");
  }
  return DavError::Ok();
}

}  // namespace

std::optional<bool> ParseOverwrite(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value == "T" || value == "t") return true;
  if (value == "F" || value == "f") return false;
  return std::nullopt;
}

DavError PlanCopyOrMove(const DavRequest& req, bool move, storage::FileSystem& fs,
                        CopyMovePlan* plan) {
  plan->move = move;
  plan->from = req.path;
  plan->to = *req.destination;
  auto src = fs.Stat(plan->from);
  if (!src.ok()) return DavError::FromStorage(src.status());
  plan->source = src.value();
  DavError err = CheckShape(req, plan);
  if (!err.ok()) return err;
  // §9.8.5 / §9.9.4: the destination's parent must exist as a collection.
  auto parent = fs.Stat(plan->to.Parent());
  if (!parent.ok() || !parent->IsDirectory()) {
    return DavError::Make(409, "the destination's parent collection does not exist");
  }
  auto dst = fs.Stat(plan->to);
  if (dst.ok()) {
    plan->destination = dst.value();
  } else if (!dst.status().IsNotFound()) {
    return DavError::FromStorage(dst.status());
  }
  return DavError::Ok();
}

}  // namespace keepdav::webdav
