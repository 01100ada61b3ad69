#include "server/access_log.h"

#include <Poco/Logger.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace keepdav::server {

namespace {

void AppendNumber(int64_t n, std::string* out) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out->append(digits, static_cast<size_t>(end - digits));
}

// "[02/Dec/2026:15:20:47 +0000]" for `seconds`, formatted once per second per thread.
std::string_view TimeText(int64_t seconds) {
  thread_local int64_t when = -1;
  thread_local char text[40];
  thread_local size_t size = 0;
  if (seconds != when) {
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = static_cast<time_t>(seconds);
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = std::snprintf(text, sizeof text, "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday,
                          kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    size = n > 0 ? static_cast<size_t>(n) : 0;
    when = seconds;
  }
  return std::string_view(text, size);
}

void AppendField(std::string_view text, std::string* out) {
  if (text.empty()) {
    out->push_back('-');
  } else {
    AccessLog::AppendEscaped(text, out);
  }
}

void AppendQuoted(const std::string* text, std::string* out) {
  out->push_back('"');
  if (text == nullptr) {
    out->push_back('-');
  } else {
    AccessLog::AppendEscaped(*text, out);
  }
  out->push_back('"');
}

}  // namespace

storage::Result<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<AccessLog>(new AccessLog(path, STDERR_FILENO, false));
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return storage::Status::InvalidArgument("--access-log=" + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AccessLog>(new AccessLog(path, fd, true));
}

AccessLog::~AccessLog() {
  if (owns_fd_) ::close(fd_);
}

storage::Status AccessLog::Reopen() {
  if (!owns_fd_) return storage::Status::Ok();
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return storage::Status::InvalidArgument("--access-log=" + path_ + ": " + std::strerror(errno));
  }
  // dup2 swaps the file behind fd_ atomically: a write running on another thread finishes in
  // the old file, every later one goes to the new (no moment without a file, no lock).
  int rc = ::dup3(fd, fd_, O_CLOEXEC);
  int saved = errno;
  ::close(fd);
  if (rc < 0) {
    return storage::Status::InvalidArgument("--access-log=" + path_ + ": " + std::strerror(saved));
  }
  return storage::Status::Ok();
}

void AccessLog::AppendEscaped(std::string_view text, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; };
  size_t i = 0;
  while (i < text.size()) {
    // Runs of plain bytes (nearly every byte of a real request) are appended at once.
    size_t run = i;
    while (run < text.size() && plain(static_cast<unsigned char>(text[run]))) ++run;
    out->append(text.data() + i, run - i);
    if (run == text.size()) break;
    char ch = text[run];
    unsigned char c = static_cast<unsigned char>(ch);
    i = run + 1;
    out->push_back('\\');
    switch (c) {
      case '"':
      case '\\':
        out->push_back(ch);
        break;
      case '\b':
        out->push_back('b');
        break;
      case '\n':
        out->push_back('n');
        break;
      case '\r':
        out->push_back('r');
        break;
      case '\t':
        out->push_back('t');
        break;
      case '\v':
        out->push_back('v');
        break;
      default:
        out->push_back('x');
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
    }
  }
}

void AccessLog::Format(const AccessRecord& r, std::string* out) {
  AppendField(r.client, out);
  out->append(" - ");
  AppendField(r.user, out);
  out->push_back(' ');
  out->append(TimeText(r.start_us / 1000000));
  out->append(" \"");
  AppendEscaped(r.method, out);
  out->push_back(' ');
  AppendEscaped(r.target, out);
  out->push_back(' ');
  AppendEscaped(r.version, out);
  out->append("\" ");
  AppendNumber(r.status, out);
  out->push_back(' ');
  if (r.body_bytes > 0) {
    AppendNumber(r.body_bytes, out);
  } else {
    out->push_back('-');
  }
  out->push_back(' ');
  AppendQuoted(r.referer, out);
  out->push_back(' ');
  AppendQuoted(r.user_agent, out);
  out->push_back(' ');
  AppendNumber(r.duration_us, out);
  out->push_back('\n');
}

void AccessLog::Write(const AccessRecord& record) {
  thread_local std::string line;
  line.clear();
  Format(record, &line);
  const char* p = line.data();
  size_t left = line.size();
  int error = 0;
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : ENOSPC;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  // A long line is not kept in every thread's buffer for good.
  if (line.capacity() > 64 * 1024) std::string().swap(line);
  if (error != 0) {
    if (!failing_.exchange(true)) {
      Poco::Logger::get("keepdav.server")
          .error("access log %s: write failed: %s (lines are lost until it works again)", path_,
                 std::string(std::strerror(error)));
    }
  } else if (failing_.load(std::memory_order_relaxed) && failing_.exchange(false)) {
    Poco::Logger::get("keepdav.server").notice("access log %s: writing again", path_);
  }
}

}  // namespace keepdav::server
