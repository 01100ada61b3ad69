// PgSubtree: the SQL of a subtree range (storage/subtree_range.h: a path and everything below
// it) over a bytea path column, and the helpers the PostgreSQL stores share for binding paths
// and reading rows.
//
// bytea compares bytewise, as SQLite's BINARY collation does, so SubtreeRange's bounds serve
// a btree index on the column as they do in SQLite (no COLLATE "C" needed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/resource_path.h"
#include "storage/subtree_range.h"

namespace keepdav::storage {

struct PgSubtree {
  // "(column = $1::bytea OR (column >= $2::bytea AND column < $3::bytea))".
  static std::string Where(std::string_view column) {
    return SubtreeRange::Where(column, "$1::bytea", "$2::bytea", "$3::bytea");
  }
  // Adds $1, $2, $3 for `range` (whose strings must outlive the statement).
  static PgParams& Bind(const SubtreeRange& range, PgParams& params) {
    return params.Bytes(range.self).Bytes(range.low).Bytes(range.high);
  }
};

// `path` and its ancestors, root first: the roots whose locks may cover it.
inline std::vector<std::string> PathAndAncestors(const ResourcePath& path) {
  std::vector<std::string> chain;
  for (ResourcePath p = path;; p = p.Parent()) {
    chain.push_back(p.str());
    if (p.IsRoot()) break;
  }
  return std::vector<std::string>(chain.rbegin(), chain.rend());
}

// A PostgreSQL array literal of bytea values ({"\\x2f61",...}), for `= ANY($n::bytea[])`.
inline std::string ByteaArrayLiteral(const std::vector<std::string>& values) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += "\"\\\\x";  // the element's text is \x..., its backslash escaped inside quotes
    for (unsigned char c : values[i]) {
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace keepdav::storage
