#include "webdav/conditional.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Timestamp.h>

#include <cstdio>
#include <string_view>
#include <vector>

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

std::string_view Opaque(std::string_view tag) {
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  return tag;
}

// Strong comparison (If-Match): neither may be weak.
bool StrongMatch(std::string_view a, std::string_view b) {
  return a.substr(0, 2) != "W/" && b.substr(0, 2) != "W/" && a == b;
}

bool WeakMatch(std::string_view a, std::string_view b) {
  return Opaque(a) == Opaque(b);
}

bool AnyMatches(const std::string& header, const std::string& etag, bool strong) {
  for (const std::string& tag : SplitTags(header)) {
    if (tag == "*") return true;
    if (strong ? StrongMatch(tag, etag) : WeakMatch(tag, etag)) return true;
  }
  return false;
}

}  // namespace

std::string ETagFor(const storage::FileInfo& info) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "\"%llx-%llx-%llx\"", static_cast<unsigned long long>(info.inode),
                static_cast<unsigned long long>(info.size),
                static_cast<unsigned long long>(info.mtime_ns));
  return buf;
}

std::string HttpDate(int64_t unix_seconds) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(unix_seconds),
                                         Poco::DateTimeFormat::HTTP_FORMAT);
}

std::string Iso8601Date(int64_t unix_seconds) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(unix_seconds),
                                         Poco::DateTimeFormat::ISO8601_FORMAT);
}

std::optional<int64_t> ParseHttpDate(const std::string& text) {
  Poco::DateTime dt;
  int tzd = 0;
  for (const std::string& fmt :
       {Poco::DateTimeFormat::HTTP_FORMAT, Poco::DateTimeFormat::RFC850_FORMAT,
        Poco::DateTimeFormat::ASCTIME_FORMAT}) {
    if (Poco::DateTimeParser::tryParse(fmt, text, dt, tzd)) {
      dt.makeUTC(tzd);
      return static_cast<int64_t>(dt.timestamp().epochTime());
    }
  }
  return std::nullopt;
}

Condition EvaluateConditionalHeaders(const DavRequest& req, const storage::FileInfo* info,
                                     bool read_method) {
  std::string etag = info ? ETagFor(*info) : std::string();
  int64_t mtime = info ? info->mtime_ns / 1000000000 : 0;

  // Step 1 / 2: If-Match, else If-Unmodified-Since.
  if (const std::string* h = req.Header("If-Match")) {
    if (!info || !AnyMatches(*h, etag, /*strong=*/true)) return Condition::kPreconditionFailed;
  } else if (const std::string* h = req.Header("If-Unmodified-Since")) {
    auto date = ParseHttpDate(*h);
    if (date && info && mtime > *date) return Condition::kPreconditionFailed;
  }
  // Step 3 / 4: If-None-Match, else If-Modified-Since (GET/HEAD only).
  if (const std::string* h = req.Header("If-None-Match")) {
    if (info && AnyMatches(*h, etag, /*strong=*/false)) {
      return read_method ? Condition::kNotModified : Condition::kPreconditionFailed;
    }
  } else if (const std::string* h = req.Header("If-Modified-Since")) {
    auto date = ParseHttpDate(*h);
    if (read_method && date && info && mtime <= *date) return Condition::kNotModified;
  }
  return Condition::kProceed;
}

}  // namespace keepdav::webdav
