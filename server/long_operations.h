// LongOperations: keeps the client of a deep WebDAV operation informed with "102 Processing"
// interim responses (RFC 2518 §10.1) until the final response starts, and notices a client that
// hung up.
//
// The operation runs on the request's own thread (the Poco pool thread that serves its
// connection). One watcher thread serves every operation in progress:
//   request thread                              watcher (one for the server)
//   runs DavHandler::Handle(...), which calls   first_ms after Start, then every
//     Progress::BeginLong() once it knows the     interval_ms: under the gate's lock, unless the
//     work is long; then the adapter reads the    final response has started, writes
//     whole request body and calls Start          "HTTP/1.1 102 Processing" + progress
//   right before the final status line:
//     gate.MarkFinal() (waits for a 102 being   every 500 ms (or the interval, if shorter):
//     written, then forbids further ones)          polls the socket; a client that hung up
//   unregisters and goes on at once                cancels the operation (Progress::Cancel)
// The watcher touches the connection (its Wire: the 102 is written with Wire::Write, so over TLS
// it goes through the same SSL* as the response, never both at once) and the progress only under
// the gate's lock and before the final response, so the request's thread never waits for it: the
// next request on the connection is served as soon as the response is out. Hang-ups are seen by
// polling Wire::fd() for POLLRDHUP (Poco has no hook for them); a failed 102 counts as one too.
//
// webdav/ knows nothing of this: it reports progress and checks Progress::cancelled().
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/processing_policy.h"
#include "server/wire.h"
#include "webdav/dav_request.h"

namespace keepdav::server {

struct ProcessingSettings {
  std::string mode = "auto";
  std::string client_rules = ProcessingPolicy::DefaultClientRules();
  int interval_ms = 20000;
  int first_ms = -1;         // -1: the same as interval_ms
  int max_per_request = -1;  // -1: no global cap
  int workers = 16;          // long operations watched at once (more run without 102s)
  int shutdown_timeout_s = 30;
};

// Orders interim responses before the final one. Shared (shared_ptr) by the request's thread,
// whose sink closes it, and the watcher, which may still hold it after the request is done.
class InterimGate {
 public:
  // Called right before the final response's status line is written; idempotent.
  void MarkFinal() {
    std::lock_guard<std::mutex> lock(mu_);
    final_started_ = true;
  }
  // Runs `fn` under the lock unless the final response has started. Returns whether it ran.
  template <typename Fn>
  bool RunBeforeFinal(Fn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    if (final_started_) return false;
    fn();
    return true;
  }

 private:
  std::mutex mu_;
  bool final_started_ = false;
};

class LongOperations {
 public:
  // REQUIRES: `policy` was created from `settings`.
  LongOperations(ProcessingPolicy policy, ProcessingSettings settings);
  ~LongOperations();

  // How many 102s this request may get (ProcessingPolicy::Allowed).
  int Allowed(const webdav::DavRequest& req) const;

  struct Outcome {
    bool watched = false;  // false: every watch slot was taken, no 102s and no hang-up check
    int interim_sent = 0;
    bool client_gone = false;
  };

  // What a client hang-up does to an operation of `method`: COPY (and a cross-device MOVE, which
  // is staged) roll back, PROPFIND just stops; DELETE finishes, because removed members cannot
  // be brought back and a half-deleted tree helps nobody. Shutdown cancels all of them.
  static bool CancelOnHangUp(const std::string& method) { return method != "DELETE"; }

  // One operation between Start and Finish.
  struct Watch;
  using Ticket = std::shared_ptr<Watch>;

  // Starts watching an operation already running on the calling thread (it called
  // Progress::BeginLong): the watcher sends up to `allowed` (or unlimited) interim responses
  // through `wire` under `gate` and notices hang-ups. `wire` must outlive Finish. REQUIRES: nothing
  // of the final response has been written yet and the whole request body has been read. The caller
  // must close the gate (MarkFinal) before it writes the final response, and call Finish once the
  // work is done. Without a free watch slot the operation runs unwatched (Finish says so).
  Ticket Start(webdav::Progress& progress, int allowed, bool cancel_on_hang_up, Wire& wire,
               const std::shared_ptr<InterimGate>& gate);
  // Closes the gate, stops watching and reports what happened. Call once per Start.
  Outcome Finish(const Ticket& ticket);

  // Asks every running operation to stop at its next safe point (shutdown).
  void CancelAll();

  const ProcessingSettings& settings() const { return settings_; }

 private:
  void WatcherLoop();
  void Service(Watch& w, std::chrono::steady_clock::time_point now);

  ProcessingPolicy policy_;
  ProcessingSettings settings_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                            // guarded by mu_
  std::vector<std::shared_ptr<Watch>> watches_;  // guarded by mu_
  std::set<webdav::Progress*> running_;          // guarded by mu_
  std::thread watcher_;
};

}  // namespace keepdav::server
