// SIGHUP runs the server's reload actions (the TLS certificate and key, the users file);
// SIGINT, SIGQUIT and SIGTERM stop the server.
// This replaces Poco's ServerApplication::waitForTerminationRequest() in the app's main loop:
//
//   BlockServerSignals();            // first, before DavServer::Start() makes any thread
//   ... start serving ...
//   int signal = WaitForTerminationReloadingOnHangup(tls, [&](const storage::Status& s) {...});
//   ... stop ...
//
// The signals are blocked in every thread (threads inherit the mask of the thread that makes
// them) and taken with sigwait(2) on the waiting thread only: a SIGHUP that arrives while a
// reload runs waits for the next sigwait instead of reaching a pool thread, where its default
// action would end the process. Reload runs on the waiting thread, concurrently with handshakes
// on pool threads (TlsContext::Reload is safe for that).
// Not reentrant: one waiting thread per process.
#pragma once

#include <functional>
#include <vector>

#include "storage/status.h"

namespace keepdav::server {

class TlsContext;

// Blocks SIGHUP, SIGINT, SIGQUIT and SIGTERM in the calling thread (and so in every thread it
// starts afterwards). SIGINT stays unblocked when POCO_ENABLE_DEBUGGER is set, as in Poco.
void BlockServerSignals();

// Waits for SIGINT, SIGQUIT or SIGTERM and returns it. On each SIGHUP before that: reloads
// `tls` (null: plain HTTP, nothing to reload) and calls `on_reload` with the result — OK, or
// the error naming the file (the old certificate stays in use); the caller logs it.
// REQUIRES: BlockServerSignals() ran on this thread before any other thread was started.
int WaitForTerminationReloadingOnHangup(
    TlsContext* tls, const std::function<void(const storage::Status&)>& on_reload);

// Waits for SIGINT, SIGQUIT or SIGTERM and returns it; on each SIGHUP before that runs every
// action of `on_hangup`, in order, on this thread (each logs its own outcome).
// REQUIRES: as above.
int WaitForTerminationRunningOnHangup(const std::vector<std::function<void()>>& on_hangup);

}  // namespace keepdav::server
