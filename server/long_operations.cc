#include "server/long_operations.h"

#include <Poco/Logger.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>

namespace keepdav::server {

namespace {

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

struct LongOperations::Watch {
  std::shared_ptr<InterimGate> gate;
  // Used only under the gate's lock before the final response (then the request owns them).
  Wire* wire = nullptr;
  webdav::Progress* progress = nullptr;
  int allowed = 0;
  bool cancel_on_hang_up = true;
  // Written under the gate's lock; read by Run after MarkFinal.
  int interim_sent = 0;
  bool client_gone = false;
  bool watched = false;  // set before the watch is registered
  // The watcher's own schedule (set before the watch is registered, then only by the watcher).
  std::chrono::steady_clock::time_point next_interim;
  std::chrono::steady_clock::time_point next_poll;
};

LongOperations::LongOperations(ProcessingPolicy policy, ProcessingSettings settings)
    : policy_(std::move(policy)), settings_(std::move(settings)) {
  if (settings_.first_ms < 0) settings_.first_ms = settings_.interval_ms;
  settings_.workers = std::max(1, settings_.workers);
  watcher_ = std::thread([this] { WatcherLoop(); });
}

LongOperations::~LongOperations() {
  CancelAll();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  watcher_.join();
}

int LongOperations::Allowed(const webdav::DavRequest& req) const {
  const std::string* ua = req.Header("User-Agent");
  return policy_.Allowed(ua ? *ua : std::string(), req.http10);
}

namespace {

// Hang-ups are noticed within half a second even when 102s are rare.
std::chrono::milliseconds PollEvery(int interval_ms) {
  return std::chrono::milliseconds(std::min(std::max(1, interval_ms), 500));
}

}  // namespace

LongOperations::Ticket LongOperations::Start(webdav::Progress& progress, int allowed,
                                             bool cancel_on_hang_up, Wire& wire,
                                             const std::shared_ptr<InterimGate>& gate) {
  using Clock = std::chrono::steady_clock;
  auto watch = std::make_shared<Watch>();
  watch->gate = gate;
  watch->wire = &wire;
  watch->progress = &progress;
  watch->allowed = allowed;
  watch->cancel_on_hang_up = cancel_on_hang_up;
  auto now = Clock::now();
  watch->next_interim = now + std::chrono::milliseconds(std::max(0, settings_.first_ms));
  watch->next_poll = now + PollEvery(settings_.interval_ms);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.insert(&progress);
    if (watches_.size() < static_cast<size_t>(settings_.workers)) {
      watches_.push_back(watch);
      watch->watched = true;
    }
  }
  if (watch->watched) {
    cv_.notify_one();  // the watcher recomputes its next wake-up
  } else {
    Poco::Logger::get("keepdav.server")
        .warning("%d long operations already watched (--long-workers): running without 102s",
                 settings_.workers);
  }
  return watch;
}

LongOperations::Outcome LongOperations::Finish(const Ticket& watch) {
  watch->gate->MarkFinal();  // from here on the watcher leaves the socket and the progress alone
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(watch->progress);
    if (watch->watched) {
      watches_.erase(std::find(watches_.begin(), watches_.end(), watch));
    }
  }
  Outcome outcome;
  outcome.watched = watch->watched;
  outcome.interim_sent = watch->interim_sent;
  outcome.client_gone = watch->client_gone;
  return outcome;
}

void LongOperations::WatcherLoop() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    Clock::time_point next = Clock::time_point::max();
    for (const auto& w : watches_) next = std::min({next, w->next_interim, w->next_poll});
    if (next == Clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, next);
    }
    if (stop_) break;
    auto now = Clock::now();
    std::vector<std::shared_ptr<Watch>> due;
    for (const auto& w : watches_) {
      if (w->next_interim <= now || w->next_poll <= now) due.push_back(w);
    }
    if (due.empty()) continue;
    lock.unlock();
    for (const auto& w : due) Service(*w, now);
    lock.lock();
  }
}

void LongOperations::Service(Watch& w, std::chrono::steady_clock::time_point now) {
  if (now >= w.next_poll) {
    w.next_poll = now + PollEvery(settings_.interval_ms);
    w.gate->RunBeforeFinal([&] {
      if (!w.client_gone && PeerHungUp(w.wire->fd())) {
        w.client_gone = true;
        if (w.cancel_on_hang_up) w.progress->Cancel();
      }
    });
  }
  if (now < w.next_interim) return;
  w.next_interim += std::chrono::milliseconds(std::max(1, settings_.interval_ms));
  if (w.next_interim < now) w.next_interim = now;  // a late wake-up does not send a burst
  w.gate->RunBeforeFinal([&] {
    bool may_send = w.allowed == ProcessingPolicy::kUnlimited || w.interim_sent < w.allowed;
    if (!may_send || w.client_gone) return;
    std::string msg =
        "HTTP/1.1 102 Processing\r\nKeepdav-Resources-Done: " + std::to_string(w.progress->done()) +
        "\r\n";
    if (w.progress->total() > 0) {
      msg += "Keepdav-Resources-Total: " + std::to_string(w.progress->total()) + "\r\n";
    }
    msg += "\r\n";
    // Without waiting for a client that does not read (the watcher serves every operation): a
    // full socket skips this 102. Writable means room for far more than these few bytes, so the
    // write then does not wait either (the socket's send timeout would bound it).
    struct pollfd p = {w.wire->fd(), POLLOUT, 0};
    if (::poll(&p, 1, 0) <= 0 || (p.revents & POLLOUT) == 0) return;
    struct iovec iov = {msg.data(), msg.size()};
    bool written = true;
    try {
      w.wire->Write(&iov, 1, /*more=*/false);
    } catch (const std::exception&) {
      written = false;
    }
    if (written) {
      ++w.interim_sent;
    } else {
      w.client_gone = true;
      if (w.cancel_on_hang_up) w.progress->Cancel();
    }
  });
}

void LongOperations::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (webdav::Progress* p : running_) p->Cancel();
}

}  // namespace keepdav::server
