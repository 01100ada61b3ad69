// OperationJournal: intent records that make COPY and cross-device MOVE all or nothing across a
// crash, for the files and their dead properties together (the interface; the implementations
// are SqliteOperationJournal in storage/sqlite/ and PgOperationJournal in storage/postgres/,
// which share how they record and read back rows in storage/journal_rows.h).
//
// A journal is built over one PropertyStore, and each step below is atomic with respect to that
// store's properties: the properties change and the entry's state advances together, or
// neither does. A staged operation builds its result under a reserved name beside the
// destination, then swaps it in; the entry says how far the operation got:
//   Begin            entry in state kBuilding (nothing visible has changed)
//   StageProperties  atomically: copy the source's properties to the staging path, record the
//                    staging tree's identity, state kReady
//   (disk)           exchange the staging tree with the destination (or rename it into place)
//   CommitSwap       atomically: the staged properties become the destination's (the old
//                    destination's are dropped; for MOVE the source's too), state kSwapped
//   (disk)           remove the old destination (now at the staging name) and, for MOVE, the
//                    source
//   Finish           drop the entry
// On start-up, Pending() lists unfinished entries; the webdav layer rolls back kBuilding ones,
// rolls kReady ones forward if the destination's inode shows the swap happened (else back), and
// finishes the clean-up of kSwapped ones. See webdav/staged_transfer.h. With several instances
// over one database (PgOperationJournal) Pending() lists only what this instance may recover:
// at start-up its own entries and those of dead instances; later, in live recovery, only those
// of dead instances (PgOperationJournal::ClaimOnlyLapsed).
//
// Ownership: the caller owns the journal; it does not own the PropertyStore or database it is
// built over. Thread safety: every method may be called from any thread; each call is atomic.
// Errors: kInvalidArgument for an entry that lacks what its kind needs (Begin); otherwise the
// errors of the backing database (kBusy, kNoSpace, kPermissionDenied, kIoError: see
// storage/database.h; kUnavailable while PostgreSQL cannot be reached). A failed step changed
// nothing, so the entry keeps its previous state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

struct JournalEntry {
  // kCopy/kMove: staged through a reserved name. kRename: a same-device MOVE (one rename).
  // kReplace: a same-device MOVE onto an existing resource (the old one is renamed aside to
  // `trash` first, see BeginReplace). kDelete: a DELETE whose properties must follow the files
  // (BeginDelete).
  enum class Kind { kCopy = 0, kMove = 1, kRename = 2, kReplace = 3, kDelete = 4 };
  enum class State { kBuilding = 0, kReady = 1, kSwapped = 2 };
  int64_t id = 0;
  Kind kind = Kind::kCopy;
  State state = State::kBuilding;
  ResourcePath source;
  ResourcePath destination;
  // kCopy/kMove/kReplace only (kReplace: both are the trash name): the reserved names
  // (ResourcePath::InternalChild) beside the destination where the new tree is built, and where the
  // old destination goes when the file system cannot exchange two names. Absent for kRename.
  std::optional<ResourcePath> staging;
  std::optional<ResourcePath> trash;
  uint64_t staged_inode = 0;
  uint64_t staged_device = 0;
  // Set by Pending() on an entry whose stored paths no longer parse (written by hand, or by
  // another version with other path rules): its paths are unusable (those that did parse are
  // kept) and recovery can only drop it with Finish().
  bool unreadable = false;
};

// The undo record of one partial upload (webdav/partial_update.h): written before the file is
// changed in place, dropped once the change is durable. Recovery writes `saved` back at `offset`
// and cuts the file to `old_size`, which is the file as it was before the request.
struct PartialWriteRecord {
  int64_t id = 0;
  ResourcePath path;
  uint64_t inode = 0;        // the file changed: recovery leaves another file at `path` alone
  uint64_t old_size = 0;     // its size before the request
  int64_t old_mtime_ns = 0;  // and its modification time (so its ETag is the old one again)
  uint64_t offset = 0;       // where the write starts
  std::string saved;         // the old bytes at [offset, min(offset + write length, old_size))
  bool unreadable = false;   // set by PendingPartialWrites when `path` no longer parses
};

class OperationJournal {
 public:
  virtual ~OperationJournal() = default;

  // Records a new kCopy or kMove operation in kBuilding; fills entry->id and entry->state.
  // kInvalidArgument for a kRename entry (use BeginRename) or one without staging and trash.
  virtual Status Begin(JournalEntry* entry) = 0;

  // Atomically: the properties of `source` (its whole subtree, or only itself when `whole_tree`
  // is false) are copied to the staging path, and the entry becomes kReady with the staging
  // tree's identity.
  virtual Status StageProperties(JournalEntry* entry, bool whole_tree, uint64_t inode,
                                 uint64_t device) = 0;

  // Atomically: the destination's properties are replaced by the staged ones (and for a move
  // the source's are deleted); the entry becomes kSwapped.
  virtual Status CommitSwap(JournalEntry* entry) = 0;

  // Same-device MOVE: atomically, records the rename (with the source's identity) as kReady and
  // moves the properties of the whole subtree; fills the entry (kind kRename, no staging). After
  // the disk rename, Finish(). Start-up recovery: if the destination has the recorded identity
  // the rename happened (done); otherwise UndoRename() puts the properties back.
  virtual Status BeginRename(JournalEntry* entry, uint64_t inode, uint64_t device) = 0;
  // Atomically: the properties go back to the source and the entry is dropped.
  virtual Status UndoRename(const JournalEntry& entry) = 0;

  // Same-device MOVE onto an existing resource (Overwrite: T), which must not lose the old one
  // to a crash:
  //   BeginReplace   entry kReplace in kBuilding with the source's identity; `entry->trash`
  //                  (REQUIRES: set) is the reserved name beside the destination it goes to
  //   (disk)         rename the destination to the trash name
  //   StageReplace   atomically: the destination's properties go to the trash path and the
  //                  source's to the destination; state kReady
  //   (disk)         rename the source to the destination
  //   (disk)         remove the trash tree
  //   Finish         drop the entry (and the properties at the trash path)
  // Start-up recovery: in kBuilding, put the trash back if the destination is missing; in kReady,
  // finish if the destination has the source's identity, else put the trash back and
  // UndoReplace.
  virtual Status BeginReplace(JournalEntry* entry, uint64_t inode, uint64_t device) = 0;
  virtual Status StageReplace(JournalEntry* entry) = 0;
  // Atomically: the destination's properties go back to the source, the trash's to the
  // destination, and the entry is dropped.
  virtual Status UndoReplace(const JournalEntry& entry) = 0;

  // DELETE: records that the tree at `entry->destination` is being removed (kDelete, kReady), so
  // that start-up recovery drops the properties of what a killed DELETE had removed from the
  // disk (and keeps those of what it had not). Finish() once the properties followed the files.
  virtual Status BeginDelete(JournalEntry* entry) = 0;

  // Atomically: drops the entry and any properties left at its staging path (roll-back or
  // done).
  virtual Status Finish(const JournalEntry& entry) = 0;

  // Unfinished operations, oldest first (for PgOperationJournal: those it claims for this
  // instance to recover).
  virtual Result<std::vector<JournalEntry>> Pending() = 0;

  // Partial uploads: records `record` (its old size and overwritten bytes) and fills its id.
  virtual Status BeginPartialWrite(PartialWriteRecord* record) = 0;
  // Drops the record `id` (the write is durable, or has been undone).
  virtual Status FinishPartialWrite(int64_t id) = 0;
  // Unfinished partial writes, oldest first (claimed as Pending() claims entries).
  virtual Result<std::vector<PartialWriteRecord>> PendingPartialWrites() = 0;
};

}  // namespace keepdav::storage
