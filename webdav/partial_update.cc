#include "webdav/partial_update.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <memory>
#include <string>

namespace keepdav::webdav {

using storage::FileInfo;
using storage::PartialWriteRecord;
using storage::ResourcePath;
using storage::Status;

Status PartialUpdate::Undo(storage::FileSystem& fs, storage::UpdatableFile& file,
                           const PartialWriteRecord& record) {
  Status s = file.WriteAt(record.offset, record.saved.data(), record.saved.size());
  if (s.ok()) s = file.Truncate(record.old_size);
  if (s.ok()) s = file.Sync();
  if (s.ok()) s = fs.SetModifiedTime(record.path, record.old_mtime_ns);
  return s;
}

Status PartialUpdate::Apply(storage::FileSystem& fs, storage::OperationJournal& journal,
                            const ResourcePath& path, storage::UpdatableFile& file, uint64_t offset,
                            uint64_t length, std::istream& body, FileInfo* after) {
  const FileInfo& before = file.info();
  if (offset > before.size) return Status::InvalidArgument("write past the end of " + path.str());
  const uint64_t overwritten = std::min(length, before.size - offset);
  if (overwritten > kMaxSavedBytes) {
    return Status::TooLarge("a partial write may overwrite at most 64 MiB of " + path.str());
  }
  PartialWriteRecord record;
  record.path = path;
  record.inode = before.inode;
  record.old_size = before.size;
  record.old_mtime_ns = before.mtime_ns;
  record.offset = offset;
  record.saved.resize(overwritten);
  for (uint64_t done = 0; done < overwritten;) {
    auto n = file.ReadAt(offset + done, record.saved.data() + done, overwritten - done);
    if (!n.ok()) return n.status();
    if (*n == 0) return Status::IoError(path.str() + " shrank while being updated");
    done += *n;
  }
  Status s = journal.BeginPartialWrite(&record);
  if (!s.ok()) return s;

  constexpr size_t kBuffer = 256 * 1024;
  std::unique_ptr<char[]> buf(new char[kBuffer]);
  uint64_t written = 0;
  while (s.ok() && written < length) {
    body.read(buf.get(),
              static_cast<std::streamsize>(std::min<uint64_t>(kBuffer, length - written)));
    std::streamsize n = body.gcount();
    if (n <= 0) {
      s = Status::IoError("incomplete request body (" + std::to_string(written) + " of " +
                          std::to_string(length) + " bytes)");
      break;
    }
    s = file.WriteAt(offset + written, buf.get(), static_cast<size_t>(n));
    written += static_cast<uint64_t>(n);
  }
  if (s.ok()) s = file.Sync();
  if (!s.ok()) {
    Status undone = Undo(fs, file, record);
    if (!undone.ok()) {
      // The record stays: start-up recovery tries again.
      Poco::Logger::get("keepdav.dav")
          .error("partial write of %s not undone (recovery will retry): %s", path.str(),
                 undone.message());
      return s;
    }
    (void)journal.FinishPartialWrite(record.id);
    return s;
  }
  s = journal.FinishPartialWrite(record.id);
  if (!s.ok()) return s;
  auto now = file.Stat();
  if (!now.ok()) return now.status();
  *after = now.value();
  return Status::Ok();
}

Status PartialUpdate::Recover(storage::FileSystem& fs, storage::OperationJournal& journal,
                              int64_t* lapsed) {
  auto pending = journal.PendingPartialWrites();
  if (!pending.ok()) return pending.status();
  if (lapsed != nullptr && !pending->empty()) {
    *lapsed += static_cast<int64_t>(pending->size());
    Poco::Logger::get("keepdav.dav")
        .notice("recovering lapsed partial writes of other instances: %z", pending->size());
  }
  for (const PartialWriteRecord& record : pending.value()) {
    if (!record.unreadable) {
      auto file = fs.OpenForUpdate(record.path);
      if (file.ok() && file.value()->info().inode == record.inode) {
        Status s = Undo(fs, *file.value(), record);
        if (!s.ok()) return s;
        Poco::Logger::get("keepdav.dav")
            .information("recovery: undid an interrupted partial write of %s", record.path.str());
      }
    }
    Status s = journal.FinishPartialWrite(record.id);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace keepdav::webdav
