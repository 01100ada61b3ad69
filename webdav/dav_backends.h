// DavBackends: everything a DavHandler works on, built and owned by its creator
// (server::DavServer in production, the test fixtures in tests) and injected, so that
// DavHandler builds nothing itself and any implementation of each seam can be plugged in (the
// in-memory file system, PostgreSQL stores, a fake clock).
//
// Plain references: every object must outlive the DavHandler. The journal must be built over
// `properties` (its steps are atomic with respect to those properties), and `locks` over the
// same served root. Each of them must be thread-safe, as their interfaces require: one
// DavHandler serves all connections at once.
#pragma once

#include "storage/checksum_store.h"
#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/lock_store.h"
#include "storage/operation_journal.h"
#include "storage/property_store.h"
#include "webdav/access_policy.h"

namespace keepdav::webdav {

struct DavBackends {
  storage::FileSystem& files;
  storage::PropertyStore& properties;
  storage::LockStore& locks;
  storage::OperationJournal& journal;
  const storage::Clock& clock;  // lock expiry (seconds since the epoch)
  // Per-file SHA-1/MD5/SHA-256 for sync clients (oc:checksums, Repr-Digest), over the same root.
  storage::ChecksumStore& checksums;
  // Who may read and write what, and each user's root (access_policy.h, authorisation.h);
  // nullptr: AccessPolicy::AllowAll().
  const AccessPolicy* access = nullptr;
};

}  // namespace keepdav::webdav
