// LongOperations: runs deep WebDAV operations on a worker while the connection's own thread keeps
// the client informed with "102 Processing" interim responses (RFC 2518 §10.1) until the final
// response starts.
//
// Protocol on one connection:
//   connection thread                        worker
//   reads the whole request body first       runs DavHandler::Handle(...)
//   waits first_ms, then every interval_ms:  when the final response is about to be sent:
//     under the gate's lock, unless the         gate.MarkFinal() (waits for a 102 being
//     final response has started, writes         written, then forbids further ones)
//     "HTTP/1.1 102 Processing" + progress
//   polls the socket: a client that hung up
//     cancels the operation (Progress::Cancel)
//   returns when the worker is done
//
// webdav/ knows nothing of this: it reports progress and checks Progress::cancelled().
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "server/processing_policy.h"
#include "webdav/dav_request.h"

namespace Poco {
class ThreadPool;
}  // namespace Poco

namespace keepdav::server {

struct ProcessingSettings {
  std::string mode = "auto";
  std::string client_rules = ProcessingPolicy::DefaultClientRules();
  int interval_ms = 20000;
  int first_ms = -1;         // -1: the same as interval_ms
  int max_per_request = -1;  // -1: no global cap
  int workers = 16;          // long operations running at once on workers
  int shutdown_timeout_s = 30;
};

// Orders interim responses before the final one. Shared by the connection thread and the sink
// the worker writes through.
class InterimGate {
 public:
  // Called by the worker right before the final response's status line is written.
  void MarkFinal() {
    std::lock_guard<std::mutex> lock(mu_);
    final_started_ = true;
  }
  // Runs `write` under the lock unless the final response has started. Returns whether it ran.
  bool WriteInterim(const std::function<void()>& write) {
    std::lock_guard<std::mutex> lock(mu_);
    if (final_started_) return false;
    write();
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
    bool ran_on_worker = false;
    int interim_sent = 0;
    bool client_gone = false;
  };

  // What a client hang-up does to an operation of `method`: COPY (and a cross-device MOVE, which
  // is staged) roll back, PROPFIND just stops; DELETE finishes, because removed members cannot
  // be brought back and a half-deleted tree helps nobody. Shutdown cancels all of them.
  static bool CancelOnHangUp(const std::string& method) { return method != "DELETE"; }

  // Runs `work` on a worker thread and sends up to `allowed` (or unlimited) interim responses on
  // `socket_fd` through `gate` while it runs. Falls back to running `work` on the calling thread
  // (no 102s) when every worker is busy. Returns when `work` has finished.
  Outcome Run(const std::function<void()>& work, webdav::Progress& progress, int allowed,
              bool cancel_on_hang_up, int socket_fd, InterimGate& gate);

  // Asks every running operation to stop at its next safe point (shutdown).
  void CancelAll();
  // Operations running now.
  size_t running() const;

  const ProcessingSettings& settings() const { return settings_; }

 private:
  ProcessingPolicy policy_;
  ProcessingSettings settings_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  mutable std::mutex mu_;
  std::set<webdav::Progress*> running_;
};

}  // namespace keepdav::server
