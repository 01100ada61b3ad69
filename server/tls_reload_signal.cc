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
  sigset_t set = ServerSignals();
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    if (signal != SIGHUP) return signal;
    if (tls != nullptr) on_reload(tls->Reload());
  }
}

}  // namespace keepdav::server
