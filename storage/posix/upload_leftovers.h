// RemoveUploadLeftovers: deletes the temporary files of uploads that a killed keepdav left
// behind (".keepdav-tmp-<hex>", pending_write.h) anywhere below a root directory.
//
// An upload writes its body under such a name beside the target and renames it into place; a
// kill -9 before the rename leaves the file, hidden from clients (the name is reserved) but using
// space. No journal entry records it (a PUT stays two syscalls and no database write), so the
// server sweeps the tree once after each start (server/dav_server.cc, on a thread of its own
// while it serves). Only regular files so named whose modification time is before `before` go:
// an upload started after the start is newer. Symbolic links are neither followed nor removed,
// folders deeper than `max_depth` and ".keepdav-" folders (a COPY's staging, which start-up
// recovery owns) are not entered, and unreadable folders are skipped and counted.
//
// Thread-safe (it holds no state); stops early when `stop` becomes true.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>

#include "storage/status.h"

namespace keepdav::storage::posix {

struct UploadLeftoverSweep {
  uint64_t removed = 0;        // temporary files deleted
  uint64_t removed_bytes = 0;  // their sizes
  uint64_t folders = 0;        // folders read
  uint64_t unreadable = 0;     // folders that could not be opened or read
  bool stopped = false;        // `stop` ended the sweep early
};

// Errors: the root cannot be opened (Status::FromErrno).
Status RemoveUploadLeftovers(const std::string& root_dir, const struct timespec& before,
                             int max_depth, const std::atomic<bool>& stop,
                             UploadLeftoverSweep* result);

}  // namespace keepdav::storage::posix
