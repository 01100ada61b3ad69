// MKCOL and DELETE (RFC 4918 §9.3, §9.6).
#include "webdav/collection_url.h"
#include "webdav/dav_handler.h"
#include "webdav/error_response.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

using storage::ResourcePath;
using storage::Status;
using storage::StatusCode;

DavResponse DavHandler::HandleMkcol(const DavRequest& req) {
  const ResourcePath& path = req.path;
  DavError err;
  // §9.3: a body we do not understand is 415.
  if (req.HasBody()) return DavError::Make(415, "MKCOL with a request body is not supported");
  auto info = fs_.Stat(path);
  if (info.ok()) return DavError::Make(405, "the resource already exists");
  if (info.status().code() == StatusCode::kNotADirectory) {
    return DavError::Make(409, "a parent of the target is not a collection");
  }
  err = CheckConditions(req, path, nullptr,
                        {{path, /*with_members=*/false, /*adds_or_removes=*/true}});
  if (!err.ok()) return err;
  // Clear properties a crash may have left behind at this path before the collection appears.
  Status s = props_.DeleteTree(path);
  if (!s.ok()) return DavError::FromStorage(s);
  s = fs_.MakeDirectory(path);
  if (!s.ok()) {
    switch (s.code()) {
      case StatusCode::kNotFound:
      case StatusCode::kNotADirectory:
        return DavError::Make(409, "the parent collection does not exist");
      case StatusCode::kAlreadyExists:
        return DavError::Make(405, "the resource already exists");
      default:
        return DavError::FromStorage(s);
    }
  }
  DavResponse created = DavResponse::Empty(201);
  AddCollectionLocation(req, /*is_collection=*/true, &created);
  return created;
}

DavResponse DavHandler::HandleDelete(const DavRequest& req) {
  const ResourcePath& path = req.path;
  DavError err;
  if (path.IsRoot()) return DavError::Make(403, "the root collection cannot be deleted");
  auto info = fs_.Stat(path);
  if (!info.ok()) return DavError::FromStorage(info.status());
  // §9.6.1: DELETE on a collection acts as Depth infinity; any other Depth is an error.
  std::optional<Depth> depth = req.depth.Or(Depth::kInfinity);
  if (!depth || (info->IsDirectory() && *depth != Depth::kInfinity)) {
    return DavError::Make(400, "DELETE of a collection requires Depth: infinity");
  }
  // §9.6.1 / §7.4: every locked member needs its token, and so does a locked parent. All are
  // checked before anything is removed, so a locked member is a 423 for the whole request.
  std::vector<storage::LockRecord> seen;  // the locks this DELETE may remove
  err = CheckConditions(req, path, &info.value(),
                        {{path, /*with_members=*/true, /*adds_or_removes=*/true}}, &seen);
  if (!err.ok()) return err;
  if (info->IsDirectory()) req.progress->BeginLong();
  std::vector<MemberFailure> failures;
  Status s = DeleteResource(req, path, info.value(), &failures);
  ForgetRemovedLocks(path, /*all_removed=*/s.ok(), seen);
  if (s.ok()) {
    // Stale rows could never match a file again (checksum_store.h); this keeps the table small.
    (void)checksums_.DeleteTree(path);
    DavResponse deleted = DavResponse::Empty(204);
    AddCollectionLocation(req, info->IsDirectory(), &deleted);
    return deleted;
  }
  if (failures.empty() || (failures.size() == 1 && failures[0].path == path)) {
    return DavError::FromStorage(s);
  }
  return MemberFailuresResponse(std::move(failures), req.space);
}

}  // namespace keepdav::webdav
