// A FileSystem wrapper for tests: delays chosen operations (to make a tree operation long enough
// to see 102 Processing), can pretend renames cross devices (to force the copy path of MOVE) and
// can fail CopyFile after a number of calls. Tree operations go member by member through the
// wrapper itself (MemberWalk), so the delays and failures apply to each member.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "storage/file_system.h"
#include "storage/member_walk.h"

namespace keepdav::testing {

class SlowFileSystem : public storage::FileSystem {
 public:
  struct Knobs {
    std::chrono::microseconds copy_delay{0};    // per CopyFile
    std::chrono::microseconds remove_delay{0};  // per Remove
    std::chrono::microseconds list_delay{0};    // per member listed
    bool rename_cross_device = false;           // Rename of client paths answers kCrossDevice
    std::atomic<int> fail_copy_after{-1};       // CopyFile fails once this many succeeded
    std::string other_device_path;              // Stat of this path reports another device
  };

  SlowFileSystem(std::unique_ptr<storage::FileSystem> inner, std::shared_ptr<Knobs> knobs)
      : inner_(std::move(inner)), knobs_(std::move(knobs)) {}

  storage::Result<storage::FileInfo> Stat(const storage::ResourcePath& p) override {
    auto r = inner_->Stat(p);
    if (r.ok() && p.str() == knobs_->other_device_path) r->device += 1;
    return r;
  }
  storage::Status List(
      const storage::ResourcePath& dir,
      const std::function<bool(std::string_view, const storage::FileInfo&)>& visit) override {
    return inner_->List(dir, [&](std::string_view name, const storage::FileInfo& info) {
      Sleep(knobs_->list_delay);
      return visit(name, info);
    });
  }
  storage::Status ListForRemoval(
      const storage::ResourcePath& dir,
      const std::function<bool(std::string_view, const storage::FileInfo&)>& visit) override {
    return inner_->ListForRemoval(dir, visit);
  }
  storage::Result<std::unique_ptr<storage::ReadableFile>> OpenRead(
      const storage::ResourcePath& p) override {
    return inner_->OpenRead(p);
  }
  storage::Result<std::unique_ptr<storage::PendingWrite>> BeginWrite(
      const storage::ResourcePath& p) override {
    return inner_->BeginWrite(p);
  }
  storage::Status MakeDirectory(const storage::ResourcePath& p) override {
    return inner_->MakeDirectory(p);
  }
  storage::Status Remove(const storage::ResourcePath& p) override {
    Sleep(knobs_->remove_delay);
    return inner_->Remove(p);
  }
  storage::Status Rename(const storage::ResourcePath& from, const storage::ResourcePath& to,
                         bool replace) override {
    // Only a client's MOVE crosses the simulated device boundary; keepdav's own staging
    // renames stay within the destination's directory.
    if (knobs_->rename_cross_device && !storage::ResourcePath::IsReservedName(from.Name())) {
      return storage::Status::WithCode(storage::StatusCode::kCrossDevice, "simulated EXDEV");
    }
    return inner_->Rename(from, to, replace);
  }
  storage::Status Exchange(const storage::ResourcePath& a,
                           const storage::ResourcePath& b) override {
    return inner_->Exchange(a, b);
  }
  storage::Status CopyFile(const storage::ResourcePath& from,
                           const storage::ResourcePath& to) override {
    Sleep(knobs_->copy_delay);
    int left = knobs_->fail_copy_after.load();
    if (left == 0) return storage::Status::IoError("simulated copy failure");
    if (left > 0) knobs_->fail_copy_after.fetch_sub(1);
    return inner_->CopyFile(from, to);
  }
  storage::Status CopyFileNew(const storage::ResourcePath& from,
                              const storage::ResourcePath& to) override {
    Sleep(knobs_->copy_delay);
    int left = knobs_->fail_copy_after.load();
    if (left == 0) return storage::Status::IoError("simulated copy failure");
    if (left > 0) knobs_->fail_copy_after.fetch_sub(1);
    return inner_->CopyFileNew(from, to);
  }
  storage::Status RemoveTree(const storage::ResourcePath& p, int max_depth,
                             storage::TreeObserver& observer) override {
    return storage::MemberWalk::RemoveTree(*this, p, max_depth, observer);
  }
  storage::Status CopyTree(const storage::ResourcePath& from, const storage::ResourcePath& to,
                           bool with_members, int max_depth,
                           storage::TreeObserver& observer) override {
    return storage::MemberWalk::CopyTree(*this, from, to, with_members, max_depth, observer);
  }
  storage::Status SetModifiedTime(const storage::ResourcePath& p, int64_t ns) override {
    return inner_->SetModifiedTime(p, ns);
  }
  storage::Result<storage::SpaceInfo> Space() override { return inner_->Space(); }

 private:
  static void Sleep(std::chrono::microseconds d) {
    if (d.count() > 0) std::this_thread::sleep_for(d);
  }
  std::unique_ptr<storage::FileSystem> inner_;
  std::shared_ptr<Knobs> knobs_;
};

}  // namespace keepdav::testing
