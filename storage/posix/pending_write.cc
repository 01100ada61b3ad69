#include "storage/posix/pending_write.h"

#include <fcntl.h>

#include <cerrno>

#include "storage/random_hex.h"

namespace keepdav::storage::posix {

namespace {

constexpr std::string_view kTempPrefix = ".keepdav-tmp-";
static_assert(kTempPrefix.substr(0, ResourcePath::kReservedPrefix.size()) ==
                  ResourcePath::kReservedPrefix,
              "temporary files must carry a reserved name so they are never served");

}  // namespace

Result<std::unique_ptr<PosixPendingWrite>> StartWrite(const Root& root, const ResourcePath& path,
                                                      const std::string& context, bool fsync,
                                                      std::atomic<uint64_t>* generation) {
  if (path.IsRoot()) return Status::WithCode(StatusCode::kIsADirectory, context);
  if (root.IsHidden(path.Relative())) {
    return Status::WithCode(StatusCode::kPermissionDenied, context + ": hidden");
  }
  Result<UniqueFd> parent = root.OpenParent(path, context);
  if (!parent.ok()) return parent.status();
  // An early, friendly answer; Commit's rename re-checks atomically.
  Result<FileInfo> existing = Root::StatIn(parent->get(), path, context);
  if (existing.ok() && existing->IsDirectory()) {
    return Status::WithCode(StatusCode::kIsADirectory, context);
  }
  if (!existing.ok() && !existing.status().IsNotFound()) return existing.status();
  std::optional<FileInfo> previous;
  if (existing.ok()) previous = existing.value();
  for (int attempt = 0;; ++attempt) {
    std::string temp = std::string(kTempPrefix) + RandomHex();
    // Mode 0644 less the umask, like any file a user creates.
    int fd = ::openat(parent->get(), temp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) {
      auto w = std::make_unique<PosixPendingWrite>(std::move(parent).value(), std::move(temp),
                                                   std::string(path.Name()), UniqueFd(fd), fsync,
                                                   path.str(), generation);
      w->set_previous(previous);
      return w;
    }
    if (errno != EEXIST || attempt >= 16) return Status::FromErrno(errno, context);
  }
}

}  // namespace keepdav::storage::posix
