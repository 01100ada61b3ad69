#include "webdav/tree_walker.h"

#include <mutex>
#include <utility>

#include "storage/member_walk.h"

namespace keepdav::webdav {

using storage::FileInfo;
using storage::ResourcePath;
using storage::Status;

Status TreeWalker::Walk(const ResourcePath& root, const FileInfo& info, Depth depth,
                        const Visitor& visit) {
  Status s = visit(root, info);
  progress_.AddDone();
  if (!s.ok() || depth == Depth::kZero || !info.IsDirectory()) return s;
  return WalkMembers(root, depth, 1, visit);
}

Status TreeWalker::WalkMembers(const ResourcePath& dir, Depth depth, int level,
                               const Visitor& visit) {
  if (level > max_tree_depth_) return storage::MemberWalk::TooDeep(dir);
  std::vector<std::string> subdirs;
  Status inner;
  Status s = fs_.List(dir, [&](std::string_view name, const FileInfo& info) {
    if (Cancelled()) {
      inner = storage::MemberWalk::CancelledStatus();
      return false;
    }
    ResourcePath child = dir.Child(name);
    if (hidden_ && hidden_(child)) return true;
    inner = visit(child, info);
    progress_.AddDone();
    if (!inner.ok()) return false;
    if (depth == Depth::kInfinity && info.IsDirectory()) subdirs.emplace_back(name);
    return true;
  });
  if (!inner.ok()) return inner;
  if (!s.ok()) return s;
  for (const std::string& name : subdirs) {
    s = WalkMembers(dir.Child(name), depth, level + 1, visit);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Progress and failures for one tree operation. FileSystem implementations may report from helper
// threads: Progress is atomic, the failure list is guarded.
class TreeWalker::Observer : public storage::TreeObserver {
 public:
  Observer(const TreeWalker& walker, std::vector<MemberFailure>* failures)
      : walker_(walker), failures_(failures) {}
  bool Cancelled() override { return walker_.Cancelled(); }
  void ResourceDone() override { walker_.progress_.AddDone(); }
  void MemberFailed(const ResourcePath& path, bool is_directory, const Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    failures_->push_back({path, is_directory, status});
  }

 private:
  const TreeWalker& walker_;
  std::mutex mu_;
  std::vector<MemberFailure>* failures_;
};

Status TreeWalker::CopyTree(const ResourcePath& from, const FileInfo& info, const ResourcePath& to,
                            Depth depth, std::vector<MemberFailure>* failures) {
  if (!info.IsDirectory()) {
    Status s = fs_.CopyFileNew(from, to);
    progress_.AddDone();
    return s;
  }
  Observer observer(*this, failures);
  return fs_.CopyTree(from, to, /*with_members=*/depth != Depth::kZero, max_tree_depth_, observer);
}

Status TreeWalker::DeleteTree(const ResourcePath& path, const FileInfo& info,
                              std::vector<MemberFailure>* failures) {
  if (!info.IsDirectory()) {
    Status s = fs_.Remove(path);
    progress_.AddDone();
    if (!s.ok()) failures->push_back({path, false, s});
    return s;
  }
  Observer observer(*this, failures);
  return fs_.RemoveTree(path, max_tree_depth_, observer);
}

}  // namespace keepdav::webdav
