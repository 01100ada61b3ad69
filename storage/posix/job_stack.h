// JobStack: the directories one tree operation (RemoveTree, CopyTree) still has to work on,
// shared by the calling thread and helper threads it starts.
//
// Thread-safe: Push from any thread; Run once, from the calling thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace keepdav::storage::posix {

// Directories waiting to be worked on by one tree operation: the calling thread and up to
// `threads - 1` helper threads take them, most recent first (so the walk stays roughly depth
// first and few directories wait at a time). Helpers start only while more than one directory
// is waiting, and all have ended when Run returns.
template <typename Job>
class JobStack {
 public:
  explicit JobStack(int threads) : max_threads_(threads < 1 ? 1 : threads) {}

  // Thread-safe.
  void Push(Job job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  // Runs `work(state, job)` for every job, including those pushed meanwhile, until none is left.
  // Each thread gets its own `state` from `make_state()`.
  template <typename MakeState, typename Work>
  void Run(const MakeState& make_state, const Work& work) {
    std::vector<std::thread> helpers;
    auto state = make_state();
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (jobs_.size() > 1 && static_cast<int>(helpers.size()) + 1 < max_threads_) {
        lock.unlock();
        try {
          helpers.emplace_back([&] {
            auto helper_state = make_state();
            std::unique_lock<std::mutex> helper_lock(mu_);
            while (TakeAndWork(helper_lock, helper_state, work)) {
            }
          });
        } catch (const std::system_error&) {
          max_threads_ = static_cast<int>(helpers.size()) + 1;  // no more threads: carry on
        }
        lock.lock();
        continue;
      }
      if (!TakeAndWork(lock, state, work)) break;
    }
    lock.unlock();
    for (std::thread& t : helpers) t.join();
  }

 private:
  // Waits for a job and works on it; false once no job is left and none is running.
  // REQUIRES: `lock` holds mu_.
  template <typename State, typename Work>
  bool TakeAndWork(std::unique_lock<std::mutex>& lock, State& state, const Work& work) {
    cv_.wait(lock, [&] { return !jobs_.empty() || running_ == 0; });
    if (jobs_.empty()) return false;
    Job job = std::move(jobs_.back());
    jobs_.pop_back();
    ++running_;
    lock.unlock();
    work(state, job);
    lock.lock();
    --running_;
    if (jobs_.empty() && running_ == 0) cv_.notify_all();
    return true;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> jobs_;
  int running_ = 0;
  int max_threads_;
};

}  // namespace keepdav::storage::posix
