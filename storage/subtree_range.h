// SubtreeRange: the key range of a path and everything below it, for indexed SQL range scans.
// The one builder used by every store that acts on a subtree (properties, locks, checksums),
// whatever its database: storage/sqlite/sqlite_subtree_range.h and
// storage/postgres/pg_subtree_range.h turn it into each one's SQL and parameters.
//
// The subtree of P is P itself plus every path in [P + "/", P + "0"): '0' is the byte after '/',
// so the range holds exactly the paths that continue P with a slash, "/a/b" but not "/ab", and a
// primary key or index on the path column can serve it. For the root every path lies in
// ["/", "0"). Paths must compare bytewise (SQLite's BINARY collation and PostgreSQL's bytea do,
// like std::string; a PostgreSQL text column would need COLLATE "C" for the same ranges).
//
// Value type; thread-compatible. CheckDisjointTrees is a pure function.
#pragma once

#include <string>
#include <string_view>

#include "storage/resource_path.h"
#include "storage/status.h"

namespace keepdav::storage {

struct SubtreeRange {
  explicit SubtreeRange(const ResourcePath& p)
      : self(p.str()),
        low(p.IsRoot() ? "/" : p.str() + "/"),
        high(p.IsRoot() ? "0" : p.str() + "0") {}

  // "(column = S OR (column >= L AND column < H))": true for the rows of the subtree, S, L and
  // H being a database's placeholders for self, low and high.
  static std::string Where(std::string_view column, std::string_view self_param,
                           std::string_view low_param, std::string_view high_param) {
    std::string c(column);
    return "(" + c + " = " + std::string(self_param) + " OR (" + c +
           " >= " + std::string(low_param) + " AND " + c + " < " + std::string(high_param) + "))";
  }

  std::string self;  // P itself
  std::string low;   // the first path strictly below P (inclusive bound)
  std::string high;  // the first path after P's subtree (exclusive bound)
};

// kInvalidArgument "<op> <from> to <to>: source and destination overlap" when one tree holds
// the other, else Ok. A store's tree copy and move delete the destination's subtree first and
// would lose data on overlapping trees; WebDAV refuses COPY and MOVE onto an ancestor or
// descendant anyway (RFC 4918 §9.8.5, §9.9.4: 403).
inline Status CheckDisjointTrees(const ResourcePath& from, const ResourcePath& to, const char* op) {
  if (from.Contains(to) || to.Contains(from)) {
    return Status::InvalidArgument(std::string(op) + " " + from.str() + " to " + to.str() +
                                   ": source and destination overlap");
  }
  return Status::Ok();
}

}  // namespace keepdav::storage
