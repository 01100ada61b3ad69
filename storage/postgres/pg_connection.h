// PgConnection: one libpq connection of the PgDatabase pool, with its own prepared statements;
// PgParams and PgResult: the parameters and rows of one statement.
//
// Statements are prepared once per connection, named by their SQL text (PostgreSQL keeps
// prepared statements per session), and run with PQexecPrepared: one round trip per call once
// prepared. Every string parameter and column is binary (bytea, or text for hex sums), so bytes
// pass unescaped and compare bytewise; integers go out as text (the SQL casts each parameter,
// `$1::int8`) and come back binary (big-endian).
//
// SQLSTATEs are mapped to Status here and only here: class 08 (connection exception), 57P01-03
// (server shutting down or starting) and a lost connection -> kUnavailable; 40001
// (serialization failure), 40P01 (deadlock), 55P03 (lock not available), 57014 (statement
// timeout), 53300 (too many connections) -> kBusy; 23505 (unique violation) -> kAlreadyExists;
// 53100 (disk full) -> kNoSpace; 42501 (insufficient privilege), 25006 (read-only transaction)
// -> kPermissionDenied; 54000 (program limit exceeded) -> kTooLarge; others -> kIoError.
//
// Not thread-safe: a connection is used by one thread at a time (the pool hands it out).
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/status.h"

namespace keepdav::storage {

// The parameters of one statement, in order ($1, $2, ...). Byte parameters are views: the
// bytes must outlive the call that runs the statement.
class PgParams {
 public:
  PgParams& Bytes(std::string_view bytes);
  PgParams& Int(int64_t value);
  PgParams& Bool(bool value) { return Int(value ? 1 : 0); }
  // A parameter in PostgreSQL's text form (an array literal, say), kept by the PgParams.
  PgParams& Text(std::string text);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  // Text forms of integers and Text parameters, each on the heap so that the pointers above
  // stay valid as more are added.
  std::vector<std::unique_ptr<std::string>> owned_;
};

// The rows of one statement (binary format). Move-only; frees the libpq result.
class PgResult {
 public:
  explicit PgResult(PGresult* res) : res_(res) {}
  int rows() const { return PQntuples(res_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  std::string_view Bytes(int row, int col) const {
    return std::string_view(PQgetvalue(res_.get(), row, col),
                            static_cast<size_t>(PQgetlength(res_.get(), row, col)));
  }
  // An int2, int4, int8 or boolean column (told apart by their binary lengths).
  int64_t Int(int row, int col) const;
  bool Bool(int row, int col) const { return Int(row, col) != 0; }
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t Affected() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> res_;
};

class PgConnection {
 public:
  // Connects (blocking, bounded by the connect_timeout in `keywords`); kUnavailable when the
  // server cannot be reached. `keywords`/`values` are PQconnectdbParams' (expand_dbname on).
  static Result<std::unique_ptr<PgConnection>> Connect(const std::vector<std::string>& keywords,
                                                       const std::vector<std::string>& values);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Prepares `sql` on first use on this connection, then runs it with `params`.
  Result<PgResult> Exec(std::string_view sql, const PgParams& params = PgParams());
  // Runs one or more statements without parameters or results (BEGIN, COMMIT, migrations).
  Status Execute(std::string_view sql);

  // Whether the last failure was the connection's (lost, or the server going away): the
  // connection is then useless and the pool drops it.
  bool broken() const { return broken_ || PQstatus(conn_) != CONNECTION_OK; }
  // Whether the last failure may succeed when its transaction is run again (serialization
  // failure, deadlock, unique violation: see Fail).
  bool retryable() const { return retryable_; }
  // Counts every libpq call made (each one network round trip) into `counter`, which must
  // outlive the connection (PgDatabase's total, for measurements).
  void CountRoundTripsIn(std::atomic<int64_t>* counter) { round_trips_ = counter; }
  // The pool's generation when this connection was made (see PgDatabase).
  uint64_t generation = 0;

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  // Maps a failed result (or none, when the connection failed) to a Status and records
  // broken_/retryable_. Takes ownership of `res`.
  Status Fail(PGresult* res, std::string_view context);
  void CountRoundTrip();

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  bool broken_ = false;
  bool retryable_ = false;
  std::atomic<int64_t>* round_trips_ = nullptr;
};

// Round trips made on the calling thread so far, by every connection (a request runs its
// database calls on its own thread, so the difference across one request is that request's
// cost; the server logs it at debug level, and bench/ reads it per method).
int64_t PgRoundTripsOnThisThread();

// The SQLSTATE mapping above, for a five-character code ("" when there is none: kIoError).
StatusCode CodeForSqlState(std::string_view sqlstate);

}  // namespace keepdav::storage
