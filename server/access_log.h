// AccessLog: the --access-log=FILE of issue 11 ("-": standard error), one line per request in
// Apache's Combined Log Format followed by the request's duration in microseconds:
//
//   192.0.2.7 - alice [02/Dec/2026:15:20:47 +0000] "PUT /notes/a.md HTTP/1.1" 201 - "-"
//   "rclone/v1.60.1" 5123
//
//   host       the client address after trusted-proxy resolution (forwarded.h: the real client
//              behind a proxy, not the proxy)
//   ident      always "-"
//   user       the authenticated user, "-" for none (anonymous, a refused password, OPTIONS)
//   [time]     when the request arrived, in UTC (Apache's %t; UTC so that lines sort as text)
//   "request"  method, target as sent, version (Apache's %r)
//   status     the final status: a long COPY that sent 102s is logged once, with its 207 or 201
//   bytes      response body bytes sent ("-" for none, Apache's %b)
//   "referer" "user-agent"   the request's headers, "-" when absent
//   duration   microseconds from the parsed head to the response's end (Apache's %D)
//
// Quoted and user fields are escaped as Apache's ap_escape_logitem does: '"' and '\' get a
// backslash, \b \n \r \t \v their C escapes, every other byte outside printable ASCII (control
// bytes, DEL, non-ASCII) \xhh. So one request is always one line, and a hostile User-Agent
// cannot forge a second one or a field.
//
// Each line goes out with one write(2) on a descriptor opened O_APPEND: lines from concurrent
// requests never interleave (for a regular file; a pipe keeps lines up to PIPE_BUF whole).
// Formatting uses a per-thread buffer (no allocation once it has grown, no Poco logger, no
// stream), and the time text is kept per thread for the current second.
//
// Reopen() (SIGHUP, for logrotate) opens the path again and puts the new file in place of the
// old one under the same descriptor number (dup2): a line being written while that happens lands
// whole in one of the two files. A failed reopen keeps the old file. Standard error is never
// reopened. A write that fails is logged once (keepdav.server), and again once it works.
//
// Thread-safe: Write runs on every connection thread, Reopen on the signal thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace keepdav::server {

// One request, as it is logged. The views must stay valid during Write.
struct AccessRecord {
  std::string_view client;  // numeric address
  std::string_view user;    // "" = none
  int64_t start_us = 0;     // microseconds since the epoch
  std::string_view method;
  std::string_view target;
  std::string_view version;  // "HTTP/1.1"
  int status = 0;
  int64_t body_bytes = 0;
  const std::string* referer = nullptr;     // null: absent
  const std::string* user_agent = nullptr;  // null: absent
  int64_t duration_us = 0;
};

class AccessLog {
 public:
  // `path`: a file (created 0640 when missing, appended to) or "-" for standard error.
  // kInvalidArgument naming the path and the reason when it cannot be opened.
  static storage::Result<std::unique_ptr<AccessLog>> Open(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Write(const AccessRecord& record);

  // Opens the path again (after logrotate renamed the file). OK for "-" (nothing to do); on an
  // error the old file stays in use and the error names the path.
  storage::Status Reopen();

  const std::string& path() const { return path_; }

  // The line Write would write for `record`, newline included (tests; Write uses the same code).
  static void Format(const AccessRecord& record, std::string* out);
  // Appends `text` escaped as above.
  static void AppendEscaped(std::string_view text, std::string* out);

 private:
  AccessLog(std::string path, int fd, bool owns_fd)
      : path_(std::move(path)), fd_(fd), owns_fd_(owns_fd) {}

  const std::string path_;
  const int fd_;
  const bool owns_fd_;
  std::atomic<bool> failing_{false};
};

}  // namespace keepdav::server
