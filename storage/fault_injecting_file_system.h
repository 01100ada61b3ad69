// FaultInjectingFileSystem: a FileSystem decorator for tests (and keepdav's --test-delay-us) that
// makes chosen calls fail, slow down, or "crash".
//
// - FailCall: a call of one Operation (optionally only when one of its paths is a chosen one,
//   optionally only the Nth such call) fails with a chosen errno, mapped by Status::FromErrno
//   like a real failure of that call.
// - FailAtMutation(n, err): only the nth mutating call (counted as for crashes) fails with err.
// - CrashAtMutation(n): the nth *mutating* call and every call after it, of any kind, fail with
//   kIoError "crashed", as if the process had been killed there. `on_crash` runs once, on the
//   calling thread, just before that nth call fails and before any later call starts (so a test
//   can snapshot the database exactly as a killed process would leave it). It must not call
//   this file system. Mutating calls, counted in mutating_calls(): BeginWrite,
//   PendingWrite::Write, PendingWrite::Commit, MakeDirectory, Remove, Rename, Exchange, CopyFile,
//   CopyFileNew, SetModifiedTime, UpdatableFile::WriteAt and Truncate. Tree operations are not
//   calls of their own: they go member by member through this wrapper (MemberWalk,
//   storage/member_walk.h), so each member's MakeDirectory, CopyFileNew or Remove counts and can
//   fail. Destroying an uncommitted PendingWrite after a crash still lets the wrapped one remove
//   its temporary file (a killed process would leave it; reserved names are never served).
// - SetDelay: sleeps before each call of an Operation; for kList and kListForRemoval before each
//   member listed instead.
// - set_rename_cross_device: Rename between two client paths (neither name reserved) answers
//   kCrossDevice, as between two file systems; keepdav's own renames to or from a staging or
//   trash name work.
// - set_other_device: Stat of that path reports another device number.
// Faults are checked before the wrapped call, in this order: crash, FailCall, delay. Reads of an
// opened file (ReadableFile) are not wrapped.
//
// Thread-safe; every setting may be changed while calls are running. The wrapped file system is
// owned; a PendingWrite it hands out must not outlive it. Errors: the wrapped file system's, the
// injected errno through Status::FromErrno, kCrossDevice for a pretended cross-device rename,
// kIoError after a crash.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "storage/file_system.h"

namespace keepdav::storage {

class FaultInjectingFileSystem : public FileSystem {
 public:
  enum class Operation {
    kStat,
    kList,
    kListForRemoval,
    kOpenRead,
    kBeginWrite,
    kWrite,   // PendingWrite::Write
    kCommit,  // PendingWrite::Commit
    kMakeDirectory,
    kRemove,
    kRename,
    kExchange,
    kCopyFile,
    kCopyFileNew,
    kSetModifiedTime,
    kOpenForUpdate,
    kWriteAt,   // UpdatableFile::WriteAt
    kTruncate,  // UpdatableFile::Truncate
    kSpace,
  };
  static constexpr int kOperationCount = static_cast<int>(Operation::kSpace) + 1;

  explicit FaultInjectingFileSystem(std::unique_ptr<FileSystem> inner);
  ~FaultInjectingFileSystem() override;

  FileSystem& inner() { return *inner_; }

  // Calls of `op` fail with `err`: every one, or with `nth` > 0 only the nth matching one
  // (counted from this FailCall). With `path`, only calls one of whose paths is `path` match.
  void FailCall(Operation op, int err, std::optional<ResourcePath> path = std::nullopt,
                int nth = 0);
  // Crashes at the nth mutating call from now (n >= 1); 0 turns crashing off. Resets
  // mutating_calls() and crashed(). With `after_call`, the nth call is still made (the process
  // dies just after the system call returned): it takes effect, `on_crash` runs after it, and it
  // reports kIoError "crashed" all the same; calls on other threads fail from its start on.
  void CrashAtMutation(int n, std::function<void()> on_crash = nullptr, bool after_call = false);
  // The nth mutating call from now (n >= 1; 0 turns it off) fails with `err`, as FailCall
  // would fail it, and is not made; the calls before and after it go ahead. Resets
  // mutating_calls(). For walking an error through every step of a request in turn.
  void FailAtMutation(int n, int err);
  void SetDelay(Operation op, std::chrono::microseconds delay);
  void set_rename_cross_device(bool on) { rename_cross_device_ = on; }
  void set_other_device(std::optional<ResourcePath> path);
  // Drops every FailCall, crash, delay and pretence.
  void ClearFaults();

  // Mutating calls begun since the wrapper was made or CrashAtMutation was last called, the
  // crashing one included.
  int mutating_calls() const { return mutating_calls_.load(); }
  bool crashed() const { return crashed_.load(); }

  Result<FileInfo> Stat(const ResourcePath& path) override;
  Status List(const ResourcePath& dir,
              const std::function<bool(std::string_view, const FileInfo&)>& visit) override;
  Status ListForRemoval(
      const ResourcePath& dir,
      const std::function<bool(std::string_view, const FileInfo&)>& visit) override;
  Result<std::unique_ptr<ReadableFile>> OpenRead(const ResourcePath& path) override;
  Result<std::unique_ptr<PendingWrite>> BeginWrite(const ResourcePath& path) override;
  Status MakeDirectory(const ResourcePath& path) override;
  Status Remove(const ResourcePath& path) override;
  Status Rename(const ResourcePath& from, const ResourcePath& to, bool replace) override;
  Status Exchange(const ResourcePath& a, const ResourcePath& b) override;
  Status CopyFile(const ResourcePath& from, const ResourcePath& to) override;
  Status CopyFileNew(const ResourcePath& from, const ResourcePath& to) override;
  Status RemoveTree(const ResourcePath& path, int max_depth, TreeObserver& observer) override;
  Status CopyTree(const ResourcePath& from, const ResourcePath& to, bool with_members,
                  int max_depth, TreeObserver& observer) override;
  Status SetModifiedTime(const ResourcePath& path, int64_t mtime_ns) override;
  Result<std::unique_ptr<UpdatableFile>> OpenForUpdate(const ResourcePath& path) override;
  Result<SpaceInfo> Space() override;

 private:
  class WrappedWrite;
  class WrappedUpdate;
  struct Fault {
    Operation op;
    int err;
    std::optional<ResourcePath> path;
    int nth;  // 0: every matching call
    int seen = 0;
  };

  // The fault for one call of `op` naming `a` (and `b`), or OK to go ahead; sleeps the delay of
  // `op` (unless it is a listing's per-member delay).
  // Sets *crash_after (when given) for the call that crashes once it has been made.
  Status Check(Operation op, const ResourcePath* a, const ResourcePath* b = nullptr,
               bool* crash_after = nullptr);
  // A mutating call: Check, then `call` unless a fault answered, then the crash after the call.
  Status Mutate(Operation op, const ResourcePath* a, const ResourcePath* b,
                const std::function<Status()>& call);
  Status ListWith(Operation op, const ResourcePath& dir,
                  const std::function<bool(std::string_view, const FileInfo&)>& visit);
  static bool IsMutating(Operation op);
  void Sleep(Operation op);

  std::unique_ptr<FileSystem> inner_;
  std::mutex mu_;
  std::vector<Fault> faults_;              // guarded by mu_
  int crash_at_ = 0;                       // guarded by mu_
  int fail_at_ = 0;                        // guarded by mu_
  int fail_at_err_ = 0;                    // guarded by mu_
  bool crash_after_call_ = false;          // guarded by mu_
  std::function<void()> on_crash_;         // guarded by mu_
  std::optional<ResourcePath> other_dev_;  // guarded by mu_
  std::atomic<int> mutating_calls_{0};
  std::atomic<bool> crashed_{false};
  std::atomic<bool> rename_cross_device_{false};
  std::atomic<int64_t> delay_us_[kOperationCount] = {};
};

}  // namespace keepdav::storage
