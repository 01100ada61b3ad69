// DelayingFileSystem: a FileSystem decorator that sleeps a fixed time in every file copy, every
// removal and for every member listed. Its tree operations go member by member through itself
// (MemberWalk), so each copied or removed resource is slowed too. It exists so that tests of the
// real binary (interop, reverse-proxy and client tests of 102 Processing) can make a tree operation
// take seconds without gigabytes of test data; keepdav enables it only with --test-delay-us.
//
// Thread-safe if the wrapped FileSystem is.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "storage/file_system.h"
#include "storage/member_walk.h"

namespace keepdav::storage {

class DelayingFileSystem : public FileSystem {
 public:
  DelayingFileSystem(std::unique_ptr<FileSystem> inner, std::chrono::microseconds delay)
      : inner_(std::move(inner)), delay_(delay) {}

  Result<FileInfo> Stat(const ResourcePath& p) override { return inner_->Stat(p); }
  Status List(const ResourcePath& dir,
              const std::function<bool(std::string_view, const FileInfo&)>& visit) override {
    return inner_->List(dir, [&](std::string_view name, const FileInfo& info) {
      Sleep();
      return visit(name, info);
    });
  }
  Status ListForRemoval(
      const ResourcePath& dir,
      const std::function<bool(std::string_view, const FileInfo&)>& visit) override {
    return inner_->ListForRemoval(dir, visit);
  }
  Result<std::unique_ptr<ReadableFile>> OpenRead(const ResourcePath& p) override {
    return inner_->OpenRead(p);
  }
  Result<std::unique_ptr<PendingWrite>> BeginWrite(const ResourcePath& p) override {
    return inner_->BeginWrite(p);
  }
  Status MakeDirectory(const ResourcePath& p) override { return inner_->MakeDirectory(p); }
  Status Remove(const ResourcePath& p) override {
    Sleep();
    return inner_->Remove(p);
  }
  Status Rename(const ResourcePath& from, const ResourcePath& to, bool replace) override {
    return inner_->Rename(from, to, replace);
  }
  Status Exchange(const ResourcePath& a, const ResourcePath& b) override {
    return inner_->Exchange(a, b);
  }
  Status CopyFile(const ResourcePath& from, const ResourcePath& to) override {
    Sleep();
    return inner_->CopyFile(from, to);
  }
  Status CopyFileNew(const ResourcePath& from, const ResourcePath& to) override {
    Sleep();
    return inner_->CopyFileNew(from, to);
  }
  Status RemoveTree(const ResourcePath& p, int max_depth, TreeObserver& observer) override {
    return MemberWalk::RemoveTree(*this, p, max_depth, observer);
  }
  Status CopyTree(const ResourcePath& from, const ResourcePath& to, bool with_members,
                  int max_depth, TreeObserver& observer) override {
    return MemberWalk::CopyTree(*this, from, to, with_members, max_depth, observer);
  }
  Status SetModifiedTime(const ResourcePath& p, int64_t ns) override {
    return inner_->SetModifiedTime(p, ns);
  }
  Result<SpaceInfo> Space() override { return inner_->Space(); }

 private:
  void Sleep() const {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  }
  std::unique_ptr<FileSystem> inner_;
  std::chrono::microseconds delay_;
};

}  // namespace keepdav::storage
