// Journal rows: what the OperationJournal implementations (SqliteOperationJournal,
// PgOperationJournal) share about their rows: the entry each Begin step records, and how a
// stored row turns back into a JournalEntry or a PartialWriteRecord, so that both backends
// record, read and mark unreadable rows the same way (start-up recovery relies on it).
//
// Paths are stored as ResourcePath strings; staging and trash paths contain reserved segments
// (ResourcePath::InternalChild), which ResourcePath::Parse refuses, so JournalPathFromText
// rebuilds them segment by segment. A row whose path no longer parses (written by hand, or by
// another version with other path rules) comes back with `unreadable` set and the paths that
// did parse (see JournalEntry::unreadable).
//
// Pure functions of their arguments; thread-safe. The row reader's views need only last for
// the call.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "storage/operation_journal.h"
#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

// The columns of an `operations` row, in the order JournalEntryFromRow reads them (both
// schemas name them so).
inline constexpr char kJournalEntryColumns[] =
    "id, kind, state, source, destination, staging, trash, staged_inode, staged_device";

// The columns of the current result row by 0-based index: as an integer, and as its bytes
// (text, blob or bytea).
struct JournalRowReader {
  std::function<int64_t(int col)> integer;
  std::function<std::string_view(int col)> bytes;
};

// kInvalidArgument: `entry` lacks the staging or trash path its kind needs.
Status MissingStaging(const JournalEntry& entry);

// The entry BeginRename records for `entry`: kRename in kReady with the source's identity, no
// staging or trash.
JournalEntry BeginRenameEntry(const JournalEntry& entry, uint64_t inode, uint64_t device);
// The entry BeginReplace records: kReplace in kBuilding with the source's identity; its staging
// is the trash name, so that Finish drops what is left there. REQUIRES: entry.trash.
JournalEntry BeginReplaceEntry(const JournalEntry& entry, uint64_t inode, uint64_t device);
// The entry BeginDelete records: kDelete in kReady for the destination's tree (source =
// destination), no staging or trash.
JournalEntry BeginDeleteEntry(const JournalEntry& entry);

// A stored path back as a ResourcePath; reserved (staging) segments are allowed, anything else
// Parse refuses is kInvalidPath.
Result<ResourcePath> JournalPathFromText(std::string_view text);

// The entry of a row of kJournalEntryColumns. Staging and trash are read for the kinds that
// have them (not kRename, kDelete).
JournalEntry JournalEntryFromRow(const JournalRowReader& row);

// The record of a partial_writes row with the columns id, path, inode, old_size, old_mtime_ns,
// the write's offset, saved (in this order; PostgreSQL names the offset column write_offset).
PartialWriteRecord PartialWriteFromRow(const JournalRowReader& row);

}  // namespace keepdav::storage
