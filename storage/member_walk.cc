#include "storage/member_walk.h"

#include <string>
#include <utility>
#include <vector>

namespace keepdav::storage {
namespace {

// Returns true when every member of `dir` was removed.
bool RemoveMembers(FileSystem& fs, const ResourcePath& dir, int level, int max_depth,
                   TreeObserver& observer) {
  if (level > max_depth) {
    observer.MemberFailed(dir, true, MemberWalk::TooDeep(dir));
    return false;
  }
  // Names are collected before removing: unlinking while readdir() iterates the same directory is
  // not specified by POSIX. Only this directory's names are held at a time.
  // Reserved leftovers (an interrupted upload's temporary file) go too, or the directory could
  // never be removed.
  std::vector<std::pair<std::string, bool>> members;
  Status s = fs.ListForRemoval(dir, [&](std::string_view name, const FileInfo& info) {
    members.emplace_back(std::string(name), info.IsDirectory());
    return true;
  });
  if (!s.ok()) {
    observer.MemberFailed(dir, true, s);
    return false;
  }
  bool all = true;
  for (const auto& [name, is_dir] : members) {
    if (observer.Cancelled()) return false;
    ResourcePath child =
        ResourcePath::IsReservedName(name) ? dir.InternalChild(name) : dir.Child(name);
    if (is_dir && !RemoveMembers(fs, child, level + 1, max_depth, observer)) {
      all = false;
      continue;
    }
    Status r = fs.Remove(child);
    observer.ResourceDone();
    if (!r.ok()) {
      observer.MemberFailed(child, is_dir, r);
      all = false;
    }
  }
  return all;
}

void CopyMembers(FileSystem& fs, const ResourcePath& from, const ResourcePath& to, int level,
                 int max_depth, TreeObserver& observer) {
  if (level > max_depth) {
    observer.MemberFailed(to, true, MemberWalk::TooDeep(from));
    return;
  }
  std::vector<std::string> subdirs;
  Status s = fs.List(from, [&](std::string_view name, const FileInfo& info) {
    if (observer.Cancelled()) return false;
    ResourcePath src = from.Child(name);
    ResourcePath dst = to.Child(name);
    if (info.IsDirectory()) {
      Status m = fs.MakeDirectory(dst);
      if (m.ok()) {
        subdirs.emplace_back(name);
      } else {
        observer.MemberFailed(dst, true, m);
      }
    } else if (info.IsFile()) {
      Status c = fs.CopyFileNew(src, dst);
      if (!c.ok()) observer.MemberFailed(dst, false, c);
    }
    observer.ResourceDone();
    return true;
  });
  if (!s.ok()) observer.MemberFailed(to, true, s);
  if (observer.Cancelled()) {
    observer.MemberFailed(to, true, MemberWalk::CancelledStatus());
    return;
  }
  for (const std::string& name : subdirs) {
    CopyMembers(fs, from.Child(name), to.Child(name), level + 1, max_depth, observer);
  }
}

}  // namespace

Status MemberWalk::TooDeep(const ResourcePath& dir) {
  return Status::TooLarge("tree deeper than the configured limit at " + dir.str());
}

Status MemberWalk::CancelledStatus() {
  return Status::IoError("operation cancelled");
}

void MemberWalk::FirstFailure::MemberFailed(const ResourcePath& path, bool is_directory,
                                            const Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_) {
      failed_ = true;
      first_ = status;
    }
  }
  inner_.MemberFailed(path, is_directory, status);
}

Status MemberWalk::FirstFailure::first_or(Status otherwise) {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_ ? first_ : std::move(otherwise);
}

Status MemberWalk::RemoveTree(FileSystem& fs, const ResourcePath& path, int max_depth,
                              TreeObserver& observer) {
  FirstFailure first(observer);
  if (path.IsRoot()) {
    Status s = Status::WithCode(StatusCode::kPermissionDenied,
                                "remove " + path.str() + ": the root stays");
    first.MemberFailed(path, true, s);
    return s;
  }
  Result<FileInfo> info = fs.Stat(path);
  if (!info.ok()) {
    first.MemberFailed(path, false, info.status());
    return info.status();
  }
  if (info->IsDirectory() && !RemoveMembers(fs, path, 1, max_depth, first)) {
    return first.first_or(CancelledStatus());
  }
  Status s = fs.Remove(path);
  first.ResourceDone();
  if (!s.ok()) first.MemberFailed(path, info->IsDirectory(), s);
  return s;
}

Status MemberWalk::CopyTree(FileSystem& fs, const ResourcePath& from, const ResourcePath& to,
                            bool with_members, int max_depth, TreeObserver& observer) {
  Result<FileInfo> info = fs.Stat(from);
  if (!info.ok()) return info.status();
  if (!info->IsDirectory()) {
    Status s = fs.CopyFileNew(from, to);
    observer.ResourceDone();
    return s;
  }
  Status s = fs.MakeDirectory(to);
  observer.ResourceDone();
  if (!s.ok()) return s;
  if (with_members) CopyMembers(fs, from, to, 1, max_depth, observer);
  return Status::Ok();
}

}  // namespace keepdav::storage
