// StatHelper: the parallel stat helper of directory listings.
//
// Owns its thread (joined on destruction). Thread-safe: Offer/Wait pairs from any listing.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "storage/posix/entry_stat.h"

namespace keepdav::storage::posix {

// One thread that stats half of a batch of directory entries while the listing thread stats the
// other half: statx is most of a large listing's time (45% of listing 10,000 files on tmpfs).
// Shared by all listings of the file system; Offer() refuses while it is busy.
class StatHelper {
 public:
  struct Entry {
    std::string name;
    EntryStat st;
    int err = 0;
  };

  StatHelper() : thread_([this] { Run(); }) {}
  ~StatHelper() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Stats [begin, end) relative to `dirfd` on the helper; false (nothing done) when it is busy.
  bool Offer(int dirfd, Entry* begin, Entry* end) {
    std::lock_guard<std::mutex> lock(mu_);
    if (busy_) return false;
    busy_ = true;
    dirfd_ = dirfd;
    begin_ = begin;
    end_ = end;
    cv_.notify_all();
    return true;
  }
  // Waits for the work given with a successful Offer.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return begin_ == nullptr; });
    busy_ = false;
  }

  static void StatAll(int dirfd, Entry* begin, Entry* end) {
    for (Entry* e = begin; e != end; ++e) e->err = StatEntry(dirfd, e->name.c_str(), 0, &e->st);
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || begin_ != nullptr; });
      if (stop_) return;
      Entry* begin = begin_;
      Entry* end = end_;
      int dirfd = dirfd_;
      lock.unlock();
      StatAll(dirfd, begin, end);
      lock.lock();
      begin_ = end_ = nullptr;
      done_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  bool stop_ = false;
  bool busy_ = false;  // between Offer and Wait
  int dirfd_ = -1;
  Entry* begin_ = nullptr;  // non-null: work to do
  Entry* end_ = nullptr;
  std::thread thread_;
};

}  // namespace keepdav::storage::posix
