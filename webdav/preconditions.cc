#include "webdav/preconditions.h"

#include <Poco/Logger.h>

#include "webdav/conditional.h"
#include "webdav/if_header.h"
#include "webdav/request_target.h"

namespace keepdav::webdav {

using storage::FileInfo;
using storage::ResourcePath;

namespace {

// What the If header can see of `p`: existence, ETag and the tokens of the locks covering it.
// When the locks cannot be read, `*error` says why: the header is then not evaluated at all (a
// lock holder's token would look absent, and its request fail with 412 instead of 503).
IfResourceState StateOf(const ResourcePath& p, const ResourcePath& target, const FileInfo* info,
                        storage::FileSystem& fs, const LockManager& locks, storage::Status* error) {
  IfResourceState state;
  if (p == target && info) {
    state.exists = true;
    state.etag = ETagFor(*info);
  } else if (p != target) {
    auto st = fs.Stat(p);
    state.exists = st.ok();
    if (st.ok()) state.etag = ETagFor(st.value());
  }
  auto covering = locks.Covering(p);
  if (covering.ok()) {
    for (const storage::LockRecord& l : covering.value()) state.lock_tokens.push_back(l.token);
  } else {
    Poco::Logger::get("keepdav.dav")
        .warning("If header: locks of %s unavailable: %s", p.str(), covering.status().message());
    if (error->ok()) *error = covering.status();
  }
  return state;
}

}  // namespace

DavError CheckPreconditions(const DavRequest& req, const ResourcePath& path, const FileInfo* info,
                            const std::vector<ChangedResource>& changes, storage::FileSystem& fs,
                            const LockManager& locks,
                            std::vector<storage::LockRecord>* seen_below) {
  if (EvaluateConditionalHeaders(req, info, /*read_method=*/false) != Condition::kProceed) {
    return DavError::Make(412, "a conditional header did not match");
  }
  IfHeader if_header;
  if (const std::string* value = req.Header("If")) {
    std::string error;
    if (!ParseIfHeader(*value, &if_header, &error)) {
      return DavError::Make(400, "malformed If header: " + error);
    }
    auto resolve = [&](const std::string& tag) { return ResolveHeaderUrl(req, tag); };
    storage::Status lookup_error;
    auto lookup = [&](const ResourcePath& p) {
      return StateOf(p, path, info, fs, locks, &lookup_error);
    };
    bool matched = EvaluateIfHeader(if_header, path, resolve, lookup);
    if (!lookup_error.ok()) return DavError::FromStorage(lookup_error);
    if (!matched) return DavError::Make(412, "the If header did not match");
  }
  // RFC 4918 §6.4: a token submitted by another user than the lock's own is refused, whatever
  // the If header would otherwise have allowed.
  const std::vector<std::string> tokens = if_header.StateTokens();
  DavError owner = locks.CheckPrincipal(tokens, req.user);
  if (!owner.ok()) return owner;
  if (changes.empty()) return DavError::Ok();
  return locks.CheckSubmitted(changes, tokens, req.space, seen_below);
}

}  // namespace keepdav::webdav
