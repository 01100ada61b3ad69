// CopyMovePlan: everything COPY and MOVE (RFC 4918 §9.8, §9.9) decide before they act, shared by
// both: source and destination, Depth, Overwrite, whether the destination exists, which
// resources lock enforcement must check, and whether the work will take long.
//
// PlanCopyOrMove only reads (two or three stats); it changes nothing. Its errors, in this order:
// 404 (or another storage status) when the source cannot be stat'ed; 400 for a Depth other than
// 0 or infinity (for MOVE of a collection, only infinity) and for an Overwrite other than T or F;
// 403 when source and destination are the same, the root would move, or one contains the other;
// 409 when the destination's parent is not a collection; the storage status of a failed stat of
// the destination. The target and Destination themselves are resolved before (request_target.h).
// Thread-safe if the FileSystem is.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "storage/file_system.h"
#include "webdav/dav_error.h"
#include "webdav/dav_request.h"
#include "webdav/depth.h"
#include "webdav/lock_manager.h"

namespace keepdav::webdav {

struct CopyMovePlan {
  // A file at least this large takes long to copy byte by byte.
  static constexpr uint64_t kLargeFile = 16ull << 20;

  bool move = false;
  storage::ResourcePath from;
  storage::FileInfo source;
  storage::ResourcePath to;
  // kZero only for a COPY of a collection with "Depth: 0"; a file is always kInfinity.
  Depth depth = Depth::kInfinity;
  bool overwrite = true;
  // The destination as it was when planned; nullopt when it did not exist.
  std::optional<storage::FileInfo> destination;
  // The locks the lock check saw at or below the source and an existing destination
  // (CheckConditions): what a MOVE forgets of its source (DavHandler::ForgetRemovedLocks).
  std::vector<storage::LockRecord> locks_seen;

  bool destination_existed() const { return destination.has_value(); }
  // RFC 4918 §7.4, §7.5: the destination (and whatever it replaces) and its parent need their
  // tokens; MOVE's source too, with every locked member, and the parent it leaves.
  std::vector<ChangedResource> LockedChanges() const;
  // A COPY of a collection, or of a large file (Progress::BeginLong).
  bool IsLongCopy() const;
};

// The Overwrite header (RFC 4918 §10.6: "T" or "F"; lower case accepted too, blanks around
// ignored as RFC 9110 §5.5 OWS): true for T, false for F, nullopt for anything else (400).
std::optional<bool> ParseOverwrite(std::string_view value);

// Plans a COPY (`move` false) or MOVE of req.path to *req.destination.
// REQUIRES: req.destination is set.
DavError PlanCopyOrMove(const DavRequest& req, bool move, storage::FileSystem& fs,
                        CopyMovePlan* plan);

}  // namespace keepdav::webdav
