#include "tests/storage/pg_cluster.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace keepdav::storage::test_support {
namespace {

namespace fs = std::filesystem;

constexpr char kDirPrefix[] = "keepdav-pg-";
constexpr uid_t kNobody = 65534;  // Debian's `nobody`

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string PgCluster::BinDir() {
  const char* env = std::getenv("KEEPDAV_PG_BIN");
  return (env != nullptr && *env != '\0') ? env : "/usr/lib/postgresql/15/bin";
}

PgCluster* PgCluster::Shared(std::string* why_not) {
  // Destroyed at exit: the server is stopped and its directory removed.
  static std::unique_ptr<PgCluster> cluster;
  static bool tried = false;
  static std::string reason;
  if (!tried) {
    tried = true;
    const std::string bin = BinDir();
    if (::access((bin + "/initdb").c_str(), X_OK) != 0 ||
        ::access((bin + "/pg_ctl").c_str(), X_OK) != 0) {
      reason = "the PostgreSQL server binaries (initdb, pg_ctl) are not in " + bin +
               ": install Debian's postgresql-15 package (scripts/install-deps.sh test)";
    } else {
      StopLeftovers();
      std::unique_ptr<PgCluster> c(new PgCluster());
      std::string error;
      if (c->Init(&error)) {
        cluster = std::move(c);
      } else {
        reason = "the PostgreSQL test cluster did not start: " + error;
        ADD_FAILURE() << reason;
      }
    }
  }
  if (cluster == nullptr && why_not != nullptr) *why_not = reason;
  return cluster.get();
}

// A cluster whose test process died without stopping it: its directory name carries the pid.
void PgCluster::StopLeftovers() {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + sizeof(kDirPrefix) - 1, nullptr, 10);
    if (pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running
    const std::string data = (e.path() / "data").string();
    if (fs::exists(data + "/postmaster.pid")) {
      const std::string prefix = ::geteuid() == 0 ? "runuser -u nobody -- " : "";
      std::system((prefix + Quote(BinDir() + "/pg_ctl") + " -D " + Quote(data) +
                   " -m immediate -w stop >/dev/null 2>&1")
                      .c_str());
    }
    fs::remove_all(e.path(), ec);
  }
}

bool PgCluster::Run(const std::string& command) const {
  const std::string line = (as_nobody_ ? "runuser -u nobody -- " : "") + command + " >>" +
                           Quote((dir_->path() / "commands.log").string()) + " 2>&1";
  return std::system(line.c_str()) == 0;
}

bool PgCluster::Init(std::string* error) {
  dir_ = std::make_unique<TempDir>(kDirPrefix + std::to_string(::getpid()));
  if (dir_->path().empty()) {
    *error = "no temporary directory";
    return false;
  }
  as_nobody_ = ::geteuid() == 0;
  if (as_nobody_ && ::chown(dir_->path().c_str(), kNobody, kNobody) != 0) {
    *error = "chown " + dir_->path().string() + " to nobody failed";
    return false;
  }
  const std::string data = (dir_->path() / "data").string();
  if (!CopyTemplate(data, error)) return false;
  if (!Start()) {
    *error = "pg_ctl start failed: " + LogTail();
    return false;
  }
  return true;
}

// initdb takes a second or more, and CTest runs each test in a process of its own: the first
// process initialises a template cluster under the build tree (serialised by a file lock), and
// every process copies it. A template that was never finished is made again.
bool PgCluster::CopyTemplate(const std::string& data, std::string* error) {
  const fs::path root = KEEPDAV_PG_TEMPLATE_DIR;
  std::error_code ec;
  fs::create_directories(root, ec);
  const int lock = ::open((root / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    *error = "cannot lock " + (root / "lock").string();
    if (lock >= 0) ::close(lock);
    return false;
  }
  const fs::path made = root / (as_nobody_ ? "nobody" : "self");
  const std::string templ = (made / "data").string();
  bool ok = fs::exists(made / "complete");
  if (!ok) {
    fs::remove_all(made, ec);
    fs::create_directories(made, ec);
    if (as_nobody_ && ::chown(made.c_str(), kNobody, kNobody) != 0) {
      *error = "chown " + made.string() + " to nobody failed";
    } else if (!Run(Quote(BinDir() + "/initdb") + " -D " + Quote(templ) +
                    " -A trust -U keepdav -E UTF8 --locale=C --no-sync --no-instructions")) {
      *error = "initdb failed: " + LogTail();
    } else {
      std::ofstream(made / "complete") << "initdb done\n";
      ok = true;
    }
  }
  ::close(lock);  // releases the lock
  if (!ok) return false;
  // cp -a keeps the owner (nobody) and the modes PostgreSQL insists on (0700).
  if (std::system(("cp -a " + Quote(templ) + " " + Quote(data)).c_str()) != 0) {
    *error = "copying the template cluster " + templ + " failed";
    return false;
  }
  return true;
}

PgCluster::~PgCluster() {
  if (running_) Stop();
}

bool PgCluster::Start() {
  const std::string dir = dir_->path().string();
  // Only a Unix socket in our directory; no durability (test data).
  const std::string options = "-c listen_addresses='' -k " + dir +
                              " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
                              " -c max_connections=40 -c shared_buffers=16MB";
  running_ = Run(Quote(BinDir() + "/pg_ctl") + " -D " + Quote(dir + "/data") + " -l " +
                 Quote(dir + "/server.log") + " -w -t 60 -o " + Quote(options) + " start");
  return running_;
}

bool PgCluster::Stop() {
  const bool ok = Run(Quote(BinDir() + "/pg_ctl") + " -D " +
                      Quote((dir_->path() / "data").string()) + " -m fast -w -t 60 stop");
  if (ok) running_ = false;
  return ok;
}

std::string PgCluster::Uri(const std::string& schema) const {
  std::string uri = "postgresql:///postgres?host=" + dir_->path().string() + "&user=keepdav";
  if (!schema.empty()) uri += "&options=-csearch_path%3D" + schema;
  return uri;
}

bool PgCluster::Sql(const std::string& sql) {
  PGconn* conn = PQconnectdb(Uri().c_str());
  bool ok = PQstatus(conn) == CONNECTION_OK;
  std::string error = PQerrorMessage(conn);
  if (ok) {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);  // DROP ... CASCADE lists what it drops
    PGresult* res = PQexec(conn, sql.c_str());
    ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) error = PQresultErrorMessage(res);
    PQclear(res);
  }
  PQfinish(conn);
  if (!ok) ADD_FAILURE() << sql << ": " << error;
  return ok;
}

std::string PgCluster::NewSchema() {
  const std::string name = "t" + std::to_string(++schemas_);
  return Sql("CREATE SCHEMA " + name) ? name : std::string();
}

void PgCluster::DropSchema(const std::string& schema) {
  if (!schema.empty() && running_) Sql("DROP SCHEMA " + schema + " CASCADE");
}

std::string PgCluster::LogTail() const {
  std::string out;
  for (const char* name : {"commands.log", "server.log"}) {
    std::ifstream in(dir_->path() / name);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
    if (!text.empty()) out += std::string("\n--- ") + name + ":\n" + text;
  }
  return out;
}

}  // namespace keepdav::storage::test_support
