// PosixPendingWrite: a file being written under a temporary reserved name
// (".keepdav-tmp-<random>") in the target's directory, renamed into place by Commit (see
// PendingWrite in storage/file_system.h); StartWrite creates one.
//
// Owns its descriptors; destroying it uncommitted removes the temporary file. Not thread-safe.
// Errors: Status::FromErrno of the failing call; kInvalidArgument for a write or commit after
// Commit; after a failed write every later call repeats that failure.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "storage/file_system.h"
#include "storage/posix/entry_stat.h"
#include "storage/posix/root.h"
#include "storage/posix/unique_fd.h"

namespace keepdav::storage::posix {

class PosixPendingWrite : public PendingWrite {
 public:
  PosixPendingWrite(UniqueFd dir, std::string temp_name, std::string target_name, UniqueFd fd,
                    bool fsync, std::string display, std::atomic<uint64_t>* generation)
      : generation_(generation),
        dir_(std::move(dir)),
        temp_name_(std::move(temp_name)),
        target_name_(std::move(target_name)),
        fd_(std::move(fd)),
        fsync_(fsync),
        display_(std::move(display)) {}

  ~PosixPendingWrite() override {
    fd_.Reset();
    if (!committed_ && !temp_name_.empty()) ::unlinkat(dir_.get(), temp_name_.c_str(), 0);
  }

  Status Write(const char* data, size_t len) override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::InvalidArgument("write after commit: " + display_);
    while (len > 0) {
      ssize_t n = ::write(fd_.get(), data, len);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = Status::FromErrno(errno, "write " + display_);
        return error_;
      }
      data += n;
      len -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (!error_.ok()) return error_;
    if (committed_) return Status::InvalidArgument("second commit: " + display_);
    if (fsync_ && ::fsync(fd_.get()) != 0) return Fail(errno, "fsync ");
    // The inode, size and times survive the rename: read them now for the caller's ETag.
    EntryStat st;
    if (int err = StatEntry(fd_.get(), "", AT_EMPTY_PATH, &st); err != 0) return Fail(err, "stat ");
    info_ = st.info;
    // close() can report delayed write errors (NFS), so its result counts.
    if (::close(fd_.release()) != 0 && errno != EINTR) return Fail(errno, "close ");
    // rename(2) refuses to replace a directory with a file (EISDIR -> kIsADirectory), so a
    // collection created at the target meanwhile is detected atomically here.
    if (::renameat(dir_.get(), temp_name_.c_str(), dir_.get(), target_name_.c_str()) != 0) {
      return Fail(errno, "commit ");
    }
    committed_ = true;
    if (generation_) generation_->fetch_add(1);  // kept descriptors of the old file are stale
    if (fsync_) {
      // Makes the rename itself durable; the O_PATH descriptor cannot be fsynced.
      UniqueFd d(::openat(dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!d.valid() || ::fsync(d.get()) != 0) {
        return Status::FromErrno(errno, "fsync directory of " + display_);
      }
    }
    return Status::Ok();
  }

  const FileInfo& committed_info() const override { return info_; }
  const std::optional<FileInfo>& previous() const override { return previous_; }
  void set_previous(const std::optional<FileInfo>& previous) { previous_ = previous; }

  int fd() const { return fd_.get(); }

 private:
  Status Fail(int err, const char* op) {
    error_ = Status::FromErrno(err, op + display_);
    fd_.Reset();
    ::unlinkat(dir_.get(), temp_name_.c_str(), 0);
    temp_name_.clear();
    return error_;
  }

  std::atomic<uint64_t>* generation_;  // the open-file cache's, or null
  UniqueFd dir_;                       // O_PATH descriptor of the target's directory
  FileInfo info_;
  std::optional<FileInfo> previous_;
  std::string temp_name_;
  std::string target_name_;
  UniqueFd fd_;
  bool fsync_;
  std::string display_;
  bool committed_ = false;
  Status error_;  // sticky: after a failed write nothing may be committed
};

// Starts an atomic write of `path` (FileSystem::BeginWrite's contract; kPermissionDenied for a
// hidden path). `generation`, when not null, is bumped by a successful Commit.
Result<std::unique_ptr<PosixPendingWrite>> StartWrite(const Root& root, const ResourcePath& path,
                                                      const std::string& context, bool fsync,
                                                      std::atomic<uint64_t>* generation);

}  // namespace keepdav::storage::posix
