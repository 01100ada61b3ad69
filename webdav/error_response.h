// Error responses: how a DavError and the member failures of a tree operation are written.
//
// WriteErrorResponse: the status; "Allow" for 405 and 501; no body for HEAD and 304; a DAV:error
// body (application/xml) when the error names a precondition (RFC 4918 §16), else a one-line
// text/plain body "<status> <reason>: <message>". WriteMemberFailures: a 207 with one
// <D:response> per member that failed, its status mapped once by DavError::HttpStatusFor.
// REQUIRES: nothing was sent on `sink` yet. Stateless; thread-safe.
#pragma once

#include <vector>

#include "webdav/dav_error.h"
#include "webdav/dav_request.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

void WriteErrorResponse(const DavRequest& req, ResponseSink& sink, const DavError& err);
void WriteMemberFailures(ResponseSink& sink, const std::vector<MemberFailure>& failures);

}  // namespace keepdav::webdav
