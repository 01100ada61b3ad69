#include "storage/memory_file_system.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "storage/member_walk.h"
#include "storage/random_hex.h"

namespace keepdav::storage {

struct MemoryFileSystem::Node {
  FileType type = FileType::kFile;
  // A file's bytes. Replaced, never changed, once other holders (readers) share it.
  std::shared_ptr<std::string> data;
  int64_t mtime_ns = 0;
  int64_t birth_ns = 0;
  int64_t ctime_ns = 0;  // set when the node is made, renamed or its time set
  uint64_t inode = 0;
  std::map<std::string, std::shared_ptr<Node>, std::less<>> children;  // directories only

  bool IsDirectory() const { return type == FileType::kDirectory; }
};

struct MemoryFileSystem::Tree {
  explicit Tree(Options o) : options(std::move(o)) { root = NewNode(FileType::kDirectory); }

  Options options;
  std::shared_ptr<Node> root;
  uint64_t next_inode = 1;
  int64_t counter_ns = int64_t{1577836800} * 1000000000;  // 2020-01-01T00:00:00Z

  int64_t Now() {
    if (options.clock) return options.clock();
    counter_ns += 1000000;
    return counter_ns;
  }

  std::shared_ptr<Node> NewNode(FileType type) {
    auto n = std::make_shared<Node>();
    n->type = type;
    n->inode = next_inode++;
    n->mtime_ns = n->birth_ns = n->ctime_ns = Now();
    if (type == FileType::kFile) n->data = std::make_shared<std::string>();
    return n;
  }

  FileInfo InfoOf(const Node& n) const {
    FileInfo info;
    info.type = n.type;
    info.size = n.IsDirectory() ? 0 : n.data->size();
    info.mtime_ns = n.mtime_ns;
    info.birth_ns = n.birth_ns;
    info.ctime_ns = n.ctime_ns;
    info.inode = n.inode;
    info.device = options.device;
    return info;
  }

  // The node at `path`: kNotFound when it or a parent is missing, kNotADirectory when a parent is
  // a file.
  Result<std::shared_ptr<Node>> Find(const ResourcePath& path, const std::string& context) const {
    std::shared_ptr<Node> current = root;
    for (std::string_view segment : path.Segments()) {
      if (!current->IsDirectory()) return Status::WithCode(StatusCode::kNotADirectory, context);
      auto it = current->children.find(segment);
      if (it == current->children.end()) return Status::NotFound(context);
      current = it->second;
    }
    return current;
  }

  // The directory holding `path`. REQUIRES: !path.IsRoot().
  Result<std::shared_ptr<Node>> FindParent(const ResourcePath& path,
                                           const std::string& context) const {
    Result<std::shared_ptr<Node>> parent = Find(path.Parent(), context);
    if (!parent.ok()) return parent.status();
    if (!(*parent)->IsDirectory()) return Status::WithCode(StatusCode::kNotADirectory, context);
    return parent;
  }

  static std::shared_ptr<Node> ChildOf(const Node& dir, std::string_view name) {
    auto it = dir.children.find(name);
    return it == dir.children.end() ? nullptr : it->second;
  }

  // Also the end of every rename: the node's ctime changes, as on Linux.
  void Put(Node& dir, std::string_view name, std::shared_ptr<Node> node) {
    node->ctime_ns = Now();
    dir.children[std::string(name)] = std::move(node);
    dir.mtime_ns = dir.ctime_ns = Now();
  }

  void Erase(Node& dir, std::string_view name) {
    auto it = dir.children.find(name);
    if (it == dir.children.end()) return;
    dir.children.erase(it);
    dir.mtime_ns = dir.ctime_ns = Now();
  }

  // rename(2)'s checks for putting `moving` where `existing` is.
  static Status CheckReplace(const Node& moving, const Node& existing, const std::string& context) {
    if (&moving == &existing) return Status::Ok();
    if (!moving.IsDirectory() && existing.IsDirectory()) {
      return Status::WithCode(StatusCode::kIsADirectory, context);
    }
    if (moving.IsDirectory() && !existing.IsDirectory()) {
      return Status::WithCode(StatusCode::kNotADirectory, context);
    }
    if (existing.IsDirectory() && !existing.children.empty()) {
      return Status::WithCode(StatusCode::kNotEmpty, context);
    }
    return Status::Ok();
  }

  uint64_t UsedBytes(const Node& n) const {
    if (!n.IsDirectory()) return n.data->size();
    uint64_t sum = 0;
    for (const auto& [name, child] : n.children) sum += UsedBytes(*child);
    return sum;
  }
};

class MemoryFileSystem::Reader : public ReadableFile {
 public:
  Reader(std::shared_ptr<const std::string> data, FileInfo info)
      : data_(std::move(data)), info_(info) {}
  const FileInfo& info() const override { return info_; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    if (offset >= data_->size()) return size_t{0};
    size_t n = std::min(len, static_cast<size_t>(data_->size() - offset));
    std::memcpy(buf, data_->data() + offset, n);
    return n;
  }

 private:
  std::shared_ptr<const std::string> data_;
  FileInfo info_;
};

// Holds its directory (like the O_PATH descriptor PosixPendingWrite holds), so a rename of the
// directory meanwhile does not matter, and the temporary entry it writes into.
class MemoryFileSystem::Writer : public PendingWrite {
 public:
  Writer(MemoryFileSystem& fs, std::shared_ptr<Node> dir, std::string temp_name,
         std::string target_name, std::shared_ptr<Node> temp, std::optional<FileInfo> previous,
         std::string display)
      : fs_(fs),
        dir_(std::move(dir)),
        temp_name_(std::move(temp_name)),
        target_name_(std::move(target_name)),
        temp_(std::move(temp)),
        previous_(std::move(previous)),
        display_(std::move(display)) {}

  ~Writer() override {
    if (committed_) return;
    std::lock_guard<std::mutex> lock(fs_.mu_);
    if (Tree::ChildOf(*dir_, temp_name_) == temp_) fs_.tree_->Erase(*dir_, temp_name_);
  }

  Status Write(const char* data, size_t len) override {
    if (committed_) return Status::InvalidArgument("write after commit: " + display_);
    std::lock_guard<std::mutex> lock(fs_.mu_);
    // Someone reading the temporary file keeps what it opened.
    if (temp_->data.use_count() > 1) temp_->data = std::make_shared<std::string>(*temp_->data);
    temp_->data->append(data, len);
    temp_->mtime_ns = temp_->ctime_ns = fs_.tree_->Now();
    return Status::Ok();
  }

  Status Commit() override {
    if (committed_) return Status::InvalidArgument("second commit: " + display_);
    std::lock_guard<std::mutex> lock(fs_.mu_);
    Tree& tree = *fs_.tree_;
    if (Tree::ChildOf(*dir_, temp_name_) != temp_) {
      return Status::NotFound("commit " + display_ + ": the temporary file is gone");
    }
    if (std::shared_ptr<Node> existing = Tree::ChildOf(*dir_, target_name_)) {
      Status s = Tree::CheckReplace(*temp_, *existing, "commit " + display_);
      if (!s.ok()) return s;
    }
    tree.Erase(*dir_, temp_name_);
    tree.Put(*dir_, target_name_, temp_);
    info_ = tree.InfoOf(*temp_);
    committed_ = true;
    return Status::Ok();
  }

  const FileInfo& committed_info() const override { return info_; }
  const std::optional<FileInfo>& previous() const override { return previous_; }

 private:
  MemoryFileSystem& fs_;
  std::shared_ptr<Node> dir_;
  std::string temp_name_;
  std::string target_name_;
  std::shared_ptr<Node> temp_;
  std::optional<FileInfo> previous_;
  std::string display_;
  FileInfo info_;
  bool committed_ = false;
};

MemoryFileSystem::MemoryFileSystem(Options options)
    : tree_(std::make_unique<Tree>(std::move(options))) {}

MemoryFileSystem::~MemoryFileSystem() = default;

Result<FileInfo> MemoryFileSystem::Stat(const ResourcePath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::shared_ptr<Node>> node = tree_->Find(path, "stat " + path.str());
  if (!node.ok()) return node.status();
  return tree_->InfoOf(**node);
}

Status MemoryFileSystem::List(const ResourcePath& dir,
                              const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  return ListImpl(dir, /*include_reserved=*/false, visit);
}

Status MemoryFileSystem::ListForRemoval(
    const ResourcePath& dir, const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  return ListImpl(dir, /*include_reserved=*/true, visit);
}

Status MemoryFileSystem::ListImpl(
    const ResourcePath& dir, bool include_reserved,
    const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  std::vector<std::pair<std::string, FileInfo>> members;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string context = "list " + dir.str();
    Result<std::shared_ptr<Node>> node = tree_->Find(dir, context);
    if (!node.ok()) return node.status();
    if (!(*node)->IsDirectory()) return Status::WithCode(StatusCode::kNotADirectory, context);
    for (const auto& [name, child] : (*node)->children) {
      if (!include_reserved && ResourcePath::IsReservedName(name)) continue;
      members.emplace_back(name, tree_->InfoOf(*child));
    }
  }
  for (const auto& [name, info] : members) {
    if (!visit(name, info)) break;
  }
  return Status::Ok();
}

Result<std::unique_ptr<ReadableFile>> MemoryFileSystem::OpenRead(const ResourcePath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "open " + path.str();
  Result<std::shared_ptr<Node>> node = tree_->Find(path, context);
  if (!node.ok()) return node.status();
  if ((*node)->IsDirectory()) return Status::WithCode(StatusCode::kIsADirectory, context);
  return std::unique_ptr<ReadableFile>(new Reader((*node)->data, tree_->InfoOf(**node)));
}

Result<std::unique_ptr<PendingWrite>> MemoryFileSystem::BeginWrite(const ResourcePath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "write " + path.str();
  if (path.IsRoot()) return Status::WithCode(StatusCode::kIsADirectory, context);
  Result<std::shared_ptr<Node>> dir = tree_->FindParent(path, context);
  if (!dir.ok()) return dir.status();
  std::optional<FileInfo> previous;
  if (std::shared_ptr<Node> existing = Tree::ChildOf(**dir, path.Name())) {
    if (existing->IsDirectory()) return Status::WithCode(StatusCode::kIsADirectory, context);
    previous = tree_->InfoOf(*existing);
  }
  std::string temp_name;
  do {
    temp_name = std::string(ResourcePath::kReservedPrefix) + "tmp-" + RandomHex();
  } while (Tree::ChildOf(**dir, temp_name));
  std::shared_ptr<Node> temp = tree_->NewNode(FileType::kFile);
  tree_->Put(**dir, temp_name, temp);
  return std::unique_ptr<PendingWrite>(new Writer(*this, *dir, std::move(temp_name),
                                                  std::string(path.Name()), std::move(temp),
                                                  std::move(previous), path.str()));
}

Status MemoryFileSystem::MakeDirectory(const ResourcePath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "mkdir " + path.str();
  if (path.IsRoot()) return Status::AlreadyExists(context);
  Result<std::shared_ptr<Node>> dir = tree_->FindParent(path, context);
  if (!dir.ok()) return dir.status();
  if (Tree::ChildOf(**dir, path.Name())) return Status::AlreadyExists(context);
  tree_->Put(**dir, path.Name(), tree_->NewNode(FileType::kDirectory));
  return Status::Ok();
}

Status MemoryFileSystem::Remove(const ResourcePath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "remove " + path.str();
  if (path.IsRoot()) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": the root stays");
  }
  Result<std::shared_ptr<Node>> dir = tree_->FindParent(path, context);
  if (!dir.ok()) return dir.status();
  std::shared_ptr<Node> node = Tree::ChildOf(**dir, path.Name());
  if (!node) return Status::NotFound(context);
  if (node->IsDirectory() && !node->children.empty()) {
    return Status::WithCode(StatusCode::kNotEmpty, context);
  }
  tree_->Erase(**dir, path.Name());
  return Status::Ok();
}

Status MemoryFileSystem::Rename(const ResourcePath& from, const ResourcePath& to, bool replace) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "rename " + from.str() + " to " + to.str();
  if (from.IsRoot() || to.IsRoot()) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": the root stays");
  }
  if (from != to && from.Contains(to)) {
    return Status::InvalidArgument(context + ": destination inside source");
  }
  Result<std::shared_ptr<Node>> from_dir = tree_->FindParent(from, context);
  if (!from_dir.ok()) return from_dir.status();
  Result<std::shared_ptr<Node>> to_dir = tree_->FindParent(to, context);
  if (!to_dir.ok()) return to_dir.status();
  std::shared_ptr<Node> node = Tree::ChildOf(**from_dir, from.Name());
  if (!node) return Status::NotFound(context);
  if (std::shared_ptr<Node> existing = Tree::ChildOf(**to_dir, to.Name())) {
    if (!replace) return Status::AlreadyExists(context);
    if (existing == node) return Status::Ok();  // rename(2) onto itself does nothing
    Status s = Tree::CheckReplace(*node, *existing, context);
    if (!s.ok()) return s;
  }
  tree_->Erase(**from_dir, from.Name());
  tree_->Put(**to_dir, to.Name(), std::move(node));
  return Status::Ok();
}

Status MemoryFileSystem::Exchange(const ResourcePath& a, const ResourcePath& b) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "exchange " + a.str() + " and " + b.str();
  if (a.IsRoot() || b.IsRoot() || a.Contains(b) || b.Contains(a)) {
    return Status::InvalidArgument(context + ": overlapping paths");
  }
  Result<std::shared_ptr<Node>> a_dir = tree_->FindParent(a, context);
  if (!a_dir.ok()) return a_dir.status();
  Result<std::shared_ptr<Node>> b_dir = tree_->FindParent(b, context);
  if (!b_dir.ok()) return b_dir.status();
  std::shared_ptr<Node> a_node = Tree::ChildOf(**a_dir, a.Name());
  std::shared_ptr<Node> b_node = Tree::ChildOf(**b_dir, b.Name());
  if (!a_node || !b_node) return Status::NotFound(context);
  tree_->Put(**a_dir, a.Name(), std::move(b_node));
  tree_->Put(**b_dir, b.Name(), std::move(a_node));
  return Status::Ok();
}

Status MemoryFileSystem::CopyFile(const ResourcePath& from, const ResourcePath& to) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "copy " + from.str() + " to " + to.str();
  Result<std::shared_ptr<Node>> src = tree_->Find(from, context);
  if (!src.ok()) return src.status();
  if ((*src)->IsDirectory()) return Status::WithCode(StatusCode::kIsADirectory, context);
  if (to.IsRoot()) return Status::WithCode(StatusCode::kIsADirectory, context);
  Result<std::shared_ptr<Node>> dir = tree_->FindParent(to, context);
  if (!dir.ok()) return dir.status();
  std::shared_ptr<Node> existing = Tree::ChildOf(**dir, to.Name());
  if (existing && existing->IsDirectory()) {
    return Status::WithCode(StatusCode::kIsADirectory, context);
  }
  std::shared_ptr<Node> copy = tree_->NewNode(FileType::kFile);
  copy->data = (*src)->data;  // shared: neither is ever changed in place
  copy->mtime_ns = (*src)->mtime_ns;
  tree_->Put(**dir, to.Name(), std::move(copy));
  return Status::Ok();
}

Status MemoryFileSystem::CopyFileNew(const ResourcePath& from, const ResourcePath& to) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "copy " + from.str() + " to " + to.str();
  if (to.IsRoot()) return Status::AlreadyExists(context);
  Result<std::shared_ptr<Node>> src = tree_->Find(from, context);
  if (!src.ok()) return src.status();
  if ((*src)->IsDirectory()) return Status::WithCode(StatusCode::kIsADirectory, context);
  Result<std::shared_ptr<Node>> dir = tree_->FindParent(to, context);
  if (!dir.ok()) return dir.status();
  if (Tree::ChildOf(**dir, to.Name())) return Status::AlreadyExists(context);
  std::shared_ptr<Node> copy = tree_->NewNode(FileType::kFile);
  copy->data = (*src)->data;
  copy->mtime_ns = (*src)->mtime_ns;
  tree_->Put(**dir, to.Name(), std::move(copy));
  return Status::Ok();
}

Status MemoryFileSystem::RemoveTree(const ResourcePath& path, int max_depth,
                                    TreeObserver& observer) {
  return MemberWalk::RemoveTree(*this, path, max_depth, observer);
}

Status MemoryFileSystem::CopyTree(const ResourcePath& from, const ResourcePath& to,
                                  bool with_members, int max_depth, TreeObserver& observer) {
  return MemberWalk::CopyTree(*this, from, to, with_members, max_depth, observer);
}

// Changes the node it opened in place (wherever it has been renamed to since), under the file
// system's lock; readers that opened the file before keep their copy of the bytes.
class MemoryFileSystem::Updater : public UpdatableFile {
 public:
  Updater(MemoryFileSystem& fs, std::shared_ptr<Node> node, FileInfo info)
      : fs_(fs), node_(std::move(node)), info_(info) {}
  const FileInfo& info() const override { return info_; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    std::lock_guard<std::mutex> lock(fs_.mu_);
    const std::string& data = *node_->data;
    if (offset >= data.size()) return size_t{0};
    size_t n = std::min(len, static_cast<size_t>(data.size() - offset));
    std::memcpy(buf, data.data() + offset, n);
    return n;
  }
  Status WriteAt(uint64_t offset, const char* data, size_t len) override {
    std::lock_guard<std::mutex> lock(fs_.mu_);
    std::string& bytes = Own();
    if (bytes.size() < offset + len) bytes.resize(offset + len, '\0');
    std::memcpy(bytes.data() + offset, data, len);
    Touch();
    return Status::Ok();
  }
  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(fs_.mu_);
    Own().resize(size, '\0');
    Touch();
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Result<FileInfo> Stat() override {
    std::lock_guard<std::mutex> lock(fs_.mu_);
    return fs_.tree_->InfoOf(*node_);
  }

 private:
  std::string& Own() {
    if (node_->data.use_count() > 1) node_->data = std::make_shared<std::string>(*node_->data);
    return *node_->data;
  }
  void Touch() { node_->mtime_ns = node_->ctime_ns = fs_.tree_->Now(); }

  MemoryFileSystem& fs_;
  std::shared_ptr<Node> node_;
  FileInfo info_;
};

Result<std::unique_ptr<UpdatableFile>> MemoryFileSystem::OpenForUpdate(const ResourcePath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string context = "update " + path.str();
  Result<std::shared_ptr<Node>> node = tree_->Find(path, context);
  if (!node.ok()) return node.status();
  if ((*node)->IsDirectory()) return Status::WithCode(StatusCode::kIsADirectory, context);
  return std::unique_ptr<UpdatableFile>(new Updater(*this, *node, tree_->InfoOf(**node)));
}

Status MemoryFileSystem::SetModifiedTime(const ResourcePath& path, int64_t mtime_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::shared_ptr<Node>> node = tree_->Find(path, "set mtime " + path.str());
  if (!node.ok()) return node.status();
  (*node)->mtime_ns = mtime_ns;
  (*node)->ctime_ns = tree_->Now();
  return Status::Ok();
}

Result<SpaceInfo> MemoryFileSystem::Space() {
  std::lock_guard<std::mutex> lock(mu_);
  SpaceInfo info;
  info.used_bytes = tree_->UsedBytes(*tree_->root);
  const uint64_t capacity = tree_->options.capacity_bytes;
  info.available_bytes = info.used_bytes < capacity ? capacity - info.used_bytes : 0;
  return info;
}

}  // namespace keepdav::storage
