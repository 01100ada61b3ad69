// SqliteSubtree: the SQL of a subtree range (storage/subtree_range.h: a path and everything
// below it) over a TEXT path column of SQLite, and its parameters. The PostgreSQL stores have
// the same in storage/postgres/pg_subtree_range.h.
//
// Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "storage/database.h"
#include "storage/subtree_range.h"

namespace keepdav::storage {

struct SqliteSubtree {
  // "(column = ?1 OR (column >= ?2 AND column < ?3))": true for the rows of the subtree, with
  // parameters bound by Bind().
  static std::string Where(std::string_view column) {
    return SubtreeRange::Where(column, "?1", "?2", "?3");
  }
  // Binds ?1 = self, ?2 = low, ?3 = high of `range` (whose strings must outlive the step).
  static void Bind(const SubtreeRange& range, Statement& st) {
    st.BindText(1, range.self).BindText(2, range.low).BindText(3, range.high);
  }
};

}  // namespace keepdav::storage
