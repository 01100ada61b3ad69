// Upper time bounds in tests, stretched under a slow build.
//
// A test that asserts "answered within 1 s" checks that nothing waits (a queue, a lock, a
// timeout) — not how fast the CPU is. Under ThreadSanitizer every memory access is checked and
// the same code runs 5 to 15 times slower, so scripts/test.sh sets KEEPDAV_TEST_TIME_FACTOR for
// build-tsan/ and the bounds below grow by that factor. Unset, empty or not a whole number from
// 1 to 100, the factor is 1: a normal build keeps the tight bound. Lower bounds ("waited at
// least 500 ms") are never scaled: a slower machine cannot make a wait shorter.
//
// KEEPDAV_TEST_WORK_PERCENT (1 to 100, default 100) sizes the heavy suites' loops (Sized): under
// TSan a thousand connections are a thousand instrumented threads, and a smaller count still
// exercises the same code paths and locks.
#pragma once

#include <chrono>
#include <cstdlib>
#include <string>

namespace keepdav::test_support {

// The whole number from 1 to 100 in environment variable `name`, else `fallback`.
inline int EnvPercentOrFactor(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  long n = std::strtol(value, &end, 10);
  if (*end != '\0' || n < 1 || n > 100) return fallback;
  return static_cast<int>(n);
}

// KEEPDAV_TEST_TIME_FACTOR as read once per process (1 when unset or invalid).
inline int TimeFactor() {
  static const int factor = EnvPercentOrFactor("KEEPDAV_TEST_TIME_FACTOR", 1);
  return factor;
}

// `count` times KEEPDAV_TEST_WORK_PERCENT / 100, at least `minimum` (and at most `count`).
inline int Sized(int count, int minimum) {
  static const int percent = EnvPercentOrFactor("KEEPDAV_TEST_WORK_PERCENT", 100);
  int sized = count * percent / 100;
  return sized < minimum ? (minimum < count ? minimum : count) : sized;
}

// `bound` times TimeFactor(): for deadlines and "within" assertions.
template <typename Rep, typename Period>
std::chrono::duration<Rep, Period> Scaled(std::chrono::duration<Rep, Period> bound) {
  return bound * TimeFactor();
}

// The same for a bound held as a plain number (milliseconds, seconds).
inline int Scaled(int bound) {
  return bound * TimeFactor();
}

}  // namespace keepdav::test_support
