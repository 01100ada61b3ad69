// RecoverAtStartUp: everything keepdav finishes or undoes, before it serves a request, of what a
// killed process left half-done. In order:
//   1. StagedTransfer::Recover: COPY and MOVE journal entries (staged, renamed, or replacing a
//      destination) are rolled forward or back (staged_transfer.h). A DELETE's entry: the
//      properties of what it removed from the disk are dropped, those of what is left kept
//      (a DELETE walks the tree and may stop half-way by design).
//   2. PartialUpdate::Recover: files a partial upload was changing go back to what they were
//      (partial_update.h).
//   3. Locks whose root no longer exists are dropped: a LOCK of an unmapped URL records its lock
//      before it creates the empty file, and a DELETE or MOVE forgets the locks of what it
//      removed after removing it, so a kill in between leaves a lock on nothing (which a new
//      resource at that path would otherwise inherit). Locks are few (LockSettings caps them),
//      so this is one stat per active lock.
//
// RecoverLapsed is steps 1 and 2 alone, for what another instance sharing the database left
// when it died (issue 15): run by every live instance every --instance-lease / 3 seconds, over
// a journal that claims only other instances' entries whose lease lapsed (PgOperationJournal::
// ClaimOnlyLapsed), so each entry is recovered once, by one instance. Step 3 is left out: a live
// instance may be between recording a lock and creating its resource.
//
// Errors: the first step that fails (the database's, or the file system's), after which the
// server must not start (what is pending stays recorded for the next attempt).
#pragma once

#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/lock_store.h"
#include "storage/operation_journal.h"
#include "storage/property_store.h"

namespace keepdav::webdav {

// REQUIRES: `journal` is built over `properties`.
storage::Status RecoverAtStartUp(storage::FileSystem& fs, storage::PropertyStore& properties,
                                 storage::OperationJournal& journal, storage::LockStore& locks,
                                 const storage::Clock& clock, int max_depth);

// Logs how many entries and partial-write records it claimed, when there were any.
storage::Status RecoverLapsed(storage::FileSystem& fs, storage::PropertyStore& properties,
                              storage::OperationJournal& journal, int max_depth);

}  // namespace keepdav::webdav
