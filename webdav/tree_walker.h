// TreeWalker: the recursive part of PROPFIND, COPY and DELETE.
//
// Walks are bounded in depth (max_tree_depth; deeper members are reported as failures rather than
// recursed into), report every resource processed to Progress, stop at the next member when
// Progress is cancelled, and never hold more than one directory open: members are streamed, and
// only the names of subdirectories are kept until their turn comes.
//
// Failures of single members do not stop COPY or DELETE; they are collected for the 207.
// COPY and DELETE of a collection are one FileSystem::CopyTree / RemoveTree call (which the POSIX
// file system does with directory descriptors); this class turns their per-resource reports into
// Progress and MemberFailures.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "storage/file_system.h"
#include "webdav/dav_request.h"
#include "webdav/depth.h"

namespace keepdav::webdav {

struct MemberFailure {
  storage::ResourcePath path;
  bool is_directory = false;
  storage::Status status;
};

class TreeWalker {
 public:
  // `max_tree_depth`: the deepest level below a walk's root it recurses into
  // (DavSettings::max_tree_depth); not a Depth header value.
  TreeWalker(storage::FileSystem& fs, Progress& progress, int max_tree_depth)
      : fs_(fs), progress_(progress), max_tree_depth_(max_tree_depth) {}

  // Walks that must finish once started (clean-up after a swap) still count into Progress but
  // ignore its cancellation.
  void set_ignore_cancel(bool ignore) { ignore_cancel_ = ignore; }
  // Members for which `hidden` returns true are neither visited nor entered by Walk (a PROPFIND
  // of a user who may not read them); nothing is counted for them.
  void set_member_filter(std::function<bool(const storage::ResourcePath&)> hidden) {
    hidden_ = std::move(hidden);
  }

  using Visitor =
      std::function<storage::Status(const storage::ResourcePath&, const storage::FileInfo&)>;

  // Visits `root` and then its members down to `depth`. A collection's direct
  // members are visited before the subtrees below them. An error from `visit` stops the walk.
  storage::Status Walk(const storage::ResourcePath& root, const storage::FileInfo& info,
                       Depth depth, const Visitor& visit);

  // Copies `from` (a file, or a collection and, with Depth::kInfinity, its members) to `to`, which
  // must not exist. Everything is created in place (FileSystem::CopyFileNew), not through temporary
  // names: `to` is meant to be a staging tree nobody can see until it is complete. Returns the
  // status of creating `to` itself; member failures go to `failures`.
  storage::Status CopyTree(const storage::ResourcePath& from, const storage::FileInfo& info,
                           const storage::ResourcePath& to, Depth depth,
                           std::vector<MemberFailure>* failures);

  // Removes `path` and everything below it, bottom-up. OK when everything was removed; otherwise
  // `failures` names the members that could not be removed (their ancestors stay too and are not
  // listed, RFC 4918 §9.6.1) and the returned status is the first failure's.
  storage::Status DeleteTree(const storage::ResourcePath& path, const storage::FileInfo& info,
                             std::vector<MemberFailure>* failures);

 private:
  class Observer;
  storage::Status WalkMembers(const storage::ResourcePath& dir, Depth depth, int level,
                              const Visitor& visit);

  storage::FileSystem& fs_;
  Progress& progress_;
  int max_tree_depth_;
  bool Cancelled() const { return !ignore_cancel_ && progress_.cancelled(); }

  bool ignore_cancel_ = false;
  std::function<bool(const storage::ResourcePath&)> hidden_;
};

}  // namespace keepdav::webdav
