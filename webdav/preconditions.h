// Preconditions: the step every modifying method goes through before it changes anything.
//
// In this order: If-Match and the other HTTP conditional headers on the target (`info` null when
// it does not exist; 412); the If header (400 when malformed, 412 when false), with untagged lists
// evaluated against `path` and tagged ones against the resource their Resource-Tag names
// (request_target.h); then lock enforcement for the resources the method changes (423
// lock-token-submitted, LockManager::CheckSubmitted), with every state token in the If header
// counting as submitted (RFC 4918 §10.4.1). `seen_below` receives the locks that check read in
// the trees the method replaces or removes (LockManager::CheckSubmitted).
//
// Reads the file system (the ETags of tagged resources) and the locks; changes nothing.
// Thread-safe if they are.
#pragma once

#include <vector>

#include "storage/file_system.h"
#include "webdav/dav_error.h"
#include "webdav/dav_request.h"
#include "webdav/lock_manager.h"

namespace keepdav::webdav {

DavError CheckPreconditions(const DavRequest& req, const storage::ResourcePath& path,
                            const storage::FileInfo* info,
                            const std::vector<ChangedResource>& changes, storage::FileSystem& fs,
                            const LockManager& locks,
                            std::vector<storage::LockRecord>* seen_below = nullptr);

}  // namespace keepdav::webdav
