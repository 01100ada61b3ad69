// OpenFileCache: descriptors of recently read files kept for reuse by PosixFileSystem::OpenRead
// (Options::open_file_cache), shared with the readers using them.
//
// Thread-safe (one mutex; the generation counter is atomic). Never fails.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/posix/file_contents.h"

namespace keepdav::storage::posix {

// Recently opened files by path. An entry is used only while no change was made through this
// file system since it was opened (the generation) and for at most `ttl_ms`; each use re-stats
// the descriptor, so sizes, times and ETags are always current.
class OpenFileCache {
 public:
  // Milliseconds of a coarse monotonic clock, for the entries' age.
  static int64_t NowMs() {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }

  OpenFileCache(size_t capacity, int ttl_ms) : capacity_(capacity), ttl_ms_(ttl_ms) {}

  std::atomic<uint64_t> generation{0};

  std::shared_ptr<const SharedFd> Find(const std::string& key, uint64_t gen, int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    if (it->second.generation != gen || now_ms - it->second.opened_ms > ttl_ms_) {
      map_.erase(it);
      return nullptr;
    }
    return it->second.file;
  }

  void Put(const std::string& key, std::shared_ptr<const SharedFd> file, uint64_t gen,
           int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= capacity_) {
      // Stale entries first; if all are current, any one (no LRU bookkeeping on the hot path).
      uint64_t current = generation.load();
      for (auto it = map_.begin(); it != map_.end();) {
        it = it->second.generation != current ? map_.erase(it) : std::next(it);
      }
      if (map_.size() >= capacity_) map_.erase(map_.begin());
    }
    map_[key] = Entry{std::move(file), gen, now_ms};
  }

  void Erase(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    map_.erase(key);
  }

 private:
  struct Entry {
    std::shared_ptr<const SharedFd> file;
    uint64_t generation;
    int64_t opened_ms;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;
  size_t capacity_;
  int ttl_ms_;
};

}  // namespace keepdav::storage::posix
