// SubtreeRange: the key range of a path and everything below it, for indexed SQL range scans.
// The one builder used by every SQLite store that acts on a subtree (properties, locks,
// checksums).
//
// The subtree of P is P itself plus every path in [P + "/", P + "0"): '0' is the byte after '/',
// so the range holds exactly the paths that continue P with a slash, "/a/b" but not "/ab", and a
// primary key or index on the path column can serve it. For the root every path lies in
// ["/", "0"). Paths must compare bytewise (SQLite's BINARY collation, like std::string; a
// PostgreSQL port needs COLLATE "C" for the same ranges).
//
// Value type; thread-compatible.
#pragma once

#include <string>
#include <string_view>

#include "storage/database.h"
#include "storage/resource_path.h"

namespace keepdav::storage {

struct SubtreeRange {
  explicit SubtreeRange(const ResourcePath& p)
      : self(p.str()),
        low(p.IsRoot() ? "/" : p.str() + "/"),
        high(p.IsRoot() ? "0" : p.str() + "0") {}

  // "(column = ?1 OR (column >= ?2 AND column < ?3))": true for the rows of the subtree, with
  // parameters bound by Bind().
  static std::string Where(std::string_view column) {
    std::string c(column);
    return "(" + c + " = ?1 OR (" + c + " >= ?2 AND " + c + " < ?3))";
  }
  // Binds ?1 = self, ?2 = low, ?3 = high.
  void Bind(Statement& st) const { st.BindText(1, self).BindText(2, low).BindText(3, high); }

  std::string self;  // P itself
  std::string low;   // the first path strictly below P (inclusive bound)
  std::string high;  // the first path after P's subtree (exclusive bound)
};

}  // namespace keepdav::storage
