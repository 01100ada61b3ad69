// DavHandler: WebDAV class 1 and 2 semantics over a FileSystem, a PropertyStore and locks.
//
// One member function per method (each family in its own .cc file), routed by a method table.
// Each returns its outcome as a DavResponse (dav_response.h), success or error (a DavError
// converts to one), and writes nothing; Handle() logs an error and WriteResponse writes any
// response, once. Every modifying method goes through
// CheckConditions() before it changes anything (conditional headers, the If header, locks); deep
// operations go through TreeWalker and report
// progress to the request's Progress, and announce work that grows with a tree or a file
// (Progress::BeginLong) at the point they know it is long.
//
// Thread-safe: one DavHandler serves all connections; it keeps no per-request state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "storage/checksum_cache.h"
#include "storage/file_system.h"
#include "storage/operation_journal.h"
#include "storage/property_store.h"
#include "webdav/dav_backends.h"
#include "webdav/dav_error.h"
#include "webdav/dav_request.h"
#include "webdav/dav_response.h"
#include "webdav/depth.h"
#include "webdav/live_properties.h"
#include "webdav/lock_manager.h"
#include "webdav/xml_request.h"

namespace keepdav::webdav {

struct DavSettings {
  bool read_only = false;
  XmlLimits xml;
  // Deepest level below a request's target that COPY, DELETE and PROPFIND recurse into.
  int max_tree_depth = 256;
  // Largest PUT body in bytes; 0 means no limit.
  uint64_t max_upload_bytes = 0;
  // Whether PROPFIND with "Depth: infinity" is allowed (403 propfind-finite-depth otherwise).
  bool allow_propfind_infinity = true;
  // Lock timeouts and caps (lock_manager.h).
  LockSettings locks;
  // How many bytes one PROPFIND may read to compute oc:checksums of files that have no stored
  // sums (they are stored, so the next listing continues where this one stopped); files beyond
  // it answer oc:checksums 404. A file is started while the total is below the limit, so a
  // Depth 0 PROPFIND always gets its file's sums. 0: never compute in a listing.
  uint64_t checksum_listing_budget_bytes = uint64_t{1} << 30;
  // Stored sums kept in memory for listings, in rows (storage/checksum_cache.h: one snapshot
  // per folder, least recently listed first out; about 300 bytes a row). 0: every listing
  // reads its folders' sums from the store.
  uint64_t checksum_cache_rows = storage::ChecksumCache::kDefaultMaxCachedRows;
  // Seconds after which a folder's snapshot is read again even if nothing here changed it; 0:
  // never. DavServer sets it for a shared (PostgreSQL) database, where other instances add rows.
  int checksum_snapshot_max_age_s = 0;
  // Partial uploads into existing files: PATCH with X-Update-Range (SabreDAV) and PUT with
  // Content-Range (mod_dav), advertised as "sabredav-partialupdate" in OPTIONS' DAV header.
  // Off: PATCH is 405 and a PUT with Content-Range is 400 (RFC 9110 §14.5).
  bool partial_updates = true;
  // User-Agent substrings (compared without regard to case) of clients whose allprop PROPFIND
  // gets the compact set (propfind.cc, CompactAllprop): Windows' mini-redirector refuses a
  // PROPFIND answer over 1,000,000 bytes (FileAttributesLimitInBytes), so a folder of a few
  // thousand files would not open in Explorer with the full set. Empty: nobody.
  std::vector<std::string> compact_allprop_agents = {"Microsoft-WebDAV-MiniRedir"};
  // --base-path: the URL prefix keepdav serves under ("" or "/dav", ParseBasePath in
  // url_space.h). Requests outside it are 404; every href starts with it.
  std::string base_path;
};

class DavHandler {
 public:
  // Works on `backends` (dav_backends.h: all must outlive the handler); builds nothing itself.
  DavHandler(const DavBackends& backends, DavSettings settings);

  // Handles one request completely: resolves its target, Destination and Depth into `req`
  // (ResolveRequest), runs the method and writes its response (WriteResponse). Never throws; an
  // unexpected exception becomes a 500 (if no response has been sent yet) and a log line.
  void Handle(DavRequest& req, ResponseSink& sink);

  // The value of the Allow header (options.h).
  static const char* AllowedMethods();

  // Puts `policy` in force for requests that start from now on (SIGHUP re-reads --access); a
  // request already running keeps the policy it started with (DavRequest::access). Thread-safe.
  void ReplaceAccessPolicy(std::shared_ptr<const AccessPolicy> policy);

 private:
  using Method = DavResponse (DavHandler::*)(const DavRequest&);
  static Method FindMethod(const std::string& name, bool* modifies);

  // dav_handler.cc. Finds the method, refuses what the server does not allow, resolves the
  // request and runs the method: the outcome, not yet written.
  DavResponse Dispatch(DavRequest& req);
  // dav_handler.cc. Fills req.path (request_target.h: 400, 404 for reserved names), for COPY and
  // MOVE req.destination (400, 403, 502) and req.depth, once, before any method runs.
  DavError ResolveRequest(DavRequest& req) const;
  DavResponse HandleOptions(const DavRequest& req);
  // file_methods.cc
  DavResponse HandleGet(const DavRequest& req);
  DavResponse HandlePut(const DavRequest& req);
  // SabreDAV's partial update (X-Update-Range), and PUT with Content-Range: partial_update.h.
  DavResponse HandlePatch(const DavRequest& req);
  DavResponse WritePartially(const DavRequest& req, const struct UpdateRange& range);
  // collection_methods.cc
  DavResponse HandleMkcol(const DavRequest& req);
  DavResponse HandleDelete(const DavRequest& req);
  // copy_move.cc
  DavResponse HandleCopy(const DavRequest& req);
  DavResponse HandleMove(const DavRequest& req);
  DavResponse CopyOrMove(const DavRequest& req, bool move);
  // MOVE after its checks: renames, replacing a destination that exists (or stages across
  // devices). nullopt when done; otherwise the answer (an error, or a 207 naming members that
  // failed). `*replaced`: whether the destination was replaced (it may have appeared or gone
  // since the plan).
  std::optional<DavResponse> RunMove(const DavRequest& req, const struct CopyMovePlan& plan,
                                     bool* replaced);
  // A same-device MOVE onto an existing resource: the old one renamed aside, the source renamed
  // in, the old one removed, journaled (OperationJournal::BeginReplace). On error (kCrossDevice
  // when the move must stage) nothing changed.
  storage::Status RenameReplacing(const DavRequest& req, const struct CopyMovePlan& plan);
  // The same-device rename with its property journal; kCrossDevice when the move must stage.
  storage::Status RenameJournaled(const DavRequest& req, const struct CopyMovePlan& plan);
  // A staged (all or nothing) COPY or cross-device MOVE. nullopt when done; otherwise the answer
  // (an error, or for a move a 207 naming source leftovers). `*to_existed`: in, whether the
  // destination existed when planned; out, whether the swap replaced one (StagedTransfer::Run).
  std::optional<DavResponse> RunStaged(const DavRequest& req, bool move,
                                       const storage::ResourcePath& from,
                                       const storage::FileInfo& from_info,
                                       const storage::ResourcePath& to, bool* to_existed,
                                       bool overwrite, Depth depth);
  // propfind.cc / proppatch.cc
  DavResponse HandlePropfind(const DavRequest& req);
  DavResponse HandleProppatch(const DavRequest& req);
  // lock_methods.cc
  DavResponse HandleLock(const DavRequest& req);
  // The two kinds of LOCK (RFC 4918 §9.10): a refresh of the locks the If header names (empty
  // body), and a new lock from a lockinfo body (which creates an empty file on an unmapped URL).
  DavResponse RefreshLocks(const DavRequest& req, const storage::FileInfo* target, int64_t timeout);
  DavResponse CreateLock(const DavRequest& req, const storage::FileInfo* target,
                         bool infinite_depth, int64_t timeout, const std::string& body);
  DavResponse HandleUnlock(const DavRequest& req);
  // Points DAV:lockdiscovery and DAV:supportedlock of a PROPFIND walk from `path` at the locks;
  // fails when the locks cannot be read.
  DavError SetLockSources(const storage::ResourcePath& path, Depth depth, const UrlSpace& space,
                          LiveValueSources* sources) const;

  // The precondition step every modifying method goes through (preconditions.h).
  DavError CheckConditions(const DavRequest& req, const storage::ResourcePath& path,
                           const storage::FileInfo* info,
                           const std::vector<ChangedResource>& changes,
                           std::vector<storage::LockRecord>* seen_below = nullptr) const;
  // The href of a resource in a request's URL space (url_space.h), a stat telling whether it is
  // a collection.
  std::string HrefFor(const UrlSpace& space, const storage::ResourcePath& path) const;
  // Forgets the locks of a tree DELETE or MOVE removed: of the locks its check saw at or below
  // `path` (`seen`, from CheckConditions), all, or after a partial failure those whose root is
  // gone. A lock granted since that check stays, even on a path the request removed: its
  // holder took it after the removal was decided (and can PUT there with it), while removing it
  // would leave a lock-null LOCK's 201 pointing at no lock (multi_load saw it across instances,
  // where a LOCK of the unmapped URL and a failing DELETE there interleaved).
  void ForgetRemovedLocks(const storage::ResourcePath& path, bool all_removed,
                          const std::vector<storage::LockRecord>& seen);
  // After a COPY or MOVE: the destination's old rows go, a MOVE's rows follow it, and the sums
  // `carried` from a file source are stored for the destination (same content, new identity).
  void CarryChecksums(const struct CopyMovePlan& plan, bool move,
                      const storage::Result<storage::FileChecksums>& carried);
  // Removes the files and then the dead properties of a whole tree (DELETE), journaled so that
  // a kill in between leaves no property of a removed member. The status of the files: OK, or
  // an error with member failures in `failures` (a property step that fails is logged and left
  // to start-up recovery).
  storage::Status DeleteResource(const DavRequest& req, const storage::ResourcePath& path,
                                 const storage::FileInfo& info,
                                 std::vector<struct MemberFailure>* failures);

  storage::FileSystem& fs_;
  // The policy in force: read and replaced with std::atomic_load/atomic_store only. Without
  // ReplaceAccessPolicy it does not own what it points to (DavBackends::access or AllowAll).
  std::shared_ptr<const AccessPolicy> access_;
  storage::PropertyStore& props_;
  storage::OperationJournal& journal_;
  // Serialises a same-device MOVE's namespace change (its property move and rename,
  // RenameJournaled, exclusive) against a PROPPATCH's existence check and property write
  // (shared). Without it a PROPPATCH that had found /a/f could write its row after a MOVE of /a
  // to /b had moved /a's rows and renamed the tree: a property on a missing resource, which a
  // new /a/f would then inherit. Now a PROPPATCH either writes before the move (its row moves
  // with the tree) or finds its resource gone (404). Held only around those short steps, never
  // while a body is read or a tree is copied or deleted.
  std::shared_mutex namespace_mutex_;
  // Stored sums while valid, else computed once (storage/checksum_cache.h).
  storage::ChecksumCache checksums_;
  DavSettings settings_;
  // Class 2 locking: the policy over the injected LockStore and Clock. Declared after
  // settings_, which its constructor reads (members are initialised in declaration order).
  LockManager locks_;
};

}  // namespace keepdav::webdav
