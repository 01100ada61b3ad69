// PartialUpdate: a partial upload written into an existing file in place, all or nothing across
// a crash, through the operation journal (SabreDAV's PATCH with X-Update-Range and mod_dav's PUT
// with Content-Range; update_range.h says where the bytes go).
//
// Order: open the file; read the bytes the write will overwrite (those below the file's old
// end) and record them with the old size (OperationJournal::BeginPartialWrite); write the body
// in place; fdatasync; drop the record. A request that fails after the record (the body ends
// early, the disk is full) is undone at once: the saved bytes go back, the file is cut to its
// old size. A crash in between leaves the record, and Recover(), run at start-up before any
// request, undoes it the same way: the file is then byte for byte what it was before the request
// with its old modification time, so its ETag is the old one again (its ctime is not). Staging a
// full copy per piece would cost the whole file per request; this costs the overwritten bytes,
// nothing for the usual resume (an append).
//
// Limits: at most kMaxSavedBytes of existing content may be overwritten by one request (the
// saved bytes live in the database): kTooLarge (413) above. Concurrent partial writes to one
// file are not serialised against each other (If-Match on the ETag is how a client guards a
// resume). Stateless; thread-safe as its backends are.
#pragma once

#include <cstdint>
#include <istream>

#include "storage/file_system.h"
#include "storage/operation_journal.h"
#include "storage/status.h"

namespace keepdav::webdav {

class PartialUpdate {
 public:
  static constexpr uint64_t kMaxSavedBytes = uint64_t{64} << 20;

  // Writes `length` bytes read from `body` into `file` (opened with OpenForUpdate at `path`) at
  // `offset`. REQUIRES: offset <= file.info().size. kIoError when the body ends before `length`
  // bytes (the file is restored); kTooLarge (see above); the errors of the journal and the file.
  // On success *after is the file's figures now.
  static storage::Status Apply(storage::FileSystem& fs, storage::OperationJournal& journal,
                               const storage::ResourcePath& path, storage::UpdatableFile& file,
                               uint64_t offset, uint64_t length, std::istream& body,
                               storage::FileInfo* after);

  // Undoes every partial write a crash left unfinished (files whose inode differs, or that are
  // gone, are left alone) and drops the records. Run before serving requests.
  // `lapsed`: not null when the records are those of a dead instance (RecoverLapsed); their
  // number is added to it, and logged.
  static storage::Status Recover(storage::FileSystem& fs, storage::OperationJournal& journal,
                                 int64_t* lapsed = nullptr);

 private:
  // Puts the saved bytes, the old size and the old modification time back.
  static storage::Status Undo(storage::FileSystem& fs, storage::UpdatableFile& file,
                              const storage::PartialWriteRecord& record);
};

}  // namespace keepdav::webdav
