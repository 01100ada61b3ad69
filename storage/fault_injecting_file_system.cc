#include "storage/fault_injecting_file_system.h"

#include <string>
#include <thread>
#include <utility>

#include "storage/member_walk.h"

namespace keepdav::storage {
namespace {

const char* OperationName(FaultInjectingFileSystem::Operation op) {
  using Op = FaultInjectingFileSystem::Operation;
  switch (op) {
    case Op::kStat:
      return "stat";
    case Op::kList:
      return "list";
    case Op::kListForRemoval:
      return "list for removal";
    case Op::kOpenRead:
      return "open";
    case Op::kBeginWrite:
      return "begin write";
    case Op::kWrite:
      return "write";
    case Op::kCommit:
      return "commit";
    case Op::kMakeDirectory:
      return "mkdir";
    case Op::kRemove:
      return "remove";
    case Op::kRename:
      return "rename";
    case Op::kExchange:
      return "exchange";
    case Op::kCopyFile:
      return "copy";
    case Op::kCopyFileNew:
      return "copy new";
    case Op::kSetModifiedTime:
      return "set mtime";
    case Op::kOpenForUpdate:
      return "open for update";
    case Op::kWriteAt:
      return "write at";
    case Op::kTruncate:
      return "truncate";
    case Op::kSpace:
      return "space";
  }
  return "?";
}

}  // namespace

// Counts and checks Write and Commit; the wrapped write does the work.
class FaultInjectingFileSystem::WrappedWrite : public PendingWrite {
 public:
  WrappedWrite(FaultInjectingFileSystem& fs, std::unique_ptr<PendingWrite> inner, ResourcePath path)
      : fs_(fs), inner_(std::move(inner)), path_(std::move(path)) {}
  Status Write(const char* data, size_t len) override {
    return fs_.Mutate(Operation::kWrite, &path_, nullptr, [&] { return inner_->Write(data, len); });
  }
  Status Commit() override {
    return fs_.Mutate(Operation::kCommit, &path_, nullptr, [&] { return inner_->Commit(); });
  }
  const FileInfo& committed_info() const override { return inner_->committed_info(); }
  const std::optional<FileInfo>& previous() const override { return inner_->previous(); }

 private:
  FaultInjectingFileSystem& fs_;
  std::unique_ptr<PendingWrite> inner_;
  ResourcePath path_;
};

// Counts and checks WriteAt and Truncate (mutating: a crash can land between any two).
class FaultInjectingFileSystem::WrappedUpdate : public UpdatableFile {
 public:
  WrappedUpdate(FaultInjectingFileSystem& fs, std::unique_ptr<UpdatableFile> inner,
                ResourcePath path)
      : fs_(fs), inner_(std::move(inner)), path_(std::move(path)) {}
  const FileInfo& info() const override { return inner_->info(); }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t len) override {
    return inner_->ReadAt(offset, buf, len);
  }
  Status WriteAt(uint64_t offset, const char* data, size_t len) override {
    return fs_.Mutate(Operation::kWriteAt, &path_, nullptr,
                      [&] { return inner_->WriteAt(offset, data, len); });
  }
  Status Truncate(uint64_t size) override {
    return fs_.Mutate(Operation::kTruncate, &path_, nullptr,
                      [&] { return inner_->Truncate(size); });
  }
  Status Sync() override { return inner_->Sync(); }
  Result<FileInfo> Stat() override { return inner_->Stat(); }

 private:
  FaultInjectingFileSystem& fs_;
  std::unique_ptr<UpdatableFile> inner_;
  ResourcePath path_;
};

FaultInjectingFileSystem::FaultInjectingFileSystem(std::unique_ptr<FileSystem> inner)
    : inner_(std::move(inner)) {}

FaultInjectingFileSystem::~FaultInjectingFileSystem() = default;

void FaultInjectingFileSystem::FailCall(Operation op, int err, std::optional<ResourcePath> path,
                                        int nth) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(Fault{op, err, std::move(path), nth});
}

void FaultInjectingFileSystem::CrashAtMutation(int n, std::function<void()> on_crash,
                                               bool after_call) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_at_ = n;
  crash_after_call_ = after_call;
  on_crash_ = std::move(on_crash);
  mutating_calls_ = 0;
  crashed_ = false;
}

void FaultInjectingFileSystem::FailAtMutation(int n, int err) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = n;
  fail_at_err_ = err;
  mutating_calls_ = 0;
}

void FaultInjectingFileSystem::SetDelay(Operation op, std::chrono::microseconds delay) {
  delay_us_[static_cast<int>(op)] = delay.count();
}

void FaultInjectingFileSystem::set_other_device(std::optional<ResourcePath> path) {
  std::lock_guard<std::mutex> lock(mu_);
  other_dev_ = std::move(path);
}

void FaultInjectingFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
  crash_at_ = 0;
  fail_at_ = 0;
  on_crash_ = nullptr;
  crashed_ = false;
  other_dev_.reset();
  rename_cross_device_ = false;
  for (auto& d : delay_us_) d = 0;
}

bool FaultInjectingFileSystem::IsMutating(Operation op) {
  switch (op) {
    case Operation::kBeginWrite:
    case Operation::kWrite:
    case Operation::kCommit:
    case Operation::kMakeDirectory:
    case Operation::kRemove:
    case Operation::kRename:
    case Operation::kExchange:
    case Operation::kCopyFile:
    case Operation::kCopyFileNew:
    case Operation::kSetModifiedTime:
    case Operation::kWriteAt:
    case Operation::kTruncate:
      return true;
    default:
      return false;
  }
}

void FaultInjectingFileSystem::Sleep(Operation op) {
  int64_t us = delay_us_[static_cast<int>(op)].load();
  if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

Status FaultInjectingFileSystem::Check(Operation op, const ResourcePath* a, const ResourcePath* b,
                                       bool* crash_after) {
  std::string context = std::string(OperationName(op)) + (a ? " " + a->str() : std::string()) +
                        (b ? " " + b->str() : std::string());
  std::function<void()> on_crash;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (crashed_) return Status::IoError("crashed before " + context);
    const int mutation = IsMutating(op) ? ++mutating_calls_ : 0;
    if (mutation > 0 && mutation == fail_at_) {
      return Status::FromErrno(fail_at_err_, "injected fault: " + context);
    }
    if (mutation > 0 && mutation == crash_at_) {
      crashed_ = true;  // from here on, every other call fails at once
      if (crash_after_call_ && crash_after) {
        *crash_after = true;
        return Status::Ok();  // on_crash_ runs in Mutate, after the call
      }
      on_crash = std::move(on_crash_);
      on_crash_ = nullptr;
    }
    if (!crashed_) {
      for (Fault& f : faults_) {
        if (f.op != op) continue;
        if (f.path && !((a && *a == *f.path) || (b && *b == *f.path))) continue;
        ++f.seen;
        if (f.nth == 0 || f.seen == f.nth) {
          return Status::FromErrno(f.err, "injected fault: " + context);
        }
      }
    }
  }
  if (crashed_) {
    if (on_crash) on_crash();
    return Status::IoError("crashed at " + context);
  }
  if (op != Operation::kList && op != Operation::kListForRemoval) Sleep(op);
  return Status::Ok();
}

Status FaultInjectingFileSystem::Mutate(Operation op, const ResourcePath* a, const ResourcePath* b,
                                        const std::function<Status()>& call) {
  bool crash_after = false;
  Status s = Check(op, a, b, &crash_after);
  if (!s.ok()) return s;
  s = call();
  if (!crash_after) return s;
  std::function<void()> on_crash;
  {
    std::lock_guard<std::mutex> lock(mu_);
    on_crash = std::move(on_crash_);
    on_crash_ = nullptr;
  }
  if (on_crash) on_crash();
  return Status::IoError(std::string("crashed after ") + OperationName(op) +
                         (a ? " " + a->str() : std::string()));
}

Result<FileInfo> FaultInjectingFileSystem::Stat(const ResourcePath& path) {
  Status s = Check(Operation::kStat, &path);
  if (!s.ok()) return s;
  Result<FileInfo> r = inner_->Stat(path);
  if (r.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (other_dev_ && *other_dev_ == path) r->device += 1;
  }
  return r;
}

Status FaultInjectingFileSystem::ListWith(
    Operation op, const ResourcePath& dir,
    const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  Status s = Check(op, &dir);
  if (!s.ok()) return s;
  auto slowed = [&](std::string_view name, const FileInfo& info) {
    Sleep(op);
    return visit(name, info);
  };
  return op == Operation::kList ? inner_->List(dir, slowed) : inner_->ListForRemoval(dir, slowed);
}

Status FaultInjectingFileSystem::List(
    const ResourcePath& dir, const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  return ListWith(Operation::kList, dir, visit);
}

Status FaultInjectingFileSystem::ListForRemoval(
    const ResourcePath& dir, const std::function<bool(std::string_view, const FileInfo&)>& visit) {
  return ListWith(Operation::kListForRemoval, dir, visit);
}

Result<std::unique_ptr<ReadableFile>> FaultInjectingFileSystem::OpenRead(const ResourcePath& path) {
  Status s = Check(Operation::kOpenRead, &path);
  if (!s.ok()) return s;
  return inner_->OpenRead(path);
}

Result<std::unique_ptr<PendingWrite>> FaultInjectingFileSystem::BeginWrite(
    const ResourcePath& path) {
  std::unique_ptr<PendingWrite> w;
  Status s = Mutate(Operation::kBeginWrite, &path, nullptr, [&] {
    Result<std::unique_ptr<PendingWrite>> r = inner_->BeginWrite(path);
    if (!r.ok()) return r.status();
    w = std::move(r).value();
    return Status::Ok();
  });
  if (!s.ok()) return s;  // a write begun just before a crash is dropped
  return std::unique_ptr<PendingWrite>(new WrappedWrite(*this, std::move(w), path));
}

Status FaultInjectingFileSystem::MakeDirectory(const ResourcePath& path) {
  return Mutate(Operation::kMakeDirectory, &path, nullptr,
                [&] { return inner_->MakeDirectory(path); });
}

Status FaultInjectingFileSystem::Remove(const ResourcePath& path) {
  return Mutate(Operation::kRemove, &path, nullptr, [&] { return inner_->Remove(path); });
}

Status FaultInjectingFileSystem::Rename(const ResourcePath& from, const ResourcePath& to,
                                        bool replace) {
  return Mutate(Operation::kRename, &from, &to, [&] {
    // Only a client's MOVE (one client name to another) crosses the simulated device boundary;
    // keepdav's own renames to or from a staging or trash name stay within the destination's
    // directory.
    if (rename_cross_device_ && !ResourcePath::IsReservedName(from.Name()) &&
        !ResourcePath::IsReservedName(to.Name())) {
      return Status::WithCode(StatusCode::kCrossDevice, "simulated EXDEV: rename " + from.str());
    }
    return inner_->Rename(from, to, replace);
  });
}

Status FaultInjectingFileSystem::Exchange(const ResourcePath& a, const ResourcePath& b) {
  return Mutate(Operation::kExchange, &a, &b, [&] { return inner_->Exchange(a, b); });
}

Status FaultInjectingFileSystem::CopyFile(const ResourcePath& from, const ResourcePath& to) {
  return Mutate(Operation::kCopyFile, &from, &to, [&] { return inner_->CopyFile(from, to); });
}

Status FaultInjectingFileSystem::CopyFileNew(const ResourcePath& from, const ResourcePath& to) {
  return Mutate(Operation::kCopyFileNew, &from, &to, [&] { return inner_->CopyFileNew(from, to); });
}

Status FaultInjectingFileSystem::RemoveTree(const ResourcePath& path, int max_depth,
                                            TreeObserver& observer) {
  return MemberWalk::RemoveTree(*this, path, max_depth, observer);
}

Status FaultInjectingFileSystem::CopyTree(const ResourcePath& from, const ResourcePath& to,
                                          bool with_members, int max_depth,
                                          TreeObserver& observer) {
  return MemberWalk::CopyTree(*this, from, to, with_members, max_depth, observer);
}

Result<std::unique_ptr<UpdatableFile>> FaultInjectingFileSystem::OpenForUpdate(
    const ResourcePath& path) {
  Status s = Check(Operation::kOpenForUpdate, &path);
  if (!s.ok()) return s;
  auto file = inner_->OpenForUpdate(path);
  if (!file.ok()) return file.status();
  return std::unique_ptr<UpdatableFile>(new WrappedUpdate(*this, std::move(file).value(), path));
}

Status FaultInjectingFileSystem::SetModifiedTime(const ResourcePath& path, int64_t mtime_ns) {
  return Mutate(Operation::kSetModifiedTime, &path, nullptr,
                [&] { return inner_->SetModifiedTime(path, mtime_ns); });
}

Result<SpaceInfo> FaultInjectingFileSystem::Space() {
  Status s = Check(Operation::kSpace, nullptr);
  if (!s.ok()) return s;
  return inner_->Space();
}

}  // namespace keepdav::storage
