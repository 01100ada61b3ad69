// Authorisation: whether a resolved request may run, under an AccessPolicy (access_policy.h).
// DavHandler calls it once per request, after the request-target and Destination are resolved
// (request_target.h) and before the method runs.
//
// What each method needs, on paths in the user's view (RFC 4918 methods, issue 11):
//   OPTIONS                          nothing: never refused (Windows' mini-redirector and CORS
//                                    preflights send it without credentials);
//   GET, HEAD, PROPFIND              read on the target (listings hide what is not readable);
//   PUT, PATCH, MKCOL, PROPPATCH,
//   LOCK, UNLOCK                     write on the target; a LOCK of depth infinity write on the
//                                    whole tree it locks;
//   DELETE                           write on the whole tree;
//   COPY                             read on the source (its whole tree at Depth infinity),
//                                    write on the whole destination tree;
//   MOVE                             write on the whole source and destination trees.
// The user's own root cannot be deleted or moved (403), as --root itself cannot.
//
// Refusals: 401 for an anonymous request (the server adds the Basic challenge), 403 with a short
// body naming the path and the access missing for an authenticated user. Thread-safe.
#pragma once

#include "webdav/access_policy.h"
#include "webdav/dav_error.h"
#include "webdav/dav_request.h"

namespace keepdav::webdav {

// REQUIRES: `req` resolved (path, destination, depth and space set).
DavError Authorise(const AccessPolicy& policy, const DavRequest& req);

// True when a listing (PROPFIND, the HTML page) of `dir` must check each member: some path below
// it is not readable for the request's user.
bool ListingNeedsFilter(const AccessPolicy& policy, const DavRequest& req,
                        const storage::ResourcePath& dir);
// True when the request's user may read `p` (a storage path inside the user's root).
bool MayRead(const AccessPolicy& policy, const DavRequest& req, const storage::ResourcePath& p);
// The same for writing (the browser page offers its actions only then).
bool MayWrite(const AccessPolicy& policy, const DavRequest& req, const storage::ResourcePath& p);

}  // namespace keepdav::webdav
