// ResourcePath: the only way to name a resource below the served root.
//
// A ResourcePath is a normalised, already percent-decoded path: it starts with "/", has no empty,
// "." or ".." segments, no NUL and no backslash, no trailing slash (except the root "/"), and no
// segment that is reserved for keepdav's own bookkeeping (names starting with ".keepdav-").
// Because of this, joining it below the root can never name anything outside the root
// lexically; symlinks are handled by the file system (PosixFileSystem never follows them).
//
// Value type; thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace keepdav::storage {

class ResourcePath {
 public:
  // The root "/".
  ResourcePath() : path_("/") {}

  // Parses a decoded path such as "/a/b/" or "a//b". Repeated and trailing slashes are folded.
  // Errors: kInvalidPath for ".", "..", NUL, backslash, or a segment longer than 255 bytes;
  // kNotFound for a reserved segment (so keepdav's own names behave as if they did not exist).
  static Result<ResourcePath> Parse(std::string_view decoded);

  // True when `name` is usable as one path segment (see above); reserved names are not.
  static bool IsValidSegment(std::string_view name);
  // True for names keepdav uses for its own files (temporary, staging, trash).
  static bool IsReservedName(std::string_view name);
  // The prefix of every reserved name.
  static constexpr std::string_view kReservedPrefix = ".keepdav-";

  bool IsRoot() const { return path_.size() == 1; }
  // "/" or "/a/b".
  const std::string& str() const { return path_; }
  // The path relative to the root, for *at() calls: "." for the root, else "a/b".
  std::string Relative() const { return IsRoot() ? std::string(".") : path_.substr(1); }
  // REQUIRES: !IsRoot().
  ResourcePath Parent() const;
  // The last segment; "" for the root.
  std::string_view Name() const;
  // REQUIRES: IsValidSegment(name).
  ResourcePath Child(std::string_view name) const;
  // A path for keepdav's own bookkeeping (staging and trash trees) below this one.
  // REQUIRES: IsReservedName(name) and name is otherwise a well-formed segment. Such paths are
  // never produced by Parse, so clients cannot name them.
  ResourcePath InternalChild(std::string_view reserved_name) const;
  // True when `other` is this path or lies below it.
  bool Contains(const ResourcePath& other) const;
  // REQUIRES: Contains(other). The path `other` would have if `this` were renamed to `to`.
  ResourcePath Rebase(const ResourcePath& other, const ResourcePath& to) const;
  // Number of segments (0 for the root). Not a WebDAV Depth: see webdav/depth.h.
  size_t SegmentCount() const;
  std::vector<std::string_view> Segments() const;

  bool operator==(const ResourcePath& o) const { return path_ == o.path_; }
  bool operator!=(const ResourcePath& o) const { return path_ != o.path_; }
  bool operator<(const ResourcePath& o) const { return path_ < o.path_; }

 private:
  explicit ResourcePath(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

}  // namespace keepdav::storage
