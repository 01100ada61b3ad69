#include "storage/journal_rows.h"

#include <string>
#include <utility>

namespace keepdav::storage {

Status MissingStaging(const JournalEntry& entry) {
  return Status::InvalidArgument("journal entry for " + entry.destination.str() +
                                 " has no staging or trash path");
}

JournalEntry BeginRenameEntry(const JournalEntry& entry, uint64_t inode, uint64_t device) {
  JournalEntry next = entry;
  next.kind = JournalEntry::Kind::kRename;
  next.state = JournalEntry::State::kReady;
  next.staging.reset();
  next.trash.reset();
  next.staged_inode = inode;
  next.staged_device = device;
  return next;
}

JournalEntry BeginReplaceEntry(const JournalEntry& entry, uint64_t inode, uint64_t device) {
  JournalEntry next = entry;
  next.kind = JournalEntry::Kind::kReplace;
  next.state = JournalEntry::State::kBuilding;
  next.staging = next.trash;
  next.staged_inode = inode;
  next.staged_device = device;
  return next;
}

JournalEntry BeginDeleteEntry(const JournalEntry& entry) {
  JournalEntry next = entry;
  next.kind = JournalEntry::Kind::kDelete;
  next.state = JournalEntry::State::kReady;
  next.source = next.destination;
  next.staging.reset();
  next.trash.reset();
  return next;
}

Result<ResourcePath> JournalPathFromText(std::string_view text) {
  if (text.empty() || text[0] != '/') {
    return Status::InvalidPath("journal path '" + std::string(text) + "'");
  }
  ResourcePath p;
  size_t pos = 1;
  while (pos < text.size()) {
    size_t slash = text.find('/', pos);
    if (slash == std::string_view::npos) slash = text.size();
    std::string_view seg = text.substr(pos, slash - pos);
    if (ResourcePath::IsReservedName(seg)) {
      p = p.InternalChild(seg);
    } else if (ResourcePath::IsValidSegment(seg)) {
      p = p.Child(seg);
    } else {
      return Status::InvalidPath("journal path " + std::string(text));
    }
    pos = slash + 1;
  }
  return p;
}

JournalEntry JournalEntryFromRow(const JournalRowReader& row) {
  JournalEntry e;
  e.id = row.integer(0);
  e.kind = static_cast<JournalEntry::Kind>(row.integer(1));
  e.state = static_cast<JournalEntry::State>(row.integer(2));
  auto read = [&](int col, ResourcePath* out) {
    Result<ResourcePath> p = JournalPathFromText(row.bytes(col));
    if (p.ok()) {
      *out = std::move(p).value();
    } else {
      e.unreadable = true;
    }
    return p.ok();
  };
  read(3, &e.source);
  read(4, &e.destination);
  if (e.kind != JournalEntry::Kind::kRename && e.kind != JournalEntry::Kind::kDelete) {
    ResourcePath staging, trash;
    if (read(5, &staging)) e.staging = staging;
    if (read(6, &trash)) e.trash = trash;
  }
  e.staged_inode = static_cast<uint64_t>(row.integer(7));
  e.staged_device = static_cast<uint64_t>(row.integer(8));
  return e;
}

PartialWriteRecord PartialWriteFromRow(const JournalRowReader& row) {
  PartialWriteRecord r;
  r.id = row.integer(0);
  Result<ResourcePath> p = JournalPathFromText(row.bytes(1));
  if (p.ok()) {
    r.path = std::move(p).value();
  } else {
    r.unreadable = true;
  }
  r.inode = static_cast<uint64_t>(row.integer(2));
  r.old_size = static_cast<uint64_t>(row.integer(3));
  r.old_mtime_ns = row.integer(4);
  r.offset = static_cast<uint64_t>(row.integer(5));
  r.saved = std::string(row.bytes(6));
  return r;
}

}  // namespace keepdav::storage
