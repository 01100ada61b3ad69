#include "server/auth_failure_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace keepdav::server {
namespace {

class FakeClock : public storage::Clock {
 public:
  int64_t Now() const override { return now.load(); }
  std::atomic<int64_t> now{1000000};
};

TEST(AuthFailureLimiterTest, BlocksAfterTheLimitUntilTheWindowClears) {
  FakeClock clock;
  AuthFailureLimiter limiter(clock, {});
  for (int i = 0; i < 9; ++i) {
    limiter.RecordFailure("192.0.2.1");
    EXPECT_FALSE(limiter.RetryAfterSeconds("192.0.2.1").has_value()) << i;
  }
  limiter.RecordFailure("192.0.2.1");  // the 10th, all at t=0
  ASSERT_TRUE(limiter.RetryAfterSeconds("192.0.2.1").has_value());
  EXPECT_EQ(*limiter.RetryAfterSeconds("192.0.2.1"), 60);
  clock.now += 59;
  ASSERT_TRUE(limiter.RetryAfterSeconds("192.0.2.1").has_value());
  EXPECT_EQ(*limiter.RetryAfterSeconds("192.0.2.1"), 1);
  clock.now += 1;
  EXPECT_FALSE(limiter.RetryAfterSeconds("192.0.2.1").has_value());
}

TEST(AuthFailureLimiterTest, OtherAddressesAreUnaffected) {
  FakeClock clock;
  AuthFailureLimiter limiter(clock, {});
  for (int i = 0; i < 10; ++i) limiter.RecordFailure("192.0.2.1");
  EXPECT_TRUE(limiter.RetryAfterSeconds("192.0.2.1").has_value());
  EXPECT_FALSE(limiter.RetryAfterSeconds("192.0.2.2").has_value());
  EXPECT_FALSE(limiter.RetryAfterSeconds("2001:db8::1").has_value());
}

TEST(AuthFailureLimiterTest, WindowSlides) {
  FakeClock clock;
  AuthFailureLimiter limiter(clock, {3, 60, 100});
  limiter.RecordFailure("a");  // t=0
  clock.now += 30;
  limiter.RecordFailure("a");  // t=30
  clock.now += 20;
  limiter.RecordFailure("a");  // t=50: three within 60 s
  ASSERT_TRUE(limiter.RetryAfterSeconds("a").has_value());
  EXPECT_EQ(*limiter.RetryAfterSeconds("a"), 10);  // the t=0 failure leaves at t=60
  clock.now += 10;                                 // t=60
  EXPECT_FALSE(limiter.RetryAfterSeconds("a").has_value());
  limiter.RecordFailure("a");  // t=60: failures at 30, 50, 60
  ASSERT_TRUE(limiter.RetryAfterSeconds("a").has_value());
  EXPECT_EQ(*limiter.RetryAfterSeconds("a"), 30);  // until t=90
}

TEST(AuthFailureLimiterTest, FailuresSpreadOverMoreThanAWindowNeverBlock) {
  FakeClock clock;
  AuthFailureLimiter limiter(clock, {10, 60, 100});
  for (int i = 0; i < 100; ++i) {
    limiter.RecordFailure("a");
    EXPECT_FALSE(limiter.RetryAfterSeconds("a").has_value()) << i;
    clock.now += 7;  // at most 9 in any 60 s
  }
}

TEST(AuthFailureLimiterTest, MemoryIsBounded) {
  FakeClock clock;
  AuthFailureLimiter limiter(clock, {10, 60, 50});
  for (int i = 0; i < 1000; ++i) limiter.RecordFailure("10.0.0." + std::to_string(i));
  EXPECT_LE(limiter.TrackedAddresses(), 50u);
  // The newest address is still tracked, the oldest ones were dropped.
  for (int i = 0; i < 9; ++i) limiter.RecordFailure("10.0.0.999");
  EXPECT_TRUE(limiter.RetryAfterSeconds("10.0.0.999").has_value());
}

TEST(AuthFailureLimiterTest, ExpiredAddressesAreDroppedBeforeActiveOnes) {
  FakeClock clock;
  AuthFailureLimiter limiter(clock, {2, 60, 3});
  limiter.RecordFailure("old1");  // t=0
  clock.now += 30;
  limiter.RecordFailure("blocked");  // t=30, twice: blocked until t=90
  limiter.RecordFailure("blocked");
  limiter.RecordFailure("old2");  // t=30
  clock.now += 40;                // t=70: only old1's failure has left the window
  limiter.RecordFailure("new");
  EXPECT_TRUE(limiter.RetryAfterSeconds("blocked").has_value());
  EXPECT_TRUE(limiter.RetryAfterSeconds("blocked").has_value());
  EXPECT_EQ(limiter.TrackedAddresses(), 3u);  // blocked, old2, new
  limiter.RecordFailure("new");
  EXPECT_TRUE(limiter.RetryAfterSeconds("new").has_value());
}

TEST(AuthFailureLimiterTest, EntriesVanishAfterTheWindow) {
  FakeClock clock;
  AuthFailureLimiter limiter(clock, {});
  limiter.RecordFailure("a");
  EXPECT_EQ(limiter.TrackedAddresses(), 1u);
  clock.now += 61;
  EXPECT_FALSE(limiter.RetryAfterSeconds("a").has_value());
  EXPECT_EQ(limiter.TrackedAddresses(), 0u);
}

TEST(AuthFailureLimiterTest, LogLineEscapesTheUserName) {
  EXPECT_EQ(AuthFailureLimiter::FailedLoginLogLine("alice", "192.0.2.7"),
            "keepdav: authentication failed for user \"alice\" from 192.0.2.7");
  EXPECT_EQ(AuthFailureLimiter::FailedLoginLogLine("a\"b\\c\nkeepdav: x", "2001:db8::1"),
            "keepdav: authentication failed for user \"a\\x22b\\x5cc\\x0akeepdav: x\" from "
            "2001:db8::1");
  EXPECT_EQ(AuthFailureLimiter::FailedLoginLogLine("\xc3\xa9", "1.2.3.4 zzz"),
            "keepdav: authentication failed for user \"\\xc3\\xa9\" from 1.2.3.4????");
}

}  // namespace
}  // namespace keepdav::server
