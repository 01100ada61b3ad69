#include "storage/sqlite/sqlite_checksum_store.h"

#include <string>
#include <string_view>

#include "storage/checksum_hex.h"
#include "storage/sqlite/sqlite_subtree_range.h"

namespace keepdav::storage {

Result<FileChecksums> SqliteChecksumStore::Get(const ResourcePath& path,
                                               const FileIdentity& identity) {
  auto lock = db_.Lock();
  Result<Statement> st = db_.Prepare(
      "SELECT inode, size, mtime_ns, ctime_ns, sha1, md5, sha256 FROM checksums WHERE path = ?1");
  if (!st.ok()) return st.status();
  st->BindText(1, path.str());
  if (!st->Step()) {
    if (!st->status().ok()) return st->status();
    return Status::NotFound("no checksums for " + path.str());
  }
  FileIdentity stored;
  stored.inode = static_cast<uint64_t>(st->ColumnInt(0));
  stored.size = static_cast<uint64_t>(st->ColumnInt(1));
  stored.mtime_ns = st->ColumnInt(2);
  stored.ctime_ns = st->ColumnInt(3);
  if (stored != identity) return Status::NotFound("checksums of " + path.str() + " are stale");
  FileChecksums sums;
  sums.sha1 = std::string(st->ColumnText(4));
  sums.md5 = std::string(st->ColumnText(5));
  sums.sha256 = std::string(st->ColumnText(6));
  return sums;
}

Status SqliteChecksumStore::Put(const ResourcePath& path, const FileIdentity& identity,
                                const FileChecksums& sums) {
  Status valid = CheckChecksumsHex(path, sums);
  if (!valid.ok()) return valid;
  auto lock = db_.Lock();
  Result<Statement> st = db_.Prepare(
      "INSERT OR REPLACE INTO checksums (path, inode, size, mtime_ns, ctime_ns, sha1, md5, "
      "sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st.ok()) return st.status();
  st->BindText(1, path.str())
      .BindInt(2, static_cast<int64_t>(identity.inode))
      .BindInt(3, static_cast<int64_t>(identity.size))
      .BindInt(4, identity.mtime_ns)
      .BindInt(5, identity.ctime_ns)
      .BindText(6, sums.sha1)
      .BindText(7, sums.md5)
      .BindText(8, sums.sha256);
  return st->Run();
}

Status SqliteChecksumStore::ForEachInMembers(
    const ResourcePath& dir,
    const std::function<void(std::string_view member_path, const FileIdentity& identity,
                             const FileChecksums& sums)>& visit) {
  auto lock = db_.Lock();
  // Strictly inside (low, high), the index's range; a deeper row (a '/' after the prefix) is
  // skipped here rather than by an SQL function per row, which cost half the query's time.
  Result<Statement> st = db_.Prepare(
      "SELECT path, inode, size, mtime_ns, ctime_ns, sha1, md5, sha256 FROM checksums "
      "WHERE path > ?1 AND path < ?2");
  if (!st.ok()) return st.status();
  SubtreeRange range(dir);
  st->BindText(1, range.low).BindText(2, range.high);
  FileIdentity identity;
  FileChecksums sums;
  while (st->Step()) {
    std::string_view path = st->ColumnText(0);
    if (path.find('/', range.low.size()) != std::string_view::npos) continue;
    identity.inode = static_cast<uint64_t>(st->ColumnInt(1));
    identity.size = static_cast<uint64_t>(st->ColumnInt(2));
    identity.mtime_ns = st->ColumnInt(3);
    identity.ctime_ns = st->ColumnInt(4);
    // assign() keeps the strings' buffers from row to row.
    sums.sha1.assign(st->ColumnText(5));
    sums.md5.assign(st->ColumnText(6));
    sums.sha256.assign(st->ColumnText(7));
    visit(path, identity, sums);
  }
  return st->status();
}

Status SqliteChecksumStore::DeleteTreeLocked(const ResourcePath& path) {
  static const std::string kSql = "DELETE FROM checksums WHERE " + SqliteSubtree::Where("path");
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  SqliteSubtree::Bind(SubtreeRange(path), *st);
  return st->Run();
}

Status SqliteChecksumStore::DeleteTree(const ResourcePath& path) {
  auto lock = db_.Lock();
  return DeleteTreeLocked(path);
}

Status SqliteChecksumStore::MoveTree(const ResourcePath& from, const ResourcePath& to) {
  if (from == to) return Status::Ok();
  Status disjoint = CheckDisjointTrees(from, to, "move checksums");
  if (!disjoint.ok()) return disjoint;
  auto lock = db_.Lock();
  Database::Transaction tx(db_);
  if (!tx.begin_status().ok()) return tx.begin_status();
  Status s = DeleteTreeLocked(to);
  if (!s.ok()) return s;
  // As in SqlitePropertyStore::CopyTreeLocked: `to` for `from` itself, else `to` followed by the
  // rest of the old path, cut by bytes. ?4 = `to`, ?5 = `to` as a prefix ("" for the root),
  // ?6 = 1-based byte where the rest starts.
  static const std::string kSql =
      "UPDATE checksums SET path = CASE WHEN path = ?1 THEN ?4 "
      "ELSE ?5 || substr(CAST(path AS BLOB), ?6) END WHERE " +
      SqliteSubtree::Where("path");
  Result<Statement> st = db_.Prepare(kSql);
  if (!st.ok()) return st.status();
  SqliteSubtree::Bind(SubtreeRange(from), *st);
  st->BindText(4, to.str())
      .BindText(5, to.IsRoot() ? std::string_view() : std::string_view(to.str()))
      .BindInt(6, from.IsRoot() ? 1 : static_cast<int64_t>(from.str().size()) + 1);
  s = st->Run();
  if (!s.ok()) return s;
  return tx.Commit();
}

}  // namespace keepdav::storage
