// DavHandler: WebDAV class 1 and 2 semantics over a FileSystem, a PropertyStore and locks.
//
// One member function per method (each family in its own .cc file), routed by a method table.
// Each returns a DavError: ok() when it has written the response itself; otherwise Handle()
// writes the error response, once, and logs it. Every modifying method goes through
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
#include <string>
#include <vector>

#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/lock_store.h"
#include "storage/operation_journal.h"
#include "storage/property_store.h"
#include "webdav/dav_error.h"
#include "webdav/dav_request.h"
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
};

class DavHandler {
 public:
  DavHandler(storage::FileSystem& fs, storage::PropertyStore& props,
             storage::OperationJournal& journal, DavSettings settings);

  // Handles one request completely. Never throws; an unexpected exception becomes a 500 (if no
  // response has been sent yet) and a log line.
  void Handle(const DavRequest& req, ResponseSink& sink);

  // The value of the Allow header.
  static const char* AllowedMethods();

 private:
  using Method = DavError (DavHandler::*)(const DavRequest&, ResponseSink&);
  static Method FindMethod(const std::string& name, bool* modifies);

  // dav_handler.cc
  DavError HandleOptions(const DavRequest& req, ResponseSink& sink);
  // file_methods.cc
  DavError HandleGet(const DavRequest& req, ResponseSink& sink);
  DavError HandlePut(const DavRequest& req, ResponseSink& sink);
  // collection_methods.cc
  DavError HandleMkcol(const DavRequest& req, ResponseSink& sink);
  DavError HandleDelete(const DavRequest& req, ResponseSink& sink);
  // copy_move.cc
  DavError HandleCopy(const DavRequest& req, ResponseSink& sink);
  DavError HandleMove(const DavRequest& req, ResponseSink& sink);
  DavError CopyOrMove(const DavRequest& req, ResponseSink& sink, bool move);
  // A staged (all or nothing) COPY or cross-device MOVE; writes a 207 only for source leftovers
  // of a move, otherwise leaves the success response to the caller.
  DavError RunStaged(const DavRequest& req, ResponseSink& sink, bool move,
                     const storage::ResourcePath& from, const storage::FileInfo& from_info,
                     const storage::ResourcePath& to, bool to_existed, int depth);
  // propfind.cc / proppatch.cc
  DavError HandlePropfind(const DavRequest& req, ResponseSink& sink);
  DavError HandleProppatch(const DavRequest& req, ResponseSink& sink);
  // lock_methods.cc
  DavError HandleLock(const DavRequest& req, ResponseSink& sink);
  DavError HandleUnlock(const DavRequest& req, ResponseSink& sink);
  // Points DAV:lockdiscovery and DAV:supportedlock of a PROPFIND walk from `path` at the locks.
  void SetLockSources(const storage::ResourcePath& path, int depth,
                      LiveValueSources* sources) const;

  // Decodes and checks the request-target. 400 for paths that can never be valid, 404 for
  // reserved names.
  DavError ParseTarget(const DavRequest& req, storage::ResourcePath* out) const;
  // Parses the Destination header: an absolute URI naming this server (502 otherwise) or an
  // absolute path.
  DavError ParseDestination(const DavRequest& req, storage::ResourcePath* out) const;
  // The precondition step every modifying method goes through, in this order: If-Match and the
  // other HTTP conditional headers on the target (`info` null when it does not exist; 412); the
  // If header (400 when malformed, 412 when false), with untagged lists evaluated against
  // `path` and tagged ones against their own resource; then lock enforcement for the resources
  // the method changes (423 lock-token-submitted), with every state token in the If header
  // counting as submitted (RFC 4918 §10.4.1).
  DavError CheckConditions(const DavRequest& req, const storage::ResourcePath& path,
                           const storage::FileInfo* info,
                           const std::vector<ChangedResource>& changes) const;
  // The resource a URL in a request header names (an If header's Resource-Tag): nullopt when it
  // names another server or no possible resource.
  std::optional<storage::ResourcePath> ResolveUrl(const DavRequest& req,
                                                  const std::string& url) const;
  // The href of a resource: percent-encoded, with a trailing slash for a collection.
  std::string HrefFor(const storage::ResourcePath& path) const;
  // Forgets the locks of a tree DELETE or MOVE removed: all of them, or after a partial failure
  // those whose root is gone.
  void ForgetRemovedLocks(const storage::ResourcePath& path, bool all_removed);
  // Removes the dead properties and the files of a whole tree (DELETE, and an overwritten
  // destination). OK, or an error; member failures go to `failures`.
  storage::Status DeleteResource(const DavRequest& req, const storage::ResourcePath& path,
                                 const storage::FileInfo& info,
                                 std::vector<struct MemberFailure>* failures);
  // Writes a 207 listing member failures.
  void WriteFailures(ResponseSink& sink, const std::vector<struct MemberFailure>& failures) const;
  void WriteError(const DavRequest& req, ResponseSink& sink, const DavError& err) const;

  storage::FileSystem& fs_;
  storage::PropertyStore& props_;
  storage::OperationJournal& journal_;
  DavSettings settings_;
  // Class 2 locking, persisted in the properties' database. Initialised here rather than in the
  // constructor's list because they depend on props_ and settings_, declared above (members are
  // initialised in declaration order).
  storage::SystemClock clock_;
  storage::LockStore lock_store_{props_.database()};
  LockManager locks_{lock_store_, clock_, settings_.locks,
                     [this](const storage::ResourcePath& p) { return HrefFor(p); }};
};

// Parses a Depth header value: "0", "1", "infinity" (TreeWalker::kInfinity). `fallback` when the
// header is absent. False when invalid.
bool ParseDepth(const DavRequest& req, int fallback, int* depth);

}  // namespace keepdav::webdav
