#include "storage/posix/upload_leftovers.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace keepdav::storage::posix {
namespace {

constexpr std::string_view kTempPrefix = ".keepdav-tmp-";
constexpr std::string_view kReservedPrefix = ".keepdav-";

bool Before(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// Takes ownership of `dir_fd`.
void Sweep(int dir_fd, int depth, const struct timespec& before, int max_depth,
           const std::atomic<bool>& stop, UploadLeftoverSweep* result) {
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) {
    ::close(dir_fd);
    ++result->unreadable;
    return;
  }
  ++result->folders;
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) {
      result->stopped = true;
      break;
    }
    errno = 0;
    struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) ++result->unreadable;
      break;
    }
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    struct stat st;
    const bool temp = name.substr(0, kTempPrefix.size()) == kTempPrefix;
    if (!temp && entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) continue;
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (temp) {
      if (S_ISREG(st.st_mode) && Before(st.st_mtim, before) &&
          ::unlinkat(::dirfd(dir), entry->d_name, 0) == 0) {
        ++result->removed;
        result->removed_bytes += static_cast<uint64_t>(st.st_size);
      }
      continue;
    }
    if (!S_ISDIR(st.st_mode) || depth >= max_depth) continue;
    if (name.substr(0, kReservedPrefix.size()) == kReservedPrefix) continue;
    int child =
        ::openat(::dirfd(dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) {
      ++result->unreadable;
      continue;
    }
    Sweep(child, depth + 1, before, max_depth, stop, result);
  }
  ::closedir(dir);
}

}  // namespace

Status RemoveUploadLeftovers(const std::string& root_dir, const struct timespec& before,
                             int max_depth, const std::atomic<bool>& stop,
                             UploadLeftoverSweep* result) {
  *result = UploadLeftoverSweep{};
  int fd = ::open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open " + root_dir);
  Sweep(fd, 0, before, max_depth, stop, result);
  return Status::Ok();
}

}  // namespace keepdav::storage::posix
