// MemberWalk: FileSystem::RemoveTree and FileSystem::CopyTree done one resource at a time,
// through a FileSystem's own single-resource calls (Stat, List, ListForRemoval, MakeDirectory,
// CopyFileNew, Remove).
//
// This is the reference behaviour of both tree operations (see file_system.h for the contract).
// Decorators that act per resource (FaultInjectingFileSystem, which slows down, fails or crashes
// single calls) implement the tree operations with it over themselves, so that every member
// passes through their hooks; MemoryFileSystem uses it as it is; PosixFileSystem has a faster
// equivalent that walks with directory descriptors. It holds one directory listing at a time: names
// of subdirectories wait for their turn, nothing else is kept.
//
// Stateless; thread-safe if the FileSystem is.
#pragma once

#include <mutex>

#include "storage/file_system.h"

namespace keepdav::storage {

class MemberWalk {
 public:
  static Status RemoveTree(FileSystem& fs, const ResourcePath& path, int max_depth,
                           TreeObserver& observer);
  static Status CopyTree(FileSystem& fs, const ResourcePath& from, const ResourcePath& to,
                         bool with_members, int max_depth, TreeObserver& observer);

  // The statuses both implementations report for a directory below the depth limit and for a
  // walk stopped by cancellation.
  static Status TooDeep(const ResourcePath& dir);
  static Status CancelledStatus();

  // Forwards to another observer and remembers the first failure (RemoveTree returns it).
  class FirstFailure : public TreeObserver {
   public:
    explicit FirstFailure(TreeObserver& inner) : inner_(inner) {}
    bool Cancelled() override { return inner_.Cancelled(); }
    void ResourceDone() override { inner_.ResourceDone(); }
    void MemberFailed(const ResourcePath& path, bool is_directory, const Status& status) override;
    // The first failure's status; `otherwise` when there was none.
    Status first_or(Status otherwise);

   private:
    TreeObserver& inner_;
    std::mutex mu_;
    bool failed_ = false;
    Status first_;
  };
};

}  // namespace keepdav::storage
