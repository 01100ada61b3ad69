// Issue 12's crash-safety matrix: every modifying method keepdav has (COPY and MOVE, new and
// Overwrite: T onto a file and a tree; DELETE of a tree; PUT new and replacing; PROPPATCH; LOCK
// of an unmapped URL and of a resource) is stopped at every mutating file-system call and every
// database step in turn, before the call and just after it (crash_harness.h: a crash on one
// seam stops the other). Start-up recovery (RecoverAtStartUp) then runs on what is left, and the
// whole root must be entirely as before the request or entirely as after it completed: files,
// dead properties and locks together (a DELETE may stop half-way by design: what is left must be
// a part of the old tree with its own properties and locks). Whatever the outcome, no reserved
// ".keepdav-*" name is left, no property or lock row names a missing resource, and the journal
// is empty.
// The same walk then fails each step with an error instead (EIO, ENOSPC, EACCES on the file
// system; kIoError, kNoSpace, kPermissionDenied from the database): the answer must be 2xx
// exactly when the request took effect, and otherwise 500, 507 or 403 (in a 207 for members).
// The number of crash and error points walked per method is printed and recorded as a test
// property. The in-memory file system and small trees keep the whole walk short.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/webdav/crash_harness.h"

namespace keepdav::webdav::crash_test {
namespace {

using storage::LockRecord;
using storage::PropertyChange;
using storage::PropertyName;
using storage::ResourcePath;
using storage::Status;
using storage::StatusCode;

const PropertyName kColor{"urn:z", "color"};
const PropertyName kWeight{"urn:z", "weight"};
const char* const kTreeToken = "opaquelocktoken:dst-tree";
const char* const kMemberToken = "opaquelocktoken:dst-member";
const char* const kFileToken = "opaquelocktoken:dst-file";

// The same starting point for every scenario: a source tree and file ("new" content), a
// destination tree and file ("old" content) with locks, and a bystander.
void BuildTree(CrashWorld& w, const std::string& top, const std::string& tag,
               const std::vector<std::string>& members) {
  storage::FileSystem& fs = w.fs();
  ASSERT_TRUE(fs.MakeDirectory(P(top)).ok());
  ASSERT_TRUE(w.props().Apply(P(top), {{kColor, false, tag + ":."}}).ok());
  for (const std::string& m : members) {
    const bool dir = m.back() == '/';
    const std::string rel = dir ? m.substr(0, m.size() - 1) : m;
    const ResourcePath p = P(top + "/" + rel);
    ASSERT_TRUE((dir ? fs.MakeDirectory(p) : WriteFile(fs, p, tag + " bytes of " + rel)).ok())
        << rel;
    ASSERT_TRUE(w.props().Apply(p, {{kColor, false, tag + ":" + rel}}).ok()) << rel;
  }
}

void AddLock(CrashWorld& w, const std::string& token, const std::string& root, bool infinite,
             bool exclusive) {
  LockRecord l;
  l.token = token;
  l.root = P(root);
  l.infinite_depth = infinite;
  l.exclusive = exclusive;
  l.owner = "<D:owner xmlns:D=\"DAV:\">tester</D:owner>";
  l.timeout_s = 3600;
  l.expires_at = w.now() + 3600;
  ASSERT_TRUE(w.locks().Insert(l).ok());
}

void SetUpWorld(CrashWorld& w) {
  BuildTree(w, "/src", "new", {"a.txt", "sub/", "sub/b.txt", "sub/deeper/", "sub/deeper/d"});
  BuildTree(w, "/dst", "old", {"a.txt", "only-old.txt", "sub/", "sub/c"});
  ASSERT_TRUE(WriteFile(w.fs(), P("/src.txt"), "new file bytes").ok());
  ASSERT_TRUE(w.props().Apply(P("/src.txt"), {{kColor, false, "new:file"}}).ok());
  ASSERT_TRUE(WriteFile(w.fs(), P("/dst.txt"), "old file bytes").ok());
  ASSERT_TRUE(
      w.props().Apply(P("/dst.txt"), {{kColor, false, "old:file"}, {kWeight, false, "9"}}).ok());
  ASSERT_TRUE(WriteFile(w.fs(), P("/keep.txt"), "bystander").ok());
  ASSERT_TRUE(w.props().Apply(P("/keep.txt"), {{kColor, false, "keep"}}).ok());
  AddLock(w, kTreeToken, "/dst", /*infinite=*/true, /*exclusive=*/false);
  AddLock(w, kMemberToken, "/dst/sub/c", /*infinite=*/false, /*exclusive=*/false);
  AddLock(w, kFileToken, "/dst.txt", /*infinite=*/false, /*exclusive=*/true);
}

// Submits every token of the set-up; the last list is always true (RFC 4918 §10.4.1), so the
// header as a whole holds whatever the request-URI is.
const char* const kAllTokens =
    "(<opaquelocktoken:dst-tree>) (<opaquelocktoken:dst-member>) (<opaquelocktoken:dst-file>) "
    "(Not <DAV:no-lock>)";

// kPartOfOld: a DELETE, which may stop half-way by design. kSourceMayStay: a staged (cross-device)
// MOVE, whose source removal after the swap may fail for some members, which stay with their
// properties and are named in a 207 (staged_transfer.h): entirely old, or the new destination
// with part of the old source.
enum class Outcome { kAllOrNothing, kPartOfOld, kSourceMayStay };

struct Scenario {
  std::string method;  // the line its counts go to
  std::string name;
  RequestSpec request;
  Outcome outcome = Outcome::kAllOrNothing;
  // The source's renames answer EXDEV, as between two file systems (a staged MOVE).
  bool cross_device = false;
};

void Prepare(const Scenario& sc, CrashWorld& w) {
  SetUpWorld(w);
  if (sc.cross_device) {
    w.faulty_fs().set_rename_cross_device(true);
    w.faulty_fs().set_other_device(P("/src"));
  }
}

RequestSpec CopyOrMove(const std::string& method, const std::string& from, const std::string& to,
                       bool overwrite) {
  RequestSpec r{method, from, {{"Destination", "http://localhost:8080" + to}}, ""};
  if (overwrite) {
    r.headers["Overwrite"] = "T";
    r.headers["If"] = kAllTokens;
  }
  return r;
}

std::string ProppatchBody() {
  return "<?xml version=\"1.0\"?><D:propertyupdate xmlns:D=\"DAV:\" xmlns:z=\"urn:z\">"
         "<D:set><D:prop><z:color>patched</z:color><z:shape>round</z:shape></D:prop></D:set>"
         "<D:remove><D:prop><z:weight/></D:prop></D:remove></D:propertyupdate>";
}

std::string LockBody() {
  return "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/>"
         "</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>matrix</D:owner>"
         "</D:lockinfo>";
}

std::vector<Scenario> AllScenarios() {
  std::vector<Scenario> s;
  s.push_back({"COPY", "new file", CopyOrMove("COPY", "/src.txt", "/new.txt", false)});
  s.push_back({"COPY", "new tree", CopyOrMove("COPY", "/src", "/newtree", false)});
  s.push_back({"COPY", "Overwrite:T file", CopyOrMove("COPY", "/src.txt", "/dst.txt", true)});
  s.push_back({"COPY", "Overwrite:T tree", CopyOrMove("COPY", "/src", "/dst", true)});
  s.push_back({"MOVE", "new", CopyOrMove("MOVE", "/src", "/moved", false)});
  s.push_back(
      {"MOVE", "Overwrite:T onto a file", CopyOrMove("MOVE", "/src.txt", "/dst.txt", true)});
  s.push_back({"MOVE", "Overwrite:T onto a tree", CopyOrMove("MOVE", "/src", "/dst", true)});
  s.push_back({"MOVE", "cross-device new", CopyOrMove("MOVE", "/src", "/moved", false),
               Outcome::kSourceMayStay, true});
  s.push_back({"MOVE", "cross-device Overwrite:T onto a tree",
               CopyOrMove("MOVE", "/src", "/dst", true), Outcome::kSourceMayStay, true});
  s.push_back(
      {"DELETE", "tree", {"DELETE", "/dst", {{"If", kAllTokens}}, ""}, Outcome::kPartOfOld});
  s.push_back({"PUT", "new", {"PUT", "/new.txt", {}, "freshly put bytes"}});
  s.push_back({"PUT", "replacing", {"PUT", "/dst.txt", {{"If", kAllTokens}}, "replaced bytes"}});
  s.push_back({"PROPPATCH",
               "set and remove",
               {"PROPPATCH",
                "/dst.txt",
                {{"If", kAllTokens}, {"Content-Type", "application/xml"}},
                ProppatchBody()}});
  s.push_back({"LOCK",
               "new lock-null resource",
               {"LOCK", "/locknull.txt", {{"Timeout", "Second-600"}}, LockBody()}});
  s.push_back({"LOCK",
               "on an existing resource",
               {"LOCK", "/keep.txt", {{"Timeout", "Second-600"}}, LockBody()}});
  return s;
}

// A 2xx answer; a 207 only when no member in it failed (PROPPATCH answers 207 when it worked).
bool IsSuccess(const CapturingSink& answer) {
  if (answer.status == 207) {
    const std::string body = answer.body();
    return body.find("HTTP/1.1 4") == std::string::npos &&
           body.find("HTTP/1.1 5") == std::string::npos;
  }
  return answer.status >= 200 && answer.status < 300;
}

// A DELETE that stopped half-way: every entry left is the old one, with its old properties and
// locks; the root of the delete may be gone or not.
bool IsPartOf(const Snapshot& now, const Snapshot& old) {
  for (const auto& [k, v] : now.entries) {
    auto it = old.entries.find(k);
    if (it == old.entries.end() || it->second != v) return false;
  }
  for (const auto& [k, v] : now.props) {
    auto it = old.props.find(k);
    if (it == old.props.end() || it->second != v) return false;
  }
  for (const auto& l : now.locks) {
    if (old.locks.count(l) == 0) return false;
  }
  return true;
}

// `s` without /src and everything below it (entries, properties, locks), and that part alone.
void SplitSource(const Snapshot& s, Snapshot* rest, Snapshot* source) {
  auto in_source = [](const std::string& key) {
    return key == "/src" || key.rfind("/src/", 0) == 0 || key.rfind("/src ", 0) == 0;
  };
  for (const auto& [k, v] : s.entries) (in_source(k) ? source : rest)->entries[k] = v;
  for (const auto& [k, v] : s.props) (in_source(k) ? source : rest)->props[k] = v;
  for (const auto& l : s.locks) (in_source(l) ? source : rest)->locks.insert(l);
}

// Whether `now` is an outcome the scenario allows besides entirely new.
bool IsAllowed(Outcome outcome, const Snapshot& now, const Snapshot& old, const Snapshot& fresh) {
  if (now == old) return true;
  if (outcome == Outcome::kPartOfOld) return IsPartOf(now, old);
  if (outcome == Outcome::kSourceMayStay) {
    Snapshot now_rest, now_source, new_rest, new_source;
    SplitSource(now, &now_rest, &now_source);
    SplitSource(fresh, &new_rest, &new_source);
    return now_rest == new_rest && IsPartOf(now_source, old);
  }
  return false;
}

// What a client sees of `s`: no reserved leftovers (never served), and no lock whose root is
// missing (a DELETE that removed the files but could not forget their locks has been answered
// by the files; such locks are dropped by start-up recovery, which the restarted check covers).
Snapshot Visible(Snapshot s) {
  for (auto it = s.entries.begin(); it != s.entries.end();) {
    it = it->second == "<reserved leftover>" ? s.entries.erase(it) : std::next(it);
  }
  for (auto it = s.locks.begin(); it != s.locks.end();) {
    const std::string root = it->substr(0, it->find(' '));
    it = root != "/" && s.entries.count(root) == 0 ? s.locks.erase(it) : std::next(it);
  }
  return s;
}

struct Counts {
  int crash_points = 0;
  int error_points = 0;
};

class CrashMatrixTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    for (const auto& [method, c] : counts_) {
      std::printf("crash matrix: %-9s %4d crash points, %4d error points\n", method.c_str(),
                  c.crash_points, c.error_points);
    }
  }

  // The state before the request and after it completed without a fault.
  void Expectations(const Scenario& sc, Snapshot* old_state, Snapshot* new_state) {
    CrashWorld w;
    Prepare(sc, w);
    *old_state = w.State();
    CapturingSink answer = w.Send(sc.request);
    ASSERT_TRUE(IsSuccess(answer))
        << sc.method << " " << sc.name << ": " << answer.status << " " << answer.body();
    *new_state = w.State();
    ASSERT_NE(*old_state, *new_state);
    ASSERT_TRUE(w.Breaches(*new_state).empty());
  }

  // The checks after recovery; `what` names the run.
  void CheckOutcome(const Scenario& sc, CrashWorld& w, const Snapshot& old_state,
                    const Snapshot& new_state, const std::string& what, bool* is_new) {
    Snapshot now = w.State();
    *is_new = now == new_state;
    const bool acceptable = *is_new || IsAllowed(sc.outcome, now, old_state, new_state);
    EXPECT_TRUE(acceptable) << what << ": neither the old nor the new state:\n"
                            << Describe(now) << "old:\n"
                            << Describe(old_state) << "new:\n"
                            << Describe(new_state);
    for (const std::string& b : w.Breaches(now)) ADD_FAILURE() << what << ": " << b;
  }

  void CrashWalk(const Scenario& sc, bool on_db, bool after_call) {
    Snapshot old_state, new_state;
    ASSERT_NO_FATAL_FAILURE(Expectations(sc, &old_state, &new_state));
    bool completed = false;
    for (int n = 1; n <= 400 && !completed; ++n) {
      const std::string what = sc.method + " " + sc.name + ": crash " +
                               (after_call ? "after" : "before") + " mutating " +
                               (on_db ? "database" : "file-system") + " call " + std::to_string(n);
      CrashWorld w;
      Prepare(sc, w);
      w.CrashAt(on_db, n, after_call);
      CapturingSink answer = w.Send(sc.request);
      if (!w.crashed()) {
        EXPECT_TRUE(IsSuccess(answer)) << what << ": " << answer.status;
        completed = true;
        continue;
      }
      ++counts_[sc.method].crash_points;
      Status s = w.Recover();
      ASSERT_TRUE(s.ok()) << what << ": recovery: " << s.ToString();
      bool is_new = false;
      CheckOutcome(sc, w, old_state, new_state, what, &is_new);
      if (HasFailure()) return;  // one broken step is enough to read
    }
    EXPECT_TRUE(completed) << sc.method << " " << sc.name << " never ran to its end";
  }

  void ErrorWalk(const Scenario& sc, bool on_db, int err) {
    Snapshot old_state, new_state;
    ASSERT_NO_FATAL_FAILURE(Expectations(sc, &old_state, &new_state));
    const int expected = err == ENOSPC ? 507 : err == EACCES ? 403 : 500;
    const StatusCode code = err == ENOSPC   ? StatusCode::kNoSpace
                            : err == EACCES ? StatusCode::kPermissionDenied
                                            : StatusCode::kIoError;
    bool completed = false;
    for (int n = 1; n <= 400 && !completed; ++n) {
      const std::string what = sc.method + " " + sc.name + ": " + std::strerror(err) + " at " +
                               (on_db ? "database" : "file-system") + " call " + std::to_string(n);
      CrashWorld w;
      Prepare(sc, w);
      if (on_db) {
        w.store_faults().FailAtMutation(n, Status::WithCode(code, "injected"));
      } else {
        w.faulty_fs().FailAtMutation(n, err);
      }
      CapturingSink answer = w.Send(sc.request);
      const int calls = on_db ? w.store_faults().mutating_calls() : w.faulty_fs().mutating_calls();
      if (calls < n) {
        EXPECT_TRUE(IsSuccess(answer)) << what << ": " << answer.status;
        completed = true;
        continue;
      }
      ++counts_[sc.method].error_points;
      // What clients see at once, while the server runs on.
      Snapshot live = Visible(w.State());
      const bool live_new = live == new_state;
      EXPECT_TRUE(live_new || IsAllowed(sc.outcome, live, old_state, new_state))
          << what << ": the running server shows neither the old nor the new state:\n"
          << Describe(live);
      if (live_new) {
        EXPECT_TRUE(IsSuccess(answer))
            << what << ": took effect but answered " << answer.status << " " << answer.body();
      } else {
        const bool named =
            answer.status == 207 &&
            answer.body().find("HTTP/1.1 " + std::to_string(expected)) != std::string::npos;
        EXPECT_TRUE(answer.status == expected || named)
            << what << ": answered " << answer.status << ", not " << expected << "\n"
            << answer.body();
      }
      // And after a restart.
      Status s = w.Recover();
      ASSERT_TRUE(s.ok()) << what << ": recovery: " << s.ToString();
      bool is_new = false;
      CheckOutcome(sc, w, old_state, new_state, what + " (restarted)", &is_new);
      EXPECT_EQ(is_new, live_new) << what << ": recovery changed the outcome";
      if (HasFailure()) return;
    }
    EXPECT_TRUE(completed) << sc.method << " " << sc.name << " never ran to its end";
  }

  void WalkEverything(const Scenario& sc) {
    const Counts before = counts_[sc.method];
    for (bool on_db : {false, true}) {
      for (bool after : {false, true}) {
        ASSERT_NO_FATAL_FAILURE(CrashWalk(sc, on_db, after));
        if (HasFailure()) return;
      }
      for (int err : {EIO, ENOSPC, EACCES}) {
        ASSERT_NO_FATAL_FAILURE(ErrorWalk(sc, on_db, err));
        if (HasFailure()) return;
      }
    }
    // This scenario's own points; the per-method totals are printed at the end of the suite.
    const Counts& after = counts_[sc.method];
    RecordProperty("crash_points", std::to_string(after.crash_points - before.crash_points));
    RecordProperty("error_points", std::to_string(after.error_points - before.error_points));
    EXPECT_GT(after.crash_points, before.crash_points) << "no step was walked";
  }

  static std::map<std::string, Counts> counts_;
};

std::map<std::string, Counts> CrashMatrixTest::counts_;

const Scenario& Find(const std::string& method, const std::string& name) {
  static const std::vector<Scenario> all = AllScenarios();
  for (const Scenario& s : all) {
    if (s.method == method && s.name == name) return s;
  }
  ADD_FAILURE() << "no scenario " << method << " " << name;
  return all.front();
}

TEST_F(CrashMatrixTest, CopyNewFile) {
  WalkEverything(Find("COPY", "new file"));
}
TEST_F(CrashMatrixTest, CopyNewTree) {
  WalkEverything(Find("COPY", "new tree"));
}
TEST_F(CrashMatrixTest, CopyOverwriteFile) {
  WalkEverything(Find("COPY", "Overwrite:T file"));
}
TEST_F(CrashMatrixTest, CopyOverwriteTree) {
  WalkEverything(Find("COPY", "Overwrite:T tree"));
}
TEST_F(CrashMatrixTest, MoveNew) {
  WalkEverything(Find("MOVE", "new"));
}
TEST_F(CrashMatrixTest, MoveOverwriteFile) {
  WalkEverything(Find("MOVE", "Overwrite:T onto a file"));
}
TEST_F(CrashMatrixTest, MoveOverwriteTree) {
  WalkEverything(Find("MOVE", "Overwrite:T onto a tree"));
}
TEST_F(CrashMatrixTest, MoveCrossDeviceNew) {
  WalkEverything(Find("MOVE", "cross-device new"));
}
TEST_F(CrashMatrixTest, MoveCrossDeviceOverwriteTree) {
  WalkEverything(Find("MOVE", "cross-device Overwrite:T onto a tree"));
}
TEST_F(CrashMatrixTest, DeleteTree) {
  WalkEverything(Find("DELETE", "tree"));
}
TEST_F(CrashMatrixTest, PutNew) {
  WalkEverything(Find("PUT", "new"));
}
TEST_F(CrashMatrixTest, PutReplacing) {
  WalkEverything(Find("PUT", "replacing"));
}
TEST_F(CrashMatrixTest, Proppatch) {
  WalkEverything(Find("PROPPATCH", "set and remove"));
}
TEST_F(CrashMatrixTest, LockNewResource) {
  WalkEverything(Find("LOCK", "new lock-null resource"));
}
TEST_F(CrashMatrixTest, LockExistingResource) {
  WalkEverything(Find("LOCK", "on an existing resource"));
}

// A lock holder's request when its locks cannot be read (the database gone): the If header is
// not evaluated against "no locks", which would answer 412 as if the lock had been lost; the
// answer is the store's error, and nothing changes. multi_load saw that 412 across instances.
TEST(LockReadFailure, IfHeaderIsNotEvaluatedWithoutTheLocks) {
  CrashWorld world;
  ASSERT_TRUE(WriteFile(world.fs(), P("/held.txt"), "old").ok());
  CapturingSink lock = world.Send({"LOCK", "/held.txt", {{"Timeout", "Second-600"}}, LockBody()});
  ASSERT_EQ(lock.status, 200) << lock.body();
  const std::string body = lock.body();
  size_t at = body.find("urn:uuid:");
  ASSERT_NE(at, std::string::npos) << body;
  const std::string token = body.substr(at, body.find('<', at) - at);
  world.store_faults().Crash();  // every database call fails from here on
  CapturingSink put = world.Send({"PUT", "/held.txt", {{"If", "(<" + token + ">)"}}, "new"});
  EXPECT_EQ(put.status, 500) << put.body();
  EXPECT_EQ(ReadAll(world.fs(), P("/held.txt")), "old");
}

}  // namespace
}  // namespace keepdav::webdav::crash_test
