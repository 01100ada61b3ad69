// A collection named without its trailing slash (RFC 4918 §5.2, RFC 9110 §15.4.2).
//
// GET and HEAD of "/up" answer 301 with "Location: /up/" (the query kept), as Apache (mod_dir's
// DirectorySlash), nginx and lighttpd do: a browser then resolves the page's relative links
// against the folder, and a client that tells folders from files by HEAD (lftp: "cd up; put f"
// wrote /f) learns it is a folder. Apache and nginx send an absolute URI built from Host;
// RFC 9110 §10.2.2 allows any URI-reference, and an absolute path stays right behind a reverse
// proxy that rewrites scheme or port (nginx's "absolute_redirect off" exists for that). Every
// other method acts on the collection and names it in Content-Location: a 301 to PROPFIND breaks
// Joplin and Seedvault. Pure functions of the request; thread-safe.
#pragma once

#include <string>

#include "webdav/dav_request.h"
#include "webdav/dav_response.h"

namespace keepdav::webdav {

// True when the request-target's path (of an origin-form or absolute-form target) does not end
// in "/" and names something other than the root.
bool NamedWithoutSlash(const DavRequest& req);

// The 301 to the collection's URL with its slash: req.path's href, then the target's query.
DavResponse RedirectToCollection(const DavRequest& req);

// Adds "Content-Location: <href with slash>" to `response` when `is_collection` and the target
// was named without its slash; otherwise leaves it.
void AddCollectionLocation(const DavRequest& req, bool is_collection, DavResponse* response);

}  // namespace keepdav::webdav
