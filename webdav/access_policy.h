// AccessPolicy: who may read and write what (issue 11), evaluated from AccessRules
// (access_rules.h) or one of the two built-in policies.
//
//   AllowAll():               no --users, no --access: everyone may do everything (keepdav's
//                             behaviour without authentication).
//   AuthenticatedUsersOnly(): --users without --access: every authenticated user may write
//                             everywhere from "/", anonymous requests may do nothing (OPTIONS is
//                             never refused, see authorisation.h).
//   FromRules(rules):         --access=FILE. A user's rules are [authenticated]'s with the
//                             user's own replacing them path by path; their root is their own,
//                             else [authenticated]'s, else "/". Anonymous ("") has [anonymous].
//                             A user without a [user] section gets [authenticated].
//
// Paths given to AccessTo and LeastWithin are in the user's view ("/" = RootOf(user)).
// Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "storage/resource_path.h"
#include "webdav/access_rules.h"

namespace keepdav::webdav {

class AccessPolicy {
 public:
  static AccessPolicy AllowAll();
  static AccessPolicy AuthenticatedUsersOnly();
  static AccessPolicy FromRules(const AccessRules& rules);

  // True for AllowAll(): every check passes, every root is "/".
  bool allows_everything() const { return allow_all_; }

  // The folder inside --root that `user` ("" = anonymous) sees as "/".
  const storage::ResourcePath& RootOf(const std::string& user) const;
  // Every root a rule names, for the server to check at start-up that they are folders.
  std::vector<std::pair<std::string, storage::ResourcePath>> Roots() const;

  // The access of `user` to `path`: the most specific rule covering it, kNone when none does.
  Access AccessTo(const std::string& user, const storage::ResourcePath& path) const;
  // The least access `user` has to `path` or anything below it (tree operations: DELETE, MOVE,
  // COPY of a collection, and whether a listing must be filtered).
  Access LeastWithin(const std::string& user, const storage::ResourcePath& path) const;

 private:
  struct Principal {
    storage::ResourcePath root;
    std::vector<AccessRule> rules;
  };
  static Principal Merge(const AccessSection& defaults, const AccessSection* own);
  const Principal& For(const std::string& user) const;

  bool allow_all_ = false;
  Principal anonymous_;
  Principal authenticated_;
  std::unordered_map<std::string, Principal> users_;
};

}  // namespace keepdav::webdav
