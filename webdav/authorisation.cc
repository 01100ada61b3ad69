#include "webdav/authorisation.h"

namespace keepdav::webdav {

using storage::ResourcePath;

namespace {

DavError Refuse(const DavRequest& req, Access needed, const ResourcePath& view) {
  if (req.user.empty()) {
    return DavError::Make(
        401, "authentication required to " + std::string(AccessName(needed)) + " " + view.str());
  }
  return DavError::Make(
      403, "user " + req.user + " has no " + AccessName(needed) + " access to " + view.str());
}

// `whole_tree`: the access must hold everywhere below `path` too.
DavError Need(const AccessPolicy& policy, const DavRequest& req, const ResourcePath& path,
              Access needed, bool whole_tree) {
  ResourcePath view = req.space.ViewPath(path);
  Access has = policy.AccessTo(req.user, view);
  if (has < needed) return Refuse(req, needed, view);
  if (whole_tree && policy.LeastWithin(req.user, view) < needed) {
    DavError e = Refuse(req, needed, view);
    e.message += " and everything below it";
    return e;
  }
  return DavError::Ok();
}

}  // namespace

DavError Authorise(const AccessPolicy& policy, const DavRequest& req) {
  const std::string& m = req.method;
  if (m == "OPTIONS") return DavError::Ok();
  const bool move = m == "MOVE";
  if ((m == "DELETE" || move) && req.space.IsViewRoot(req.path) && !req.space.root.IsRoot()) {
    return DavError::Make(
        403, "your root collection cannot be " + std::string(move ? "moved" : "deleted"));
  }
  if (policy.allows_everything()) return DavError::Ok();
  if (m == "GET" || m == "HEAD" || m == "PROPFIND") {
    return Need(policy, req, req.path, Access::kRead, false);
  }
  if (m == "COPY" || move) {
    DavError e = move ? Need(policy, req, req.path, Access::kWrite, true)
                      : Need(policy, req, req.path, Access::kRead,
                             req.depth.Or(Depth::kInfinity) != Depth::kZero);
    if (!e.ok() || !req.destination) return e;
    return Need(policy, req, *req.destination, Access::kWrite, true);
  }
  if (m == "DELETE") return Need(policy, req, req.path, Access::kWrite, true);
  if (m == "LOCK") {
    return Need(policy, req, req.path, Access::kWrite,
                req.depth.Or(Depth::kInfinity) == Depth::kInfinity);
  }
  // PUT, PATCH, MKCOL, PROPPATCH, UNLOCK and anything else the method table adds.
  return Need(policy, req, req.path, Access::kWrite, false);
}

bool ListingNeedsFilter(const AccessPolicy& policy, const DavRequest& req,
                        const ResourcePath& dir) {
  if (policy.allows_everything()) return false;
  return policy.LeastWithin(req.user, req.space.ViewPath(dir)) < Access::kRead;
}

bool MayRead(const AccessPolicy& policy, const DavRequest& req, const ResourcePath& p) {
  return policy.AccessTo(req.user, req.space.ViewPath(p)) >= Access::kRead;
}

bool MayWrite(const AccessPolicy& policy, const DavRequest& req, const ResourcePath& p) {
  return policy.AccessTo(req.user, req.space.ViewPath(p)) >= Access::kWrite;
}

}  // namespace keepdav::webdav
