#include "storage/postgres/pg_checksum_store.h"

#include <string>
#include <string_view>

#include "storage/checksum_hex.h"
#include "storage/postgres/pg_subtree_range.h"

namespace keepdav::storage {
namespace {

Status DeleteTreeIn(PgConnection& conn, const ResourcePath& path) {
  static const std::string kSql = "DELETE FROM checksums WHERE " + PgSubtree::Where("path");
  SubtreeRange range(path);
  PgParams params;
  return conn.Exec(kSql, PgSubtree::Bind(range, params)).status();
}

}  // namespace

Result<FileChecksums> PgChecksumStore::Get(const ResourcePath& path, const FileIdentity& identity) {
  bool found = false, stale = false;
  FileChecksums sums;
  Status s = db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    Result<PgResult> rows = conn.Exec(
        "SELECT inode, size, mtime_ns, ctime_ns, sha1, md5, sha256 FROM checksums "
        "WHERE path = $1::bytea",
        params.Bytes(path.str()));
    if (!rows.ok()) return rows.status();
    found = rows->rows() > 0;
    if (!found) return Status::Ok();
    FileIdentity stored;
    stored.inode = static_cast<uint64_t>(rows->Int(0, 0));
    stored.size = static_cast<uint64_t>(rows->Int(0, 1));
    stored.mtime_ns = rows->Int(0, 2);
    stored.ctime_ns = rows->Int(0, 3);
    stale = stored != identity;
    sums.sha1 = std::string(rows->Bytes(0, 4));
    sums.md5 = std::string(rows->Bytes(0, 5));
    sums.sha256 = std::string(rows->Bytes(0, 6));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!found) return Status::NotFound("no checksums for " + path.str());
  if (stale) return Status::NotFound("checksums of " + path.str() + " are stale");
  return sums;
}

Status PgChecksumStore::Put(const ResourcePath& path, const FileIdentity& identity,
                            const FileChecksums& sums) {
  Status valid = CheckChecksumsHex(path, sums);
  if (!valid.ok()) return valid;
  return db_.Autocommit([&](PgConnection& conn) -> Status {
    PgParams params;
    params.Bytes(path.str())
        .Int(static_cast<int64_t>(identity.inode))
        .Int(static_cast<int64_t>(identity.size))
        .Int(identity.mtime_ns)
        .Int(identity.ctime_ns)
        .Bytes(sums.sha1)
        .Bytes(sums.md5)
        .Bytes(sums.sha256);
    return conn
        .Exec(
            "INSERT INTO checksums (path, inode, size, mtime_ns, ctime_ns, sha1, md5, sha256) "
            "VALUES ($1::bytea, $2::int8, $3::int8, $4::int8, $5::int8, $6::text, $7::text, "
            "$8::text) ON CONFLICT (path) DO UPDATE SET inode = excluded.inode, "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, "
            "sha1 = excluded.sha1, md5 = excluded.md5, sha256 = excluded.sha256",
            params)
        .status();
  });
}

Status PgChecksumStore::ForEachInMembers(
    const ResourcePath& dir,
    const std::function<void(std::string_view member_path, const FileIdentity& identity,
                             const FileChecksums& sums)>& visit) {
  return db_.Autocommit([&](PgConnection& conn) -> Status {
    // Strictly inside (low, high), the index's range; deeper rows are skipped here, as in
    // SqliteChecksumStore.
    SubtreeRange range(dir);
    PgParams params;
    Result<PgResult> rows = conn.Exec(
        "SELECT path, inode, size, mtime_ns, ctime_ns, sha1, md5, sha256 FROM checksums "
        "WHERE path > $1::bytea AND path < $2::bytea",
        params.Bytes(range.low).Bytes(range.high));
    if (!rows.ok()) return rows.status();
    FileIdentity identity;
    FileChecksums sums;
    for (int i = 0; i < rows->rows(); ++i) {
      std::string_view path = rows->Bytes(i, 0);
      if (path.find('/', range.low.size()) != std::string_view::npos) continue;
      identity.inode = static_cast<uint64_t>(rows->Int(i, 1));
      identity.size = static_cast<uint64_t>(rows->Int(i, 2));
      identity.mtime_ns = rows->Int(i, 3);
      identity.ctime_ns = rows->Int(i, 4);
      sums.sha1.assign(rows->Bytes(i, 5));
      sums.md5.assign(rows->Bytes(i, 6));
      sums.sha256.assign(rows->Bytes(i, 7));
      visit(path, identity, sums);
    }
    return Status::Ok();
  });
}

Status PgChecksumStore::DeleteTree(const ResourcePath& path) {
  return db_.Autocommit([&](PgConnection& conn) { return DeleteTreeIn(conn, path); });
}

Status PgChecksumStore::MoveTree(const ResourcePath& from, const ResourcePath& to) {
  if (from == to) return Status::Ok();
  Status disjoint = CheckDisjointTrees(from, to, "move checksums");
  if (!disjoint.ok()) return disjoint;
  return db_.Transact([&](PgConnection& conn) -> Status {
    Status s = DeleteTreeIn(conn, to);
    if (!s.ok()) return s;
    // Taken out and put back in one statement, as PgPropertyStore::MoveTreeIn does: a sum
    // stored at the destination since the DELETE (a GET asking for a digest) gives way. Either
    // is safe to keep: a sum is used only while the file's identity matches it.
    static const std::string kSql =
        "WITH moved AS (DELETE FROM checksums WHERE " + PgSubtree::Where("path") +
        " RETURNING *) INSERT INTO checksums (path, inode, size, mtime_ns, ctime_ns, sha1, md5, "
        "sha256) SELECT CASE WHEN path = $1::bytea THEN $4::bytea "
        "ELSE $5::bytea || substring(path FROM $6::int4) END, inode, size, mtime_ns, ctime_ns, "
        "sha1, md5, sha256 FROM moved ON CONFLICT (path) DO UPDATE SET inode = excluded.inode, "
        "size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, "
        "sha1 = excluded.sha1, md5 = excluded.md5, sha256 = excluded.sha256";
    SubtreeRange range(from);
    PgParams params;
    PgSubtree::Bind(range, params)
        .Bytes(to.str())
        .Bytes(to.IsRoot() ? std::string_view() : std::string_view(to.str()))
        .Int(from.IsRoot() ? 1 : static_cast<int64_t>(from.str().size()) + 1);
    return conn.Exec(kSql, params).status();
  });
}

}  // namespace keepdav::storage
