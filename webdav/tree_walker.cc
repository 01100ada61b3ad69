#include "webdav/tree_walker.h"

#include <utility>

namespace keepdav::webdav {

using storage::FileInfo;
using storage::ResourcePath;
using storage::Status;

namespace {

Status CancelledStatus() {
  return Status::IoError("operation cancelled: the client went away");
}

Status TooDeep(const ResourcePath& p) {
  return Status::TooLarge("tree deeper than the configured limit at " + p.str());
}

}  // namespace

Status TreeWalker::Walk(const ResourcePath& root, const FileInfo& info, int depth,
                        const Visitor& visit) {
  Status s = visit(root, info);
  progress_.AddDone();
  if (!s.ok() || depth == 0 || !info.IsDirectory()) return s;
  return WalkMembers(root, depth, 1, visit);
}

Status TreeWalker::WalkMembers(const ResourcePath& dir, int depth, int level,
                               const Visitor& visit) {
  if (level > max_depth_) return TooDeep(dir);
  std::vector<std::string> subdirs;
  Status inner;
  Status s = fs_.List(dir, [&](std::string_view name, const FileInfo& info) {
    if (Cancelled()) {
      inner = CancelledStatus();
      return false;
    }
    ResourcePath child = dir.Child(name);
    inner = visit(child, info);
    progress_.AddDone();
    if (!inner.ok()) return false;
    if (depth == kInfinity && info.IsDirectory()) subdirs.emplace_back(name);
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

Status TreeWalker::CopyTree(const ResourcePath& from, const FileInfo& info, const ResourcePath& to,
                            int depth, std::vector<MemberFailure>* failures) {
  if (!info.IsDirectory()) {
    Status s = fresh_destination_ ? fs_.CopyFileNew(from, to) : fs_.CopyFile(from, to);
    progress_.AddDone();
    return s;
  }
  Status s = fs_.MakeDirectory(to);
  progress_.AddDone();
  if (!s.ok()) return s;
  if (depth != 0) CopyMembers(from, to, 1, failures);
  return Status::Ok();
}

void TreeWalker::CopyMembers(const ResourcePath& from, const ResourcePath& to, int level,
                             std::vector<MemberFailure>* failures) {
  if (level > max_depth_) {
    failures->push_back({to, true, TooDeep(from)});
    return;
  }
  std::vector<std::string> subdirs;
  Status s = fs_.List(from, [&](std::string_view name, const FileInfo& info) {
    if (Cancelled()) return false;
    ResourcePath src = from.Child(name);
    ResourcePath dst = to.Child(name);
    if (info.IsDirectory()) {
      Status m = fs_.MakeDirectory(dst);
      if (m.ok()) {
        subdirs.emplace_back(name);
      } else {
        failures->push_back({dst, true, m});
      }
    } else if (info.IsFile()) {
      Status c = fresh_destination_ ? fs_.CopyFileNew(src, dst) : fs_.CopyFile(src, dst);
      if (!c.ok()) failures->push_back({dst, false, c});
    }
    progress_.AddDone();
    return true;
  });
  if (!s.ok()) failures->push_back({to, true, s});
  if (Cancelled()) {
    failures->push_back({to, true, CancelledStatus()});
    return;
  }
  for (const std::string& name : subdirs) {
    CopyMembers(from.Child(name), to.Child(name), level + 1, failures);
  }
}

Status TreeWalker::DeleteTree(const ResourcePath& path, const FileInfo& info,
                              std::vector<MemberFailure>* failures) {
  size_t before = failures->size();
  if (info.IsDirectory() && !DeleteMembers(path, 1, failures)) {
    return failures->size() > before ? (*failures)[before].status : CancelledStatus();
  }
  Status s = fs_.Remove(path);
  progress_.AddDone();
  if (!s.ok()) failures->push_back({path, info.IsDirectory(), s});
  return s;
}

// Returns true when every member was removed.
bool TreeWalker::DeleteMembers(const ResourcePath& dir, int level,
                               std::vector<MemberFailure>* failures) {
  if (level > max_depth_) {
    failures->push_back({dir, true, TooDeep(dir)});
    return false;
  }
  // Names are collected before removing: unlinking while readdir() iterates the same directory is
  // not specified by POSIX. Only this directory's names are held at a time.
  // Reserved leftovers (an interrupted upload's temporary file) go too, or the directory could
  // never be removed.
  std::vector<std::pair<std::string, bool>> members;
  Status s = fs_.ListForRemoval(dir, [&](std::string_view name, const FileInfo& info) {
    members.emplace_back(std::string(name), info.IsDirectory());
    return true;
  });
  if (!s.ok()) {
    failures->push_back({dir, true, s});
    return false;
  }
  bool all = true;
  for (const auto& [name, is_dir] : members) {
    if (Cancelled()) return false;
    ResourcePath child =
        ResourcePath::IsReservedName(name) ? dir.InternalChild(name) : dir.Child(name);
    if (is_dir && !DeleteMembers(child, level + 1, failures)) {
      all = false;
      continue;
    }
    Status r = fs_.Remove(child);
    progress_.AddDone();
    if (!r.ok()) {
      failures->push_back({child, is_dir, r});
      all = false;
    }
  }
  return all;
}

}  // namespace keepdav::webdav
