#include "server/tls_reload_signal.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>

#include "server/tls_context.h"

namespace keepdav::server {

namespace {

sigset_t ServerSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  if (std::getenv("POCO_ENABLE_DEBUGGER") == nullptr) sigaddset(&set, SIGINT);
  sigaddset(&set, SIGQUIT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockServerSignals() {
  sigset_t set = ServerSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationReloadingOnHangup(
    TlsContext* tls, const std::function<void(const storage::Status&)>& on_reload) {
  std::vector<std::function<void()>> actions;
  if (tls != nullptr) actions.push_back([&] { on_reload(tls->Reload()); });
  return WaitForTerminationRunningOnHangup(actions);
}

int WaitForTerminationRunningOnHangup(const std::vector<std::function<void()>>& on_hangup) {
  sigset_t set = ServerSignals();
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    if (signal != SIGHUP) return signal;
    for (const auto& action : on_hangup) action();
  }
}

}  // namespace keepdav::server
