// The tree jobs of PosixFileSystem::RemoveTree and CopyTree: each directory is resolved from the
// root once, and its members are handled relative to its descriptor (unlinkat, openat(O_NOFOLLOW),
// mkdirat) with entry types from getdents, by the calling thread and up to `threads - 1` helpers
// (JobStack). They behave like MemberWalk (storage/member_walk.h) except that members are handled,
// and failures reported, in no fixed order; the observer is called from those threads. At most
// one directory of each tree is held open per thread.
//
// Stateless; thread-safe if the observer is. Member failures go to the observer as
// Status::FromErrno of the failing call, kTooLarge below `max_depth`, kIoError when cancelled.
#pragma once

#include "storage/file_system.h"
#include "storage/posix/root.h"

namespace keepdav::storage::posix {

// Removes everything below the directory `path` (not `path` itself), with reserved leftovers;
// symlinks and hidden names stay, and so do their ancestors. True when all of it is gone.
bool EmptyTree(const Root& root, const ResourcePath& path, int max_depth, int threads,
               TreeObserver& observer);

// Copies the members of the directory `from` into the fresh directory `to`, recursively.
void CopyMembers(const Root& root, const ResourcePath& from, const ResourcePath& to, int max_depth,
                 int threads, TreeObserver& observer);

}  // namespace keepdav::storage::posix
