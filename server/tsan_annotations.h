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

}  // namespace keepdav::server
