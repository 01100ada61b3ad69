// Shared pieces of the crash tests (copy_crash_test.cc, crash_matrix_test.cc): a response sink
// that keeps the answer, file helpers, a whole-root snapshot of files, dead properties and locks,
// the invariant checks (no reserved ".keepdav-*" name, no property or lock row for a missing
// resource), and CrashWorld: one server's worth of backends on the in-memory file system and an
// in-memory SQLite database, with fault injection on both seams
// (storage/fault_injecting_file_system.h, storage/fault_injecting_stores.h) linked so that a
// crash on either stops the other, as a killed process stops making any call.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "storage/clock.h"
#include "storage/database.h"
#include "storage/fault_injecting_file_system.h"
#include "storage/fault_injecting_stores.h"
#include "storage/memory_file_system.h"
#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "webdav/dav_handler.h"
#include "webdav/start_up_recovery.h"

namespace keepdav::webdav::crash_test {

inline storage::ResourcePath P(const std::string& s) {
  auto r = storage::ResourcePath::Parse(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? r.value() : storage::ResourcePath();
}

// Keeps the status and body of a response.
class CapturingSink : public ResponseSink {
 public:
  void SetStatus(int code) override { status = code; }
  void SetHeader(const std::string&, const std::string&) override {}
  void SendEmpty() override { sent_ = true; }
  std::ostream& SendBody(int64_t) override {
    sent_ = true;
    return body_;
  }
  bool SendFileRange(int, uint64_t, uint64_t) override { return true; }
  bool sent() const override { return sent_; }
  bool head_only() const override { return false; }
  std::string body() const { return body_.str(); }
  int status = 0;

 private:
  bool sent_ = false;
  std::ostringstream body_;
};

// Time stands still, so that a lock's expiry is the same in every run.
class FixedClock : public storage::Clock {
 public:
  int64_t Now() const override { return 1800000000; }
};

inline std::string ReadAll(storage::FileSystem& fs, const storage::ResourcePath& p) {
  auto f = fs.OpenRead(p);
  if (!f.ok()) return "<" + f.status().ToString() + ">";
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = (*f)->ReadAt(out.size(), buf, sizeof buf);
    if (!n.ok() || *n == 0) return out;
    out.append(buf, *n);
  }
}

inline storage::Status WriteFile(storage::FileSystem& fs, const storage::ResourcePath& p,
                                 const std::string& content) {
  auto w = fs.BeginWrite(p);
  if (!w.ok()) return w.status();
  storage::Status s = (*w)->Write(content.data(), content.size());
  return s.ok() ? (*w)->Commit() : s;
}

// Everything a client could observe below the root, lock tokens aside (a LOCK makes a random
// one): path -> file bytes ("/" for a collection, "<reserved leftover>" for a reserved name),
// "path {ns}local" -> dead property value, and one line per active lock.
struct Snapshot {
  std::map<std::string, std::string> entries;
  std::map<std::string, std::string> props;
  std::multiset<std::string> locks;
  bool operator==(const Snapshot& o) const {
    return entries == o.entries && props == o.props && locks == o.locks;
  }
  bool operator!=(const Snapshot& o) const { return !(*this == o); }
};

inline std::string Describe(const Snapshot& s) {
  std::string out;
  for (const auto& [k, v] : s.entries) out += "  " + k + " = " + v + "\n";
  for (const auto& [k, v] : s.props) out += "  prop " + k + " = " + v + "\n";
  for (const auto& l : s.locks) out += "  lock " + l + "\n";
  return out;
}

inline std::string LockLine(const storage::LockRecord& l) {
  return l.root.str() + (l.infinite_depth ? " infinity " : " 0 ") +
         (l.exclusive ? "exclusive " : "shared ") + l.owner + " " + std::to_string(l.expires_at);
}

inline void CollectEntries(storage::FileSystem& fs, storage::PropertyStore& props,
                           const storage::ResourcePath& dir, Snapshot* out) {
  auto add_props = [&](const storage::ResourcePath& p) {
    auto all = props.GetAll(p);
    if (!all.ok()) {
      out->props[p.str()] = "<" + all.status().ToString() + ">";
      return;
    }
    for (const storage::DeadProperty& d : all.value()) {
      out->props[p.str() + " {" + d.name.ns + "}" + d.name.local] = d.value;
    }
  };
  if (dir.IsRoot()) add_props(dir);
  std::vector<std::pair<std::string, bool>> members;
  storage::Status s =
      fs.ListForRemoval(dir, [&](std::string_view name, const storage::FileInfo& info) {
        members.emplace_back(std::string(name), info.IsDirectory());
        return true;
      });
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (const auto& [name, is_dir] : members) {
    const std::string path = (dir.IsRoot() ? "" : dir.str()) + "/" + name;
    if (storage::ResourcePath::IsReservedName(name)) {
      out->entries[path] = "<reserved leftover>";
      continue;
    }
    storage::ResourcePath child = dir.Child(name);
    add_props(child);
    if (is_dir) {
      out->entries[path] = "/";
      CollectEntries(fs, props, child, out);
    } else {
      out->entries[path] = ReadAll(fs, child);
    }
  }
}

inline Snapshot TakeSnapshot(storage::FileSystem& fs, storage::PropertyStore& props,
                             storage::LockStore& locks, int64_t now) {
  Snapshot s;
  CollectEntries(fs, props, storage::ResourcePath(), &s);
  auto all = locks.All(now);
  EXPECT_TRUE(all.ok());
  if (all.ok()) {
    for (const storage::LockRecord& l : all.value()) s.locks.insert(LockLine(l));
  }
  return s;
}

// What breaks the invariant whatever the outcome: reserved names left on disk or in the
// database, property or lock rows of resources that do not exist, unfinished journal entries.
inline std::vector<std::string> InvariantBreaches(storage::FileSystem& fs,
                                                  storage::PropertyStore& props,
                                                  storage::LockStore& locks,
                                                  storage::OperationJournal& journal,
                                                  const Snapshot& snapshot, int64_t now) {
  std::vector<std::string> out;
  for (const auto& [path, content] : snapshot.entries) {
    if (path.find(storage::ResourcePath::kReservedPrefix) != std::string::npos) {
      out.push_back("reserved name left: " + path);
    }
  }
  auto with_props = props.PathsUnder(storage::ResourcePath());
  if (!with_props.ok()) out.push_back("PathsUnder: " + with_props.status().ToString());
  for (const std::string& p : with_props.ok() ? with_props.value() : std::vector<std::string>()) {
    if (p.find(storage::ResourcePath::kReservedPrefix) != std::string::npos) {
      out.push_back("property row at a reserved path: " + p);
      continue;
    }
    auto rp = storage::ResourcePath::Parse(p);
    if (!rp.ok() || !fs.Stat(rp.value()).ok()) out.push_back("property row of a missing " + p);
  }
  auto all = locks.All(now);
  for (const storage::LockRecord& l : all.ok() ? all.value() : std::vector<storage::LockRecord>()) {
    if (!fs.Stat(l.root).ok()) out.push_back("lock row of a missing " + l.root.str());
  }
  auto pending = journal.Pending();
  if (!pending.ok() || !pending->empty()) out.push_back("journal entries left");
  auto partial = journal.PendingPartialWrites();
  if (!partial.ok() || !partial->empty()) out.push_back("partial-write records left");
  return out;
}

// One request as a test writes it.
struct RequestSpec {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;
  std::string body;
};

// Runs `spec` through `handler` (Host localhost:8080) and returns the answer.
inline CapturingSink SendTo(DavHandler& handler, const RequestSpec& spec) {
  DavRequest req;
  req.method = spec.method;
  req.target = spec.target;
  req.host = "localhost:8080";
  for (const auto& [k, v] : spec.headers) req.headers[k] = v;
  std::istringstream body(spec.body);
  req.body = &body;
  req.content_length = static_cast<int64_t>(spec.body.size());
  Progress progress;
  req.progress = &progress;
  CapturingSink sink;
  handler.Handle(req, sink);
  return sink;
}

// The backends of one server over a fresh in-memory file system and database: the handler
// works through the fault-injecting wrappers; checks and recovery use the wrapped objects, as a
// restarted process would find them (a crash stops every later call on both seams, so what the
// wrapped objects hold is exactly what a killed process leaves).
class CrashWorld {
 public:
  CrashWorld()
      : faulty_fs_(std::make_unique<storage::MemoryFileSystem>()),
        db_(OpenDatabase()),
        props_(*db_),
        journal_(props_),
        locks_(*db_),
        checksums_(*db_),
        faulty_props_(props_, store_faults_),
        faulty_locks_(locks_, store_faults_),
        faulty_journal_(journal_, store_faults_),
        handler_(DavBackends{faulty_fs_, faulty_props_, faulty_locks_, faulty_journal_, clock_,
                             checksums_},
                 DavSettings()) {}

  storage::FaultInjectingFileSystem& faulty_fs() { return faulty_fs_; }
  storage::StoreFaults& store_faults() { return store_faults_; }
  storage::FileSystem& fs() { return faulty_fs_.inner(); }
  storage::PropertyStore& props() { return props_; }
  storage::LockStore& locks() { return locks_; }
  storage::OperationJournal& journal() { return journal_; }
  int64_t now() const { return clock_.Now(); }

  // A crash at the nth mutating file-system call (`on_db` false) or database call (true); the
  // other seam stops with it.
  void CrashAt(bool on_db, int n, bool after_call) {
    if (on_db) {
      store_faults_.CrashAtMutation(
          n, [this] { faulty_fs_.CrashAtMutation(1); }, after_call);
    } else {
      faulty_fs_.CrashAtMutation(
          n, [this] { store_faults_.Crash(); }, after_call);
    }
  }
  bool crashed() const { return faulty_fs_.crashed() || store_faults_.crashed(); }

  CapturingSink Send(const RequestSpec& spec) { return SendTo(handler_, spec); }

  // Start-up recovery over what the process left, as DavServer runs it.
  storage::Status Recover() {
    return RecoverAtStartUp(fs(), props_, journal_, locks_, clock_, DavSettings().max_tree_depth);
  }

  Snapshot State() { return TakeSnapshot(fs(), props_, locks_, now()); }
  std::vector<std::string> Breaches(const Snapshot& s) {
    return InvariantBreaches(fs(), props_, locks_, journal_, s, now());
  }

 private:
  static std::unique_ptr<storage::Database> OpenDatabase() {
    auto db = storage::Database::Open(":memory:");
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return std::move(db).value();
  }

  FixedClock clock_;
  storage::FaultInjectingFileSystem faulty_fs_;
  std::unique_ptr<storage::Database> db_;
  storage::SqlitePropertyStore props_;
  storage::SqliteOperationJournal journal_;
  storage::SqliteLockStore locks_;
  storage::SqliteChecksumStore checksums_;
  storage::StoreFaults store_faults_;
  storage::FaultInjectingPropertyStore faulty_props_;
  storage::FaultInjectingLockStore faulty_locks_;
  storage::FaultInjectingOperationJournal faulty_journal_;
  DavHandler handler_;
};

}  // namespace keepdav::webdav::crash_test
