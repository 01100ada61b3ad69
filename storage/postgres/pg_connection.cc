#include "storage/postgres/pg_connection.h"

#include <cstdlib>
#include <utility>

namespace keepdav::storage {

// --- PgParams ---

PgParams& PgParams::Bytes(std::string_view bytes) {
  // libpq reads `length` bytes of a binary parameter; an empty view may have a null pointer,
  // which would be sent as SQL NULL.
  values_.push_back(bytes.empty() ? "" : bytes.data());
  lengths_.push_back(static_cast<int>(bytes.size()));
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::Int(int64_t value) {
  return Text(std::to_string(value));
}

PgParams& PgParams::Text(std::string text) {
  owned_.push_back(std::make_unique<std::string>(std::move(text)));
  values_.push_back(owned_.back()->c_str());
  lengths_.push_back(0);  // ignored for text parameters
  formats_.push_back(0);
  return *this;
}

// --- PgResult ---

int64_t PgResult::Int(int row, int col) const {
  const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(res_.get(), row, col));
  const int n = PQgetlength(res_.get(), row, col);
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  // Sign-extend the shorter integer types.
  if (n > 0 && n < 8 && (p[0] & 0x80) != 0 && n != 1) v |= ~uint64_t{0} << (8 * n);
  return static_cast<int64_t>(v);
}

int64_t PgResult::Affected() const {
  const char* n = PQcmdTuples(res_.get());
  return (n != nullptr && *n != '\0') ? std::strtoll(n, nullptr, 10) : 0;
}

// --- SQLSTATE mapping ---

StatusCode CodeForSqlState(std::string_view s) {
  if (s.size() != 5) return StatusCode::kIoError;
  if (s.substr(0, 2) == "08" || s == "57P01" || s == "57P02" || s == "57P03") {
    return StatusCode::kUnavailable;
  }
  if (s == "40001" || s == "40P01" || s == "55P03" || s == "57014" || s == "53300") {
    return StatusCode::kBusy;
  }
  if (s == "23505") return StatusCode::kAlreadyExists;
  if (s == "53100") return StatusCode::kNoSpace;
  if (s == "42501" || s == "25006") return StatusCode::kPermissionDenied;
  if (s == "54000") return StatusCode::kTooLarge;
  return StatusCode::kIoError;
}

// --- PgConnection ---

namespace {
thread_local int64_t round_trips_on_this_thread = 0;
}  // namespace

int64_t PgRoundTripsOnThisThread() {
  return round_trips_on_this_thread;
}

void PgConnection::CountRoundTrip() {
  ++round_trips_on_this_thread;
  if (round_trips_ != nullptr) round_trips_->fetch_add(1, std::memory_order_relaxed);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const std::vector<std::string>& keywords, const std::vector<std::string>& values) {
  std::vector<const char*> k, v;
  for (const std::string& s : keywords) k.push_back(s.c_str());
  for (const std::string& s : values) v.push_back(s.c_str());
  k.push_back(nullptr);
  v.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(k.data(), v.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Unavailable("connect to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = "connect to PostgreSQL: ";
    msg += PQerrorMessage(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn);
    return Status::Unavailable(std::move(msg));
  }
  // Notices (NOTICE, WARNING) would go to stderr; storage has no log, and none of keepdav's
  // statements is meant to raise one.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() {
  PQfinish(conn_);
}

Status PgConnection::Fail(PGresult* res, std::string_view context) {
  PgResult owner(res);  // cleared on return
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  StatusCode code = state != nullptr ? CodeForSqlState(state) : StatusCode::kIoError;
  if (PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    code = StatusCode::kUnavailable;
  }
  if (code == StatusCode::kUnavailable) broken_ = true;
  // 23505 too: under READ COMMITTED a tree copy or move that deleted the destination's rows
  // meets a row another transaction inserted there meanwhile (a PROPPATCH racing a COPY); run
  // again, the DELETE takes that row too, as if the PROPPATCH had come first. A duplicate that
  // is real (an existing lock token) fails the same way every time, and is returned after the
  // last attempt.
  retryable_ = state != nullptr &&
               (std::string_view(state) == "40001" || std::string_view(state) == "40P01" ||
                std::string_view(state) == "23505");
  std::string msg(context);
  msg += ": ";
  const char* text = res != nullptr ? PQresultErrorMessage(res) : "";
  msg += (text != nullptr && *text != '\0') ? text : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (state != nullptr) {
    msg += " (SQLSTATE ";
    msg += state;
    msg += ")";
  }
  return Status::WithCode(code, std::move(msg));
}

Result<PgResult> PgConnection::Exec(std::string_view sql, const PgParams& params) {
  retryable_ = false;
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end()) {
    std::string name = "k" + std::to_string(prepared_.size());
    CountRoundTrip();
    PGresult* res = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr);
    if (res == nullptr || PQresultStatus(res) != PGRES_COMMAND_OK) {
      return Fail(res, "prepare " + std::string(sql));
    }
    PQclear(res);
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  CountRoundTrip();
  PGresult* res = PQexecPrepared(conn_, it->second.c_str(), params.size(), params.values(),
                                 params.lengths(), params.formats(), /*resultFormat=*/1);
  ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return Fail(res, sql);
  return PgResult(res);
}

Status PgConnection::Execute(std::string_view sql) {
  retryable_ = false;
  CountRoundTrip();
  PGresult* res = PQexec(conn_, std::string(sql).c_str());
  ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return Fail(res, sql);
  PQclear(res);
  return Status::Ok();
}

}  // namespace keepdav::storage
