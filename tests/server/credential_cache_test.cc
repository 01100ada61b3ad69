#include "server/credential_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace keepdav::server {
namespace {

class FakeClock : public storage::Clock {
 public:
  int64_t Now() const override { return now.load(); }
  std::atomic<int64_t> now{5000};
};

TEST(CredentialCacheTest, RemembersAVerifiedPairForTheTtl) {
  FakeClock clock;
  CredentialCache cache(clock, {60, 16});
  EXPECT_FALSE(cache.Contains("alice", "secret"));
  cache.Insert("alice", "secret");
  EXPECT_TRUE(cache.Contains("alice", "secret"));
  clock.now += 59;
  EXPECT_TRUE(cache.Contains("alice", "secret"));
  clock.now += 1;
  EXPECT_FALSE(cache.Contains("alice", "secret"));
  EXPECT_EQ(cache.Size(), 0u);
}

TEST(CredentialCacheTest, OnlyTheExactPairMatches) {
  FakeClock clock;
  CredentialCache cache(clock, {60, 16});
  cache.Insert("ab", "c");
  EXPECT_TRUE(cache.Contains("ab", "c"));
  EXPECT_FALSE(cache.Contains("a", "bc"));  // same concatenation, different pair
  EXPECT_FALSE(cache.Contains("ab", "C"));
  EXPECT_FALSE(cache.Contains("AB", "c"));
  EXPECT_FALSE(cache.Contains("ab", ""));
  EXPECT_FALSE(cache.Contains("ab", "c "));
}

TEST(CredentialCacheTest, ClearForgetsEverything) {
  FakeClock clock;
  CredentialCache cache(clock, {60, 16});
  cache.Insert("alice", "secret");
  cache.Insert("bob", "hunter2");
  cache.Clear();
  EXPECT_FALSE(cache.Contains("alice", "secret"));
  EXPECT_FALSE(cache.Contains("bob", "hunter2"));
}

TEST(CredentialCacheTest, SizeIsBounded) {
  FakeClock clock;
  CredentialCache cache(clock, {60, 8});
  for (int i = 0; i < 100; ++i) cache.Insert("user" + std::to_string(i), "pw");
  EXPECT_LE(cache.Size(), 8u);
  EXPECT_TRUE(cache.Contains("user99", "pw"));  // the newest survives
}

TEST(CredentialCacheTest, EvictsTheEntryClosestToExpiryFirst) {
  FakeClock clock;
  CredentialCache cache(clock, {60, 2});
  cache.Insert("old", "pw");
  clock.now += 10;
  cache.Insert("mid", "pw");
  clock.now += 10;
  cache.Insert("new", "pw");
  EXPECT_FALSE(cache.Contains("old", "pw"));
  EXPECT_TRUE(cache.Contains("mid", "pw"));
  EXPECT_TRUE(cache.Contains("new", "pw"));
}

TEST(CredentialCacheTest, ZeroTtlDisablesTheCache) {
  FakeClock clock;
  CredentialCache cache(clock, {0, 16});
  cache.Insert("alice", "secret");
  EXPECT_FALSE(cache.Contains("alice", "secret"));
  EXPECT_EQ(cache.Size(), 0u);
}

TEST(CredentialCacheTest, KeysDifferBetweenInstances) {
  // Two caches (two processes) do not share a key: an entry is only meaningful to its cache.
  FakeClock clock;
  CredentialCache first(clock, {60, 16});
  CredentialCache second(clock, {60, 16});
  first.Insert("alice", "secret");
  EXPECT_FALSE(second.Contains("alice", "secret"));
}

}  // namespace
}  // namespace keepdav::server
