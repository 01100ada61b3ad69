// Access rules: the file of --access=FILE, parsed into plain data (AccessPolicy evaluates it).
//
// The format, one directive a line; blank lines and lines whose first non-blank character is
// '#' are ignored (a '#' later in a line belongs to the path: names may contain it):
//
//   [authenticated]          # defaults for every authenticated user
//   write /
//   none  /private           # every user's own /private
//
//   [anonymous]              # requests without credentials
//   read  /public
//
//   [user alice]             # one user: adds to [authenticated], path by path
//   root  /home/alice        # the folder inside --root that alice sees as "/"
//   read  /archive           # alice's /archive, i.e. --root/home/alice/archive
//
// Directives: `read PATH`, `write PATH`, `none PATH` (an access rule) and `root PATH` (the
// section's root; [authenticated]'s is the default of every user, else "/"). Everything after
// the keyword and its blanks is the path: decoded (no %-escapes), absolute, without "..".
// A path is bytes, like the request names it is matched against (issue 12): a name that is not
// UTF-8 is written as its raw bytes. Blanks, tabs and CRs at the end of a line are dropped, so a
// name that ends in one is written with a trailing '/' ("none /notes /" is the folder "notes "),
// which is how AccessPathText writes it.
//
// The rules are designed against the mistakes users of other servers made:
//   - a [user] section MERGES with [authenticated]: its rule for a path replaces the default rule
//     for that same path, and the other defaults stay (hacdias/webdav#198);
//   - every path is in the user's view: "/" is the user's root, never --root (hacdias/webdav#223);
//   - the most specific rule wins, by whole segments ("/a" covers "/a/b", not "/ab");
//   - `write` implies `read`; `none` carves a subtree out of a readable one, and what a user
//     cannot read is not listed either;
//   - no rule covering a path means no access; [anonymous] inherits nothing.
// A file that is not exactly this is refused with "FILE:LINE: reason": an unknown keyword or
// section, a rule before any section, a repeated section, root or path, a bad path.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::webdav {

// Ordered: kWrite includes kRead.
enum class Access : uint8_t { kNone = 0, kRead = 1, kWrite = 2 };

const char* AccessName(Access access);

struct AccessRule {
  storage::ResourcePath path;  // in the user's view
  Access access = Access::kNone;
  int line = 0;
};

struct AccessSection {
  std::optional<storage::ResourcePath> root;  // inside --root
  std::vector<AccessRule> rules;              // in file order, no path twice
  int line = 0;                               // of the section's [header]; 0: none in the file
};

struct AccessRules {
  AccessSection authenticated;
  AccessSection anonymous;
  std::map<std::string, AccessSection> users;
};

// `path` as a rules file writes it, so that the parser reads back exactly `path`: its bytes, and
// a trailing '/' when the last one is a blank, tab or CR (which the end of a line would lose).
std::string AccessPathText(const storage::ResourcePath& path);

// Parses `text`; `file_name` prefixes every error ("FILE:LINE: ..."). kInvalidArgument on error.
storage::Status ParseAccessRules(std::string_view text, const std::string& file_name,
                                 AccessRules* out);

// Reads and parses `file` (at most kMaxAccessFileBytes). kInvalidArgument when it cannot be read
// or is not valid.
storage::Status LoadAccessRules(const std::string& file, AccessRules* out);
inline constexpr uint64_t kMaxAccessFileBytes = 4 << 20;

}  // namespace keepdav::webdav
