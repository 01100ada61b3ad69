// Error responses: the body of a DavError and the 207 of a tree operation's member failures.
//
// ErrorResponse: the status; "Allow" for 405 and 501; a DAV:error body (application/xml) when the
// error names a precondition (RFC 4918 §16), else a one-line text/plain body
// "<status> <reason>: <message>". Only what the client needs goes in: the status, the short
// reason in `message` and the precondition; DavError::detail (file-system detail such as a
// syscall and its errno) goes to the log only (DavHandler::Handle). MemberFailuresResponse: a 207
// with one <D:response> per member that failed, its status mapped once by
// DavError::HttpStatusFor. Stateless; thread-safe.
#pragma once

#include <vector>

#include "webdav/dav_error.h"
#include "webdav/dav_response.h"
#include "webdav/tree_walker.h"
#include "webdav/url_space.h"

namespace keepdav::webdav {

// REQUIRES: !err.ok().
DavResponse ErrorResponse(const DavError& err);
DavResponse MemberFailuresResponse(std::vector<MemberFailure> failures, const UrlSpace& space);

}  // namespace keepdav::webdav
