#include "storage/resource_path.h"

#include <cassert>
#include <cctype>

namespace keepdav::storage {
namespace {

// NAME_MAX on Linux; a longer segment can never name a file, so it is rejected up front.
constexpr size_t kMaxSegmentBytes = 255;

// True when `name` can be one segment, ignoring reservation: reserved names are checked
// separately because they are reported as kNotFound rather than kInvalidPath.
bool IsWellFormedSegment(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  if (name.size() > kMaxSegmentBytes) return false;
  for (char c : name) {
    if (c == '\0' || c == '\\' || c == '/') return false;
  }
  return true;
}

}  // namespace

bool ResourcePath::IsReservedName(std::string_view name) {
  // Compared without regard to ASCII case: on a case-insensitive file system (a vfat or SMB
  // mount) ".KEEPDAV-TMP-x" would otherwise reach keepdav's temporary files.
  if (name.size() < kReservedPrefix.size()) return false;
  for (size_t i = 0; i < kReservedPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != kReservedPrefix[i]) return false;
  }
  return true;
}

bool ResourcePath::IsValidSegment(std::string_view name) {
  return IsWellFormedSegment(name) && !IsReservedName(name);
}

Result<ResourcePath> ResourcePath::Parse(std::string_view decoded) {
  std::string out;
  out.reserve(decoded.size() + 1);
  bool reserved = false;
  size_t pos = 0;
  while (pos <= decoded.size()) {
    size_t slash = decoded.find('/', pos);
    if (slash == std::string_view::npos) slash = decoded.size();
    std::string_view segment = decoded.substr(pos, slash - pos);
    pos = slash + 1;
    if (segment.empty()) continue;  // repeated, leading or trailing slash
    if (!IsWellFormedSegment(segment)) {
      // Checked for every segment before reporting a reserved one, so "/.keepdav-x/.." is an
      // invalid path (400) rather than a missing one.
      return Status::InvalidPath("invalid path segment in \"" + std::string(decoded) + "\"");
    }
    if (IsReservedName(segment)) reserved = true;
    out += '/';
    out.append(segment);
  }
  if (reserved) return Status::NotFound("reserved name in \"" + std::string(decoded) + "\"");
  if (out.empty()) out = "/";
  return ResourcePath(std::move(out));
}

ResourcePath ResourcePath::Parent() const {
  assert(!IsRoot());
  size_t slash = path_.rfind('/');
  if (slash == 0) return ResourcePath();
  return ResourcePath(path_.substr(0, slash));
}

std::string_view ResourcePath::Name() const {
  if (IsRoot()) return std::string_view();
  return std::string_view(path_).substr(path_.rfind('/') + 1);
}

ResourcePath ResourcePath::InternalChild(std::string_view reserved_name) const {
  assert(IsWellFormedSegment(reserved_name) && IsReservedName(reserved_name));
  return ResourcePath(IsRoot() ? "/" + std::string(reserved_name)
                               : path_ + "/" + std::string(reserved_name));
}

ResourcePath ResourcePath::Child(std::string_view name) const {
  assert(IsValidSegment(name));
  // Sized once: a tree walk builds one child per member, and a copy of a long parent followed
  // by two appends would allocate up to three times.
  std::string p;
  p.reserve((IsRoot() ? 0 : path_.size()) + 1 + name.size());
  if (!IsRoot()) p.append(path_);
  p += '/';
  p.append(name);
  return ResourcePath(std::move(p));
}

bool ResourcePath::Contains(const ResourcePath& other) const {
  if (IsRoot()) return true;
  if (other.path_.size() < path_.size()) return false;
  if (other.path_.compare(0, path_.size(), path_) != 0) return false;
  // "/a" contains "/a" and "/a/b" but not "/ab".
  return other.path_.size() == path_.size() || other.path_[path_.size()] == '/';
}

ResourcePath ResourcePath::Rebase(const ResourcePath& other, const ResourcePath& to) const {
  assert(Contains(other));
  // The part of `other` below `this`: "" or "/x/y".
  std::string suffix =
      IsRoot() ? (other.IsRoot() ? std::string() : other.path_) : other.path_.substr(path_.size());
  std::string p = to.IsRoot() ? std::string() : to.path_;
  p += suffix;
  if (p.empty()) p = "/";
  return ResourcePath(std::move(p));
}

size_t ResourcePath::SegmentCount() const {
  if (IsRoot()) return 0;
  size_t n = 0;
  for (char c : path_) n += (c == '/');
  return n;
}

std::vector<std::string_view> ResourcePath::Segments() const {
  std::vector<std::string_view> out;
  if (IsRoot()) return out;
  std::string_view p(path_);
  size_t pos = 1;
  while (pos <= p.size()) {
    size_t slash = p.find('/', pos);
    if (slash == std::string_view::npos) slash = p.size();
    out.push_back(p.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

}  // namespace keepdav::storage
