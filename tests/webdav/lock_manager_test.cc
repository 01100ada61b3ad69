// LockManager on an in-memory LockStore and a fake clock: expiry, refresh, conflicts,
// enforcement, caps, and a long randomized run checked against a simple model after every step.
#include "webdav/lock_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/sqlite/sqlite_lock_store.h"

namespace keepdav::webdav {
namespace {

using storage::LockRecord;
using storage::ResourcePath;

class FakeClock : public storage::Clock {
 public:
  int64_t Now() const override { return now_; }
  void Advance(int64_t seconds) { now_ += seconds; }

 private:
  int64_t now_ = 1000000;
};

ResourcePath P(std::string_view s) {
  auto r = ResourcePath::Parse(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? r.value() : ResourcePath();
}

LockRequest Request(std::string_view root, bool infinite, bool exclusive, int64_t timeout = 60) {
  LockRequest r;
  r.root = P(root);
  r.infinite_depth = infinite;
  r.exclusive = exclusive;
  r.owner = "<D:owner xmlns:D=\"DAV:\">test</D:owner>";
  r.timeout_s = timeout;
  return r;
}

class LockManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::Database::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    store_ = std::make_unique<storage::SqliteLockStore>(*db_);
    Reset(LockSettings());
  }
  void Reset(LockSettings settings) {
    manager_ = std::make_unique<LockManager>(*store_, clock_, settings);
  }

  // Grants a lock or fails the test.
  LockRecord Grant(const LockRequest& request) {
    LockRecord granted;
    DavError err = manager_->Lock(request, &granted);
    EXPECT_TRUE(err.ok()) << err.status << " " << err.message;
    return granted;
  }
  int LockStatus(const LockRequest& request) {
    LockRecord granted;
    return manager_->Lock(request, &granted).status;
  }
  int Check(std::vector<ChangedResource> changes, std::vector<std::string> tokens = {}) {
    return manager_->CheckSubmitted(changes, tokens).status;
  }

  FakeClock clock_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::LockStore> store_;
  std::unique_ptr<LockManager> manager_;
};

TEST(ParseTimeoutHeaderTest, Values) {
  EXPECT_EQ(ParseTimeoutHeader("Second-3600"), 3600);
  EXPECT_EQ(ParseTimeoutHeader("second-5"), 5);
  EXPECT_EQ(ParseTimeoutHeader("Infinite"), kInfiniteTimeout);
  EXPECT_EQ(ParseTimeoutHeader("Infinite, Second-4100000000"), kInfiniteTimeout);
  EXPECT_EQ(ParseTimeoutHeader("Second-4100, Infinite"), 4100);
  EXPECT_EQ(ParseTimeoutHeader("Bogus, Second-20"), 20);
  EXPECT_EQ(ParseTimeoutHeader("Second-99999999999999999999"), 4294967295LL);
  EXPECT_EQ(ParseTimeoutHeader("Second-0"), 1);
  EXPECT_EQ(ParseTimeoutHeader(""), kNoTimeout);
  EXPECT_EQ(ParseTimeoutHeader("Second-"), kNoTimeout);
  EXPECT_EQ(ParseTimeoutHeader("Second-12a"), kNoTimeout);
  EXPECT_EQ(ParseTimeoutHeader("Infinitely"), kNoTimeout);
}

TEST_F(LockManagerTest, GrantedTimeoutIsCapped) {
  LockSettings s;
  s.timeout_max_s = 100;
  Reset(s);
  EXPECT_EQ(Grant(Request("/a", false, true, 50)).timeout_s, 50);
  EXPECT_EQ(Grant(Request("/b", false, true, 500)).timeout_s, 100);
  EXPECT_EQ(Grant(Request("/c", false, true, kInfiniteTimeout)).timeout_s, 100);
  EXPECT_EQ(Grant(Request("/d", false, true, kNoTimeout)).timeout_s, 100);
}

TEST_F(LockManagerTest, TokensAreUniqueUuidUrns) {
  LockRecord a = Grant(Request("/a", false, false));
  LockRecord b = Grant(Request("/a", false, false));
  EXPECT_EQ(a.token.rfind("urn:uuid:", 0), 0u) << a.token;
  EXPECT_EQ(a.token.size(), 9u + 36u);
  EXPECT_NE(a.token, b.token);
}

TEST_F(LockManagerTest, LockExpiresExactlyAtItsTimeout) {
  LockRecord lock = Grant(Request("/a", false, true, 60));
  EXPECT_EQ(lock.expires_at, clock_.Now() + 60);
  clock_.Advance(59);
  EXPECT_EQ(Check({{P("/a")}}), 423);
  EXPECT_EQ(LockStatus(Request("/a", false, true)), 423);
  clock_.Advance(1);
  EXPECT_EQ(Check({{P("/a")}}), 0);
  EXPECT_TRUE(manager_->Covering(P("/a"))->empty());
  EXPECT_EQ(manager_->Unlock(lock.token, P("/a")).status, 409);
  LockRecord again = Grant(Request("/a", false, true));
  EXPECT_NE(again.token, lock.token);
}

TEST_F(LockManagerTest, RefreshExtendsFromNow) {
  LockRecord lock = Grant(Request("/a", true, true, 60));
  clock_.Advance(50);
  LockRecord refreshed;
  ASSERT_TRUE(manager_->Refresh(lock.token, P("/a/deep/member"), 100, &refreshed).ok());
  EXPECT_EQ(refreshed.token, lock.token);
  EXPECT_EQ(refreshed.timeout_s, 100);
  EXPECT_EQ(refreshed.expires_at, clock_.Now() + 100);
  clock_.Advance(99);
  EXPECT_EQ(Check({{P("/a")}}), 423);
  clock_.Advance(1);
  EXPECT_EQ(Check({{P("/a")}}), 0);
  // An expired lock cannot be brought back.
  DavError err = manager_->Refresh(lock.token, P("/a"), 100, &refreshed);
  EXPECT_EQ(err.status, 412);
  EXPECT_EQ(err.precondition, "lock-token-matches-request-uri");
}

TEST_F(LockManagerTest, RefreshAndUnlockNeedAUrlInTheLockScope) {
  LockRecord lock = Grant(Request("/a", false, true));
  LockRecord refreshed;
  EXPECT_EQ(manager_->Refresh(lock.token, P("/a/b"), 10, &refreshed).status, 412);
  EXPECT_EQ(manager_->Refresh("urn:uuid:nope", P("/a"), 10, &refreshed).status, 412);
  DavError err = manager_->Unlock(lock.token, P("/b"));
  EXPECT_EQ(err.status, 409);
  EXPECT_EQ(err.precondition, "lock-token-matches-request-uri");
  EXPECT_TRUE(manager_->Unlock(lock.token, P("/a")).ok());
  EXPECT_EQ(manager_->Unlock(lock.token, P("/a")).status, 409);
}

TEST_F(LockManagerTest, ExclusiveConflictsWithEverythingOverlapping) {
  LockRecord lock = Grant(Request("/c", true, true));
  DavError err;
  LockRecord out;
  err = manager_->Lock(Request("/c", false, false), &out);
  EXPECT_EQ(err.status, 423);
  EXPECT_EQ(err.precondition, "no-conflicting-lock");
  EXPECT_EQ(err.href, "/c");
  EXPECT_EQ(LockStatus(Request("/c/member", false, true)), 423);
  EXPECT_EQ(LockStatus(Request("/c/member/deeper", true, false)), 423);
  EXPECT_EQ(LockStatus(Request("/", true, false)), 423);  // a lock below the new root
  EXPECT_EQ(LockStatus(Request("/", false, true)), 0);    // depth 0: /c is outside its scope
  EXPECT_EQ(LockStatus(Request("/other", true, true)), 0);
}

TEST_F(LockManagerTest, SharedLocksCoexistButNotWithExclusive) {
  Grant(Request("/f", false, false));
  Grant(Request("/f", false, false));
  EXPECT_EQ(LockStatus(Request("/f", false, true)), 423);
  Grant(Request("/", true, false));  // a shared lock over shared locks
  EXPECT_EQ(LockStatus(Request("/g", false, true)), 423);
}

TEST_F(LockManagerTest, DepthZeroOnACollectionLeavesMembersFree) {
  Grant(Request("/c", false, true));
  EXPECT_EQ(LockStatus(Request("/c/x", true, true)), 0);
  EXPECT_EQ(LockStatus(Request("/c", true, false)), 423);
}

TEST_F(LockManagerTest, EnforcementOnTheResourceItself) {
  LockRecord lock = Grant(Request("/f", false, true));
  DavError err = manager_->CheckSubmitted({{P("/f")}}, {});
  EXPECT_EQ(err.status, 423);
  EXPECT_EQ(err.precondition, "lock-token-submitted");
  EXPECT_EQ(err.href, "/f");
  EXPECT_EQ(Check({{P("/f")}}, {"urn:uuid:wrong"}), 423);
  EXPECT_EQ(Check({{P("/f")}}, {"urn:uuid:wrong", lock.token}), 0);
  EXPECT_EQ(Check({{P("/g")}}), 0);
}

TEST_F(LockManagerTest, DepthInfinityCoversMembersNewAndOld) {
  LockRecord lock = Grant(Request("/c", true, true));
  DavError err = manager_->CheckSubmitted({{P("/c/a/new.txt"), false, true}}, {});
  EXPECT_EQ(err.status, 423);
  EXPECT_EQ(err.href, "/c");
  EXPECT_EQ(Check({{P("/c/a/new.txt"), false, true}}, {lock.token}), 0);
}

TEST_F(LockManagerTest, DepthZeroCollectionLockGuardsMembership) {
  LockRecord lock = Grant(Request("/c", false, true));
  // Changing an existing member's content is not a membership change (§7.4).
  EXPECT_EQ(Check({{P("/c/x")}}), 0);
  // Creating or removing one is.
  EXPECT_EQ(Check({{P("/c/x"), false, true}}), 423);
  EXPECT_EQ(Check({{P("/c/x"), true, true}}, {lock.token}), 0);
  // A grandchild is not the locked collection's member.
  EXPECT_EQ(Check({{P("/c/x/y"), false, true}}), 0);
}

TEST_F(LockManagerTest, TreeChangesNeedEveryInnerToken) {
  LockRecord x = Grant(Request("/c/x", false, true));
  LockRecord y = Grant(Request("/c/d/y", true, true));
  DavError err = manager_->CheckSubmitted({{P("/c"), true, true}}, {x.token});
  EXPECT_EQ(err.status, 423);
  EXPECT_EQ(err.href, "/c/d/y");
  EXPECT_EQ(Check({{P("/c"), true, true}}, {y.token}), 423);
  EXPECT_EQ(Check({{P("/c"), true, true}}, {x.token, y.token}), 0);
  // Without with_members, locks inside do not matter.
  EXPECT_EQ(Check({{P("/c"), false, false}}), 0);
}

TEST_F(LockManagerTest, OneSharedTokenIsEnough) {
  LockRecord a = Grant(Request("/f", false, false));
  LockRecord b = Grant(Request("/f", false, false));
  EXPECT_EQ(Check({{P("/f")}}), 423);
  EXPECT_EQ(Check({{P("/f")}}, {a.token}), 0);
  EXPECT_EQ(Check({{P("/f")}}, {b.token}), 0);
}

TEST_F(LockManagerTest, RemoveTreeForgetsRemovedLocksAndCanKeepTheRoot) {
  LockRecord top = Grant(Request("/d", false, true));
  LockRecord inner = Grant(Request("/d/x", false, true));
  LockRecord outside = Grant(Request("/dx", false, true));
  ASSERT_TRUE(manager_->RemoveTree(P("/d"), /*keep_root=*/true).ok());
  EXPECT_EQ(manager_->Covering(P("/d"))->size(), 1u);
  EXPECT_TRUE(manager_->Covering(P("/d/x"))->empty());
  ASSERT_TRUE(manager_->RemoveTree(P("/d")).ok());
  EXPECT_TRUE(manager_->Covering(P("/d"))->empty());
  EXPECT_EQ(manager_->Covering(P("/dx"))->size(), 1u);
}

TEST_F(LockManagerTest, CapsAnswer507) {
  LockSettings s;
  s.max_locks_per_resource = 2;
  s.max_locks = 3;
  Reset(s);
  Grant(Request("/a", false, false));
  Grant(Request("/a", false, false));
  DavError err;
  LockRecord out;
  err = manager_->Lock(Request("/a", false, false), &out);
  EXPECT_EQ(err.status, 507);
  EXPECT_NE(err.message.find("max-locks-per-resource"), std::string::npos) << err.message;
  Grant(Request("/b", false, false));
  err = manager_->Lock(Request("/c", false, false), &out);
  EXPECT_EQ(err.status, 507);
  EXPECT_NE(err.message.find("--max-locks"), std::string::npos) << err.message;
  // Expired locks free their places.
  clock_.Advance(3600);
  Grant(Request("/c", false, false));
}

// --- Randomized operations against a model ---

struct ModelLock {
  std::string token;
  std::string root;
  bool infinite;
  bool exclusive;
  int64_t expires_at;
};

bool ModelCovers(const ModelLock& l, const ResourcePath& path) {
  ResourcePath root = P(l.root);
  return root == path || (l.infinite && root.Contains(path));
}

bool Conflict(const ModelLock& a, const ModelLock& b) {
  bool overlap = ModelCovers(a, P(b.root)) || ModelCovers(b, P(a.root));
  return overlap && (a.exclusive || b.exclusive);
}

TEST_F(LockManagerTest, RandomizedOperationsKeepTheInvariants) {
  LockSettings settings;
  settings.timeout_max_s = 300;
  settings.max_locks_per_resource = 2;
  settings.max_locks = 8;
  Reset(settings);
  const std::vector<std::string> paths = {"/",      "/a", "/a/b", "/a/b/c", "/a/d",
                                          "/a/d/e", "/b", "/b/f", "/ab",    "/ab/g"};
  std::mt19937 rng(20261125);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<ModelLock> model;  // every lock ever granted and not removed
  std::vector<std::string> known_tokens = {"urn:uuid:never-granted"};

  auto active = [&]() {
    std::vector<ModelLock> out;
    for (const ModelLock& l : model) {
      if (clock_.Now() < l.expires_at) out.push_back(l);
    }
    return out;
  };
  auto erase_token = [&](const std::string& token) {
    model.erase(std::remove_if(model.begin(), model.end(),
                               [&](const ModelLock& l) { return l.token == token; }),
                model.end());
  };

  // Mostly a live lock's token at its root or below, sometimes anything known at a random path.
  auto PickToken = [&](ResourcePath* path) -> std::string {
    std::vector<ModelLock> live = active();
    if (live.empty() || pick(3) == 0) return known_tokens[pick(known_tokens.size())];
    const ModelLock& l = live[pick(live.size())];
    std::vector<ResourcePath> inside;
    for (const std::string& p : paths) {
      if (P(l.root).Contains(P(p))) inside.push_back(P(p));
    }
    *path = inside[pick(inside.size())];
    return l.token;
  };

  const int kSteps = 4000;
  int granted = 0, conflicts = 0, capped = 0, refreshed = 0, unlocked = 0, checks_blocked = 0;
  for (int step = 0; step < kSteps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    ResourcePath path = P(paths[pick(paths.size())]);
    switch (pick(6)) {
      case 0:
      case 1: {  // LOCK
        LockRequest req =
            Request(path.str(), pick(2) == 0, pick(4) == 0, static_cast<int64_t>(1 + pick(400)));
        ModelLock wanted{"", path.str(), req.infinite_depth, req.exclusive, 0};
        std::vector<ModelLock> live = active();
        bool conflict = std::any_of(live.begin(), live.end(),
                                    [&](const ModelLock& l) { return Conflict(l, wanted); });
        int64_t at_root = std::count_if(live.begin(), live.end(),
                                        [&](const ModelLock& l) { return l.root == path.str(); });
        LockRecord got;
        DavError err = manager_->Lock(req, &got);
        if (conflict) {
          ASSERT_EQ(err.status, 423) << err.message;
          ++conflicts;
        } else if (at_root >= settings.max_locks_per_resource ||
                   static_cast<int64_t>(live.size()) >= settings.max_locks) {
          ASSERT_EQ(err.status, 507) << err.message;
          ++capped;
        } else {
          ASSERT_TRUE(err.ok()) << err.status << " " << err.message;
          ASSERT_EQ(got.timeout_s, std::min<int64_t>(req.timeout_s, 300));
          // Lazy purge happened: forget expired ones in the model too.
          model = live;
          wanted.token = got.token;
          wanted.expires_at = got.expires_at;
          model.push_back(wanted);
          known_tokens.push_back(got.token);
          ++granted;
        }
        break;
      }
      case 2: {  // refresh, with a token that may be stale, unknown or out of scope
        std::string token = PickToken(&path);
        int64_t timeout = static_cast<int64_t>(1 + pick(400));
        std::vector<ModelLock> live = active();
        auto it = std::find_if(live.begin(), live.end(), [&](const ModelLock& l) {
          return l.token == token && ModelCovers(l, path);
        });
        LockRecord got;
        DavError err = manager_->Refresh(token, path, timeout, &got);
        if (it == live.end()) {
          ASSERT_EQ(err.status, 412);
        } else {
          ASSERT_TRUE(err.ok()) << err.message;
          for (ModelLock& l : model) {
            if (l.token == token) l.expires_at = clock_.Now() + std::min<int64_t>(timeout, 300);
          }
          ++refreshed;
        }
        break;
      }
      case 3: {  // UNLOCK
        std::string token = PickToken(&path);
        std::vector<ModelLock> live = active();
        bool ok = std::any_of(live.begin(), live.end(), [&](const ModelLock& l) {
          return l.token == token && ModelCovers(l, path);
        });
        DavError err = manager_->Unlock(token, path);
        if (ok) {
          ASSERT_TRUE(err.ok()) << err.message;
          erase_token(token);
          ++unlocked;
        } else {
          ASSERT_EQ(err.status, 409);
        }
        break;
      }
      case 4: {  // DELETE or MOVE of a tree forgets its locks
        if (path.IsRoot()) break;
        ASSERT_TRUE(manager_->RemoveTree(path).ok());
        model.erase(std::remove_if(model.begin(), model.end(),
                                   [&](const ModelLock& l) { return path.Contains(P(l.root)); }),
                    model.end());
        break;
      }
      case 5:  // time passes
        clock_.Advance(static_cast<int64_t>(pick(120)));
        break;
    }

    // Invariants, after every step.
    std::vector<ModelLock> live = active();
    auto all = store_->All(clock_.Now());
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), live.size());
    for (size_t i = 0; i < live.size(); ++i) {
      for (size_t j = i + 1; j < live.size(); ++j) {
        ASSERT_FALSE(Conflict(live[i], live[j])) << live[i].token << " vs " << live[j].token;
      }
      // Findable by token and by its root, with the model's expiry.
      auto found = store_->Find(live[i].token, clock_.Now());
      ASSERT_TRUE(found.ok()) << live[i].token;
      ASSERT_EQ(found->expires_at, live[i].expires_at);
      auto covering = manager_->Covering(P(live[i].root));
      ASSERT_TRUE(covering.ok());
      ASSERT_TRUE(std::any_of(covering->begin(), covering->end(),
                              [&](const LockRecord& r) { return r.token == live[i].token; }));
    }
    // Enforcement sees exactly the active locks: a tokenless change is blocked iff an active
    // lock covers the path (expired ones never enforce), and submitting every active token
    // always passes.
    ResourcePath probe = P(paths[pick(paths.size())]);
    bool covered = std::any_of(live.begin(), live.end(),
                               [&](const ModelLock& l) { return ModelCovers(l, probe); });
    int status = Check({{probe}});
    ASSERT_EQ(status, covered ? 423 : 0) << probe.str();
    if (covered) ++checks_blocked;
    std::vector<std::string> tokens;
    for (const ModelLock& l : live) tokens.push_back(l.token);
    ASSERT_EQ(Check({{probe, true, true}}, tokens), 0);
  }
  // The run exercised every outcome.
  EXPECT_GT(granted, 100);
  EXPECT_GT(conflicts, 100);
  EXPECT_GT(capped, 10);
  EXPECT_GT(refreshed, 50);
  EXPECT_GT(unlocked, 20);
  EXPECT_GT(checks_blocked, 100);
}

}  // namespace
}  // namespace keepdav::webdav
