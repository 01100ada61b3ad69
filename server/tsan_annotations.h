// Happens-before edges ThreadSanitizer cannot see by itself, declared to it.
//
// Debian's libPoco is not built with -fsanitize=thread: a Poco reference count is an atomic, but
// its decrement runs inside libPocoNet, so TSan never sees the release that orders a thread's
// last use of a shared object before another thread deletes it. Where keepdav relies on that
// ordering (ClientConnectionLimit deleting a socket once its count is 1), the thread that used
// the object calls TsanRelease after its uses, and the deleting thread TsanAcquire before the
// delete: the edge the atomic count provides in fact. In any other build both do nothing.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define KEEPDAV_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KEEPDAV_TSAN_BUILD 1
#endif
#endif

#ifdef KEEPDAV_TSAN_BUILD
#include <sanitizer/tsan_interface.h>
// In libtsan, not declared by GCC 12's tsan_interface.h.
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace keepdav::server {

inline void TsanRelease([[maybe_unused]] const void* object) {
#ifdef KEEPDAV_TSAN_BUILD
  __tsan_release(const_cast<void*>(object));
#endif
}

inline void TsanAcquire([[maybe_unused]] const void* object) {
#ifdef KEEPDAV_TSAN_BUILD
  __tsan_acquire(const_cast<void*>(object));
#endif
}

// Runs `f` with ThreadSanitizer ignoring the calling thread's memory accesses and
// synchronisation. For a thread of keepdav's own that only calls into Poco, where Poco orders
// the uses by reference counts TSan cannot see: Poco's BasicEvent notifies a copy of its
// delegate list (shared pointers), so the notifying thread may drop the last reference to a
// delegate whose connection just ended on another thread, which TSan takes for a race on the
// delegate's mutex (DavServer::NotifyConnectionsOfStop). In any other build: `f()`.
template <typename F>
void TsanIgnoringThisThread(F&& f) {
#ifdef KEEPDAV_TSAN_BUILD
  __tsan_ignore_thread_begin();
  f();
  __tsan_ignore_thread_end();
#else
  f();
#endif
}

}  // namespace keepdav::server
