// StagedTransfer: COPY and cross-device MOVE, all or nothing, across client hang-ups and crashes.
//
// The result is built under a reserved name beside the destination (".keepdav-stage-<hex>"),
// then swapped in with one exchange (renameat2 RENAME_EXCHANGE; two renames through
// ".keepdav-trash-<hex>" where the file system cannot exchange). With Overwrite: T the old
// destination therefore stays whole until the swap and is removed after it. Files and dead
// properties move in step through the OperationJournal (see storage/operation_journal.h), and
// Recover() finishes or undoes whatever a killed process left, before the server accepts
// requests. Staging and trash names are reserved: never listed, served or counted.
//
// Cancellation (the client hung up, or shutdown): honoured only while building, where it rolls
// back. Once the swap is done the clean-up always runs to its end.
#pragma once

#include <vector>

#include "storage/file_system.h"
#include "storage/operation_journal.h"
#include "webdav/dav_request.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

class StagedTransfer {
 public:
  StagedTransfer(storage::FileSystem& fs, storage::OperationJournal& journal, Progress& progress,
                 int max_depth)
      : fs_(fs), journal_(journal), progress_(progress), max_depth_(max_depth) {}

  // Copies `from` (to `depth`: zero or infinity) to `to`, or moves it when `move`.
  // REQUIRES: `to`'s parent exists; neither path contains the other; `*to_existed` tells whether
  // something was at `to` when the request was planned (it is replaced). Another request may
  // create or remove `to` while the copy is staged: the swap follows what is there then, and
  // sets `*to_existed` to whether it replaced something; a destination that appeared is
  // replaced only when `overwrite` (else kAlreadyExists, nothing changed). On error nothing
  // visible has changed and `failed_member` names the member that failed (when there is one).
  // For a move whose source could not be removed completely after the swap, the move is done
  // and the leftovers are listed in `source_leftovers`.
  storage::Status Run(bool move, const storage::ResourcePath& from,
                      const storage::FileInfo& from_info, const storage::ResourcePath& to,
                      bool* to_existed, bool overwrite, Depth depth,
                      storage::ResourcePath* failed_member,
                      std::vector<MemberFailure>* source_leftovers);

  // Finishes or rolls back the COPY and MOVE operations among `pending` (what the journal's
  // Pending() returned; its DELETE entries are left to the caller): once at start-up, and for
  // the entries a dead instance left (start_up_recovery.h).
  static storage::Status Recover(storage::FileSystem& fs, storage::OperationJournal& journal,
                                 std::vector<storage::JournalEntry>& pending, int max_depth);

 private:
  // Removes a tree if it exists, ignoring cancellation.
  static storage::Status RemoveIfExists(storage::FileSystem& fs, const storage::ResourcePath& p,
                                        int max_depth, Progress* count_into,
                                        std::vector<MemberFailure>* failures);
  void RollBack(const storage::JournalEntry& entry, const storage::ResourcePath& staging);

  storage::FileSystem& fs_;
  storage::OperationJournal& journal_;
  Progress& progress_;
  int max_depth_;
};

}  // namespace keepdav::webdav
