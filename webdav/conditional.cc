#include "webdav/conditional.h"

#include <climits>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <vector>

#include "webdav/entity_tag.h"

namespace keepdav::webdav {
namespace {

// Splits a comma-separated list of entity tags, keeping quoted commas intact.
std::vector<std::string> SplitTags(const std::string& value) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : value) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    if (!quoted && (c == ' ' || c == '\t')) continue;
    cur.push_back(c);
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Strong comparison (If-Match): neither may be weak.
bool StrongMatch(std::string_view a, std::string_view b) {
  return a.substr(0, 2) != "W/" && b.substr(0, 2) != "W/" && a == b;
}

bool WeakMatch(std::string_view a, std::string_view b) {
  return EntityTagOpaque(a) == EntityTagOpaque(b);
}

bool AnyMatches(const std::string& header, const std::string& etag, bool strong) {
  for (const std::string& tag : SplitTags(header)) {
    if (tag == "*") return true;
    if (strong ? StrongMatch(tag, etag) : WeakMatch(tag, etag)) return true;
  }
  return false;
}

}  // namespace

namespace {

constexpr size_t kETagMax = 3 * 16 + 4;

// "<inode>-<size>-<mtime ns>" in hex, formatted by hand: GET and PROPFIND make one per file.
// Returns the length written to `buf`.
size_t FormatETag(const storage::FileInfo& info, char (&buf)[kETagMax]) {
  char* p = buf;
  auto hex = [&p](unsigned long long v) {
    char digits[16];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v & 0xf];
      v >>= 4;
    } while (v != 0);
    while (n > 0) *p++ = digits[--n];
  };
  *p++ = '"';
  hex(static_cast<unsigned long long>(info.inode));
  *p++ = '-';
  hex(static_cast<unsigned long long>(info.size));
  *p++ = '-';
  hex(static_cast<unsigned long long>(info.mtime_ns));
  *p++ = '"';
  return static_cast<size_t>(p - buf);
}

}  // namespace

std::string ETagFor(const storage::FileInfo& info) {
  char buf[kETagMax];
  return std::string(buf, FormatETag(info, buf));
}

void AppendETag(std::string* out, const storage::FileInfo& info) {
  char buf[kETagMax];
  out->append(buf, FormatETag(info, buf));
}

namespace {

// Formats with gmtime_r and a per-thread cache of the last second: PROPFIND writes two dates per
// member, mostly of the same few seconds, and Poco's formatter showed up in its profile.
// Two entries: a GET formats the current time (Date) and the file's time (Last-Modified).
struct DateCache {
  int64_t seconds[2] = {INT64_MIN, INT64_MIN};
  std::string text[2];
  int next = 0;
};

// The cache's copy: valid until the thread formats two other seconds.
const std::string& FormatDate(int64_t unix_seconds, bool http, DateCache& cache) {
  if (cache.seconds[0] == unix_seconds) return cache.text[0];
  if (cache.seconds[1] == unix_seconds) return cache.text[1];
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  if (http) {
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  int slot = cache.next;
  cache.next ^= 1;
  cache.seconds[slot] = unix_seconds;
  cache.text[slot] = buf;
  return cache.text[slot];
}

}  // namespace

std::string HttpDate(int64_t unix_seconds) {
  thread_local DateCache cache;
  return FormatDate(unix_seconds, /*http=*/true, cache);
}

std::string Iso8601Date(int64_t unix_seconds) {
  thread_local DateCache cache;
  return FormatDate(unix_seconds, /*http=*/false, cache);
}

// PROPFIND's two dates per member, appended from the cache without a temporary string (both
// are longer than the short-string buffer, so each temporary was an allocation).
void AppendHttpDate(std::string* out, int64_t unix_seconds) {
  thread_local DateCache cache;
  out->append(FormatDate(unix_seconds, /*http=*/true, cache));
}

void AppendIso8601Date(std::string* out, int64_t unix_seconds) {
  thread_local DateCache cache;
  out->append(FormatDate(unix_seconds, /*http=*/false, cache));
}

std::optional<int64_t> ParseHttpDate(const std::string& text) {
  // Strict shapes: Poco's DateTimeParser is lenient (it reads "94" as the year 94 and accepts
  // garbage as year 0), and RFC 9110 §13.1.4 requires an invalid date to be ignored.
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char wkday[16] = {0}, month[4] = {0}, zone[4] = {0};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0, used = 0;
  bool ok = false;
  if (std::sscanf(text.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wkday, &day,
                  month, &year, &hh, &mm, &ss, zone, &used) == 8 &&
      used == static_cast<int>(text.size()) && text.size() == 29) {
    ok = true;  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  } else if (std::sscanf(text.c_str(), "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3[A-Z]%n",
                         wkday, &day, month, &year, &hh, &mm, &ss, zone, &used) == 8 &&
             used == static_cast<int>(text.size())) {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT. Two-digit years: RFC 9110 §5.6.7 says one
    // that appears more than 50 years in the future is in the past; 70 is the usual pivot.
    year += year < 70 ? 2000 : 1900;
    ok = true;
  } else if (std::sscanf(text.c_str(), "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wkday, month,
                         &day, &hh, &mm, &ss, &year, &used) == 7 &&
             used == static_cast<int>(text.size())) {
    std::snprintf(zone, sizeof zone, "GMT");  // asctime: Sun Nov  6 08:49:37 1994
    ok = true;
  }
  if (!ok || std::string(zone) != "GMT") return std::nullopt;
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::string(month) == kMonths[i]) mon = i;
  }
  if (mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1900) {
    return std::nullopt;
  }
  struct tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  return static_cast<int64_t>(timegm(&tm));
}

Condition EvaluateConditionalHeaders(const DavRequest& req, const storage::FileInfo* info,
                                     bool read_method) {
  int64_t mtime = info ? info->mtime_ns / 1000000000 : 0;
  // Formatted only when an If-Match or If-None-Match needs it: most requests carry neither.
  std::string etag;
  auto etag_of = [&]() -> const std::string& {
    if (etag.empty() && info) etag = ETagFor(*info);
    return etag;
  };

  // Step 1 / 2: If-Match, else If-Unmodified-Since.
  if (const std::string* h = req.Header("If-Match")) {
    if (!info || !AnyMatches(*h, etag_of(), /*strong=*/true)) return Condition::kPreconditionFailed;
  } else if (const std::string* h = req.Header("If-Unmodified-Since")) {
    auto date = ParseHttpDate(*h);
    if (date && info && mtime > *date) return Condition::kPreconditionFailed;
  }
  // Step 3 / 4: If-None-Match, else If-Modified-Since (GET/HEAD only).
  if (const std::string* h = req.Header("If-None-Match")) {
    if (info && AnyMatches(*h, etag_of(), /*strong=*/false)) {
      return read_method ? Condition::kNotModified : Condition::kPreconditionFailed;
    }
  } else if (const std::string* h = req.Header("If-Modified-Since")) {
    auto date = ParseHttpDate(*h);
    if (read_method && date && info && mtime <= *date) return Condition::kNotModified;
  }
  return Condition::kProceed;
}

}  // namespace keepdav::webdav
