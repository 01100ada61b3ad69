#include "server/long_operations.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Runnable.h>
#include <Poco/ThreadPool.h>
#include <sys/socket.h>

#include <poll.h>

#include <cerrno>
#include <chrono>

namespace keepdav::server {

namespace {

// Runs a std::function on a Poco pool thread and signals when done.
class Job : public Poco::Runnable {
 public:
  explicit Job(const std::function<void()>& work) : work_(work) {}
  void run() override {
    try {
      work_();
    } catch (const std::exception& e) {
      // DavHandler and the adapter catch everything; this is the last line of defence.
      Poco::Logger::get("keepdav.server").error("long operation threw: %s", std::string(e.what()));
    } catch (...) {
      Poco::Logger::get("keepdav.server").error("long operation threw an unknown exception");
    }
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  // Waits until done or `until`; returns done.
  bool WaitUntil(std::chrono::steady_clock::time_point until) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, until, [this] { return done_; });
  }

 private:
  const std::function<void()>& work_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// True when the peer closed its side (or the socket failed). Pipelined data is not a hang-up.
bool PeerHungUp(int socket_fd) {
  struct pollfd p;
  p.fd = socket_fd;
  p.events = POLLRDHUP;
  p.revents = 0;
  int n = ::poll(&p, 1, 0);
  return n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace

LongOperations::LongOperations(ProcessingPolicy policy, ProcessingSettings settings)
    : policy_(std::move(policy)), settings_(std::move(settings)) {
  if (settings_.first_ms < 0) settings_.first_ms = settings_.interval_ms;
  int workers = std::max(1, settings_.workers);
  pool_ = std::make_unique<Poco::ThreadPool>("keepdav-long", 1, workers);
}

LongOperations::~LongOperations() {
  CancelAll();
  pool_->joinAll();
}

int LongOperations::Allowed(const webdav::DavRequest& req) const {
  const std::string* ua = req.Header("User-Agent");
  return policy_.Allowed(ua ? *ua : std::string(), req.http10);
}

LongOperations::Outcome LongOperations::Run(const std::function<void()>& work,
                                            webdav::Progress& progress, int allowed,
                                            bool cancel_on_hang_up, int socket_fd,
                                            InterimGate& gate) {
  Outcome outcome;
  Job job(work);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.insert(&progress);
  }
  try {
    pool_->start(job);
    outcome.ran_on_worker = true;
  } catch (const Poco::NoThreadAvailableException&) {
    Poco::Logger::get("keepdav.server")
        .warning("all %d long-operation workers busy: running inline without 102 Processing",
                 settings_.workers);
    job.run();
  }
  if (outcome.ran_on_worker) {
    using Clock = std::chrono::steady_clock;
    const auto interval = std::chrono::milliseconds(std::max(1, settings_.interval_ms));
    // Hang-ups are noticed within a second even when 102s are rare.
    const auto poll_every = std::min<Clock::duration>(interval, std::chrono::milliseconds(500));
    auto next_interim = Clock::now() + std::chrono::milliseconds(std::max(0, settings_.first_ms));
    auto next_poll = Clock::now() + poll_every;
    while (!job.WaitUntil(std::min(next_interim, next_poll))) {
      auto now = Clock::now();
      if (now >= next_poll) {
        next_poll = now + poll_every;
        if (!outcome.client_gone && PeerHungUp(socket_fd)) {
          outcome.client_gone = true;
          if (cancel_on_hang_up) progress.Cancel();
        }
      }
      if (now >= next_interim) {
        next_interim += interval;
        bool may_send = allowed == ProcessingPolicy::kUnlimited || outcome.interim_sent < allowed;
        if (!may_send || outcome.client_gone) continue;
        std::string msg = "HTTP/1.1 102 Processing\r\nKeepdav-Resources-Done: " +
                          std::to_string(progress.done()) + "\r\n";
        if (progress.total() > 0) {
          msg += "Keepdav-Resources-Total: " + std::to_string(progress.total()) + "\r\n";
        }
        msg += "\r\n";
        gate.WriteInterim([&] {
          const char* data = msg.data();
          size_t left = msg.size();
          while (left > 0) {
            ssize_t n = ::send(socket_fd, data, left, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            data += n;
            left -= static_cast<size_t>(n);
          }
          if (left == 0) {
            ++outcome.interim_sent;
          } else {
            outcome.client_gone = true;
            if (cancel_on_hang_up) progress.Cancel();
          }
        });
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(&progress);
  }
  return outcome;
}

void LongOperations::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (webdav::Progress* p : running_) p->Cancel();
}

size_t LongOperations::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_.size();
}

}  // namespace keepdav::server
