// ConnectionServer: accepts HTTP/1.x connections, reads request heads and hands complete
// requests to a handler on a pool of worker threads.
//
// Why not Poco's HTTPServer: measured with strace on GET of 4 KiB files over keep-alive
// connections, Poco 1.11 made about 12 system calls per request (an epoll instance created,
// armed, waited on and closed to wait for the next request, getpeername and getsockname for
// every request, headers read through a 4 KiB stream), and it holds a thread for every open
// connection, idle or not. Here all connections share one epoll set with EPOLLONESHOT: a
// worker takes a connection that has bytes, serves every request already buffered (pipelining),
// and rearms it; an idle keep-alive connection holds no thread. A request head is read without
// blocking (a slow client cannot pin a worker while it trickles its head); request bodies and
// responses use blocking I/O bounded by the socket timeouts.
//
// Limits (all settings): open connections (beyond: new clients wait in the listen backlog until
// one closes), request head size (431),
// the idle keep-alive time, and the send/receive timeout (also for a head that stops halfway).
//
// Thread-safe: Start and Stop from one thread; the handler runs on many workers at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/chunked_decoder.h"
#include "server/request_head.h"
#include "webdav/dav_request.h"

namespace keepdav::server {

// Filled from ServerConfig (dav_server.cc), which holds the defaults; none of its own here.
struct ConnectionSettings {
  std::string bind;
  uint16_t port = 0;  // 0: an ephemeral port
  int threads = 0;    // requests served at once (at least 1 is started)
  int max_connections = 0;
  int keep_alive_timeout_s = 0;
  int timeout_s = 0;
  size_t max_request_head = 0;
};

// One client connection as the request handler sees it: the bytes that follow the current
// request head (buffered first, then from the socket) and the socket itself for writing.
class Connection : public ChunkedDecoder::Source {
 public:
  int fd() const { return fd_; }
  // ChunkedDecoder::Source. Blocking, bounded by the socket's receive timeout. Get refills the
  // connection's buffer (bytes past the body stay there for the next request); Read never
  // takes more than `max` from the socket.
  int Get() override;
  long Read(char* dst, size_t max) override;
  // Bytes received and not yet consumed.
  size_t buffered() const { return end_ - begin_; }
  // Writes "HTTP/1.1 100 Continue". False when the client is gone.
  bool SendContinue();

 private:
  friend class ConnectionServer;
  Connection(uint64_t id, int fd) : id_(id), fd_(fd) {}

  uint64_t id_;
  int fd_;
  std::vector<char> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t scan_from_ = 0;  // where the search for the head's end resumes
  // Guarded by ConnectionServer::mu_:
  bool busy_ = false;        // a worker has it
  int64_t deadline_ms_ = 0;  // idle: closed by the sweeper after this (steady clock)
};

class ConnectionServer {
 public:
  // Serves one request whose head has been parsed; returns whether the connection may stay
  // open. The handler reads the body through the connection and writes the whole response.
  using Handler = std::function<bool(Connection&, webdav::DavRequest&, const RequestFraming&)>;

  ConnectionServer(ConnectionSettings settings, Handler handler);
  ~ConnectionServer();

  // Binds, listens and starts the workers. Throws Poco::Exception if the address cannot be
  // bound.
  void Start();
  // Stops accepting, lets every request in progress finish (idle connections are closed), then
  // joins the workers. Idempotent.
  void Stop();

  uint16_t port() const { return port_; }
  // Request code on a worker calls this right before anything that may wait — a receive or send
  // that would block, a long operation, a deep listing. If no other worker is then waiting on
  // the epoll set, a parked one is woken to take its place. Cheap; a no-op off a worker.
  static void BeforeBlocking();

 private:
  enum class After { kRearm, kClose };

  void WorkerLoop();
  // REQUIRES: park_mu_ held. Wakes a parked worker if none waits on the epoll set.
  void EnsureWaiterLocked();
  void SweeperLoop();
  void AcceptAll();
  // Takes the connection for a worker; null if it was closed meanwhile.
  Connection* Take(uint64_t id);
  After Serve(Connection& c);
  void Rearm(Connection& c);
  void Close(Connection& c);
  void ArmListener();
  void ResumeAcceptingLocked();

  ConnectionSettings settings_;
  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> busy_{0};  // requests being served right now
  bool started_ = false;
  std::vector<std::thread> workers_;
  std::thread sweeper_;

  std::mutex park_mu_;
  std::condition_variable park_cv_;
  int max_waiters_ = 4;                    // threads waiting on the epoll set at once: 2 per CPU
  int waiters_ = 0;                        // guarded by park_mu_
  int parked_ = 0;                         // guarded by park_mu_
  std::atomic<int64_t> last_taken_ms_{0};  // when a worker last came back from epoll_wait

  std::mutex mu_;
  std::condition_variable sweeper_cv_;
  bool accept_paused_ = false;  // at --max-connections; the listener is disarmed
  uint64_t next_id_ = 2;        // 0 and 1 are the listening socket and the wake-up event
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
};

}  // namespace keepdav::server
