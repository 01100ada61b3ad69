// OperationJournal: intent records that make COPY and cross-device MOVE all or nothing across a
// crash, for the files and their dead properties together.
//
// A staged operation builds its result under a reserved name beside the destination, then swaps
// it in. Each step that matters is one SQLite transaction, and the journal row says how far the
// operation got:
//   Begin          row in state kBuilding (nothing visible has changed)
//   StageProperties  one transaction: copy the source's properties to the staging path, record
//                    the staging tree's inode, state kReady
//   (disk)         exchange the staging tree with the destination (or rename it into place)
//   CommitSwap     one transaction: the staged properties become the destination's (the old
//                    destination's are dropped; for MOVE the source's too), state kSwapped
//   (disk)         remove the old destination (now at the staging name) and, for MOVE, the source
//   Finish         delete the row
// On start-up, Pending() lists unfinished rows; the webdav layer rolls back kBuilding rows, rolls
// kReady rows forward if the destination's inode shows the swap happened (else back), and
// finishes the clean-up of kSwapped rows. See webdav/staged_transfer.h.
//
// Thread-safe (serialised through the Database lock).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

struct JournalEntry {
  // kCopy/kMove: staged through a reserved name. kRename: a same-device MOVE (one rename).
  enum class Kind { kCopy = 0, kMove = 1, kRename = 2 };
  enum class State { kBuilding = 0, kReady = 1, kSwapped = 2 };
  int64_t id = 0;
  Kind kind = Kind::kCopy;
  State state = State::kBuilding;
  std::string source;  // ResourcePath strings
  std::string destination;
  std::string staging;  // reserved name beside the destination
  std::string trash;    // reserved name for the old destination when exchange is unavailable
  uint64_t staged_inode = 0;
  uint64_t staged_device = 0;
};

class OperationJournal {
 public:
  explicit OperationJournal(Database& db) : db_(db) {}

  // Records a new operation in kBuilding; fills entry->id.
  Status Begin(JournalEntry* entry);

  // In one transaction: the properties of `source` (its whole subtree, or only itself when
  // `whole_tree` is false) are copied to the staging path, and the row becomes kReady with the
  // staging tree's identity.
  Status StageProperties(JournalEntry* entry, bool whole_tree, uint64_t inode, uint64_t device);

  // In one transaction: the destination's properties are replaced by the staged ones (and for a
  // move the source's are deleted); the row becomes kSwapped.
  Status CommitSwap(JournalEntry* entry);

  // Same-device MOVE: in one transaction, records the rename (with the source's identity) as
  // kReady and moves the properties of the whole subtree. After the disk rename, Finish().
  // Start-up recovery: if the destination has the recorded identity the rename happened (done);
  // otherwise UndoRename() puts the properties back.
  Status BeginRename(JournalEntry* entry, uint64_t inode, uint64_t device);
  // In one transaction: the properties go back to the source and the row is dropped.
  Status UndoRename(const JournalEntry& entry);

  // Drops the row and any properties left at the staging path (roll-back or done).
  Status Finish(const JournalEntry& entry);

  // Unfinished operations, oldest first.
  Result<std::vector<JournalEntry>> Pending();

  // A stored path back as a ResourcePath; reserved (staging) segments are allowed.
  static Result<ResourcePath> PathFromText(const std::string& text);

 private:
  // REQUIRES: the database lock held (as do the two below).
  Status SetState(const JournalEntry& entry);
  Status DeleteRowLocked(int64_t id);
  Database& db_;
};

}  // namespace keepdav::storage
