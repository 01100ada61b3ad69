// Tests for webdav/conditional: ETags, HTTP dates and RFC 9110 §13 conditional requests.
#include "webdav/conditional.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>

namespace keepdav::webdav {
namespace {

using storage::FileInfo;
using storage::FileType;

// Sun, 06 Nov 1994 08:49:37 GMT (the RFC 9110 §5.6.7 example).
constexpr int64_t kExampleTime = 784111777;
constexpr int64_t kNs = 1000000000;

FileInfo MakeInfo(uint64_t inode = 42, uint64_t size = 10, int64_t mtime_ns = kExampleTime * kNs) {
  FileInfo info;
  info.type = FileType::kFile;
  info.inode = inode;
  info.size = size;
  info.mtime_ns = mtime_ns;
  info.birth_ns = mtime_ns;
  return info;
}

// A request with the given headers; body and progress are set as a handler would see them.
class Request {
 public:
  explicit Request(std::string method, HeaderMap headers = {}) {
    req_.method = std::move(method);
    req_.target = "/f";
    req_.host = "localhost";
    req_.headers = std::move(headers);
    req_.body = &body_;
    req_.progress = &progress_;
  }
  const DavRequest& get() const { return req_; }

 private:
  std::istringstream body_;
  Progress progress_;
  DavRequest req_;
};

Condition Evaluate(const std::string& method, HeaderMap headers, const FileInfo* info) {
  Request req(method, std::move(headers));
  return EvaluateConditionalHeaders(req.get(), info,
                                    /*read_method=*/method == "GET" || method == "HEAD");
}

// ---------------------------------------------------------------------------------------------
// ETagFor

TEST(ETagForTest, StrongQuotedAndStable) {
  std::string tag = ETagFor(MakeInfo());
  ASSERT_GE(tag.size(), 3u);
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(tag.back(), '"');
  EXPECT_NE(tag.substr(0, 2), "W/");
  EXPECT_EQ(tag.find('"', 1), tag.size() - 1);
  EXPECT_EQ(tag, ETagFor(MakeInfo()));
}

TEST(ETagForTest, ChangesWithSizeMtimeAndInode) {
  std::string base = ETagFor(MakeInfo(42, 10, kExampleTime * kNs));
  EXPECT_NE(base, ETagFor(MakeInfo(42, 11, kExampleTime * kNs)));
  EXPECT_NE(base, ETagFor(MakeInfo(43, 10, kExampleTime * kNs)));
  EXPECT_NE(base, ETagFor(MakeInfo(42, 10, kExampleTime * kNs + 1)));  // a nanosecond later
  EXPECT_NE(base, ETagFor(MakeInfo(42, 10, (kExampleTime + 1) * kNs)));
}

// PROPFIND appends the validators straight into its buffer: the same text as the string
// versions, after what the buffer already holds, through the per-thread date cache's two slots
// and past them (three different seconds in turn, then the first again).
TEST(ETagForTest, AppendedFormsMatchTheStringForms) {
  std::string out = "x";
  AppendETag(&out, MakeInfo(42, 10, kExampleTime * kNs));
  EXPECT_EQ(out, "x" + ETagFor(MakeInfo(42, 10, kExampleTime * kNs)));
  for (int64_t t : {kExampleTime, int64_t{0}, int64_t{4102444799}, kExampleTime, int64_t{0}}) {
    std::string http = "<a>", iso = "<b>";
    AppendHttpDate(&http, t);
    AppendIso8601Date(&iso, t);
    EXPECT_EQ(http, "<a>" + HttpDate(t)) << t;
    EXPECT_EQ(iso, "<b>" + Iso8601Date(t)) << t;
  }
  std::string twice;
  AppendHttpDate(&twice, kExampleTime);
  AppendHttpDate(&twice, kExampleTime + 1);
  EXPECT_EQ(twice, "Sun, 06 Nov 1994 08:49:37 GMTSun, 06 Nov 1994 08:49:38 GMT");
}

// ---------------------------------------------------------------------------------------------
// Dates

TEST(HttpDateTest, ImfFixdate) {
  EXPECT_EQ(HttpDate(kExampleTime), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(HttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDateTest, Iso8601) {
  EXPECT_EQ(Iso8601Date(kExampleTime), "1994-11-06T08:49:37Z");
}

TEST(HttpDateTest, RoundTrip) {
  for (int64_t t : {int64_t{0}, int64_t{1}, kExampleTime, int64_t{951782400} /* 2000-02-29 */,
                    int64_t{1700000000}, int64_t{2147483648} /* past 2038 */,
                    int64_t{4102444799} /* 2099-12-31 */}) {
    std::string text = HttpDate(t);
    auto parsed = ParseHttpDate(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, t) << text;
  }
}

TEST(ParseHttpDateTest, ImfFixdate) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kExampleTime);
}

TEST(ParseHttpDateTest, Asctime) {
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), kExampleTime);
}

TEST(ParseHttpDateTest, Rfc850) {
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), kExampleTime);
}

TEST(ParseHttpDateTest, EmptyAndOutOfRange) {
  EXPECT_FALSE(ParseHttpDate("").has_value());
  EXPECT_FALSE(ParseHttpDate("Sun, 32 Nov 1994 08:49:37 GMT").has_value());
}

TEST(ParseHttpDateTest, Garbage) {
  EXPECT_FALSE(ParseHttpDate("not a date").has_value());
  EXPECT_FALSE(ParseHttpDate("garbage").has_value());
  EXPECT_FALSE(ParseHttpDate("\"etag\"").has_value());
}

// ---------------------------------------------------------------------------------------------
// EvaluateConditionalHeaders

TEST(ConditionalTest, NoHeadersProceed) {
  FileInfo info = MakeInfo();
  EXPECT_EQ(Evaluate("GET", {}, &info), Condition::kProceed);
  EXPECT_EQ(Evaluate("PUT", {}, nullptr), Condition::kProceed);
}

TEST(ConditionalTest, IfMatch) {
  FileInfo info = MakeInfo();
  std::string etag = ETagFor(info);
  EXPECT_EQ(Evaluate("PUT", {{"If-Match", etag}}, &info), Condition::kProceed);
  EXPECT_EQ(Evaluate("GET", {{"If-Match", etag}}, &info), Condition::kProceed);
  EXPECT_EQ(Evaluate("PUT", {{"If-Match", "\"other\""}}, &info), Condition::kPreconditionFailed);
  EXPECT_EQ(Evaluate("GET", {{"If-Match", "\"other\""}}, &info), Condition::kPreconditionFailed);
  EXPECT_EQ(Evaluate("PUT", {{"If-Match", "\"a\", " + etag + ", \"b\""}}, &info),
            Condition::kProceed);
  EXPECT_EQ(Evaluate("PUT", {{"If-Match", "*"}}, &info), Condition::kProceed);
  // Strong comparison: a weak tag never matches.
  EXPECT_EQ(Evaluate("PUT", {{"If-Match", "W/" + etag}}, &info), Condition::kPreconditionFailed);
  // Header names are case-insensitive.
  EXPECT_EQ(Evaluate("PUT", {{"if-match", "\"other\""}}, &info), Condition::kPreconditionFailed);
}

TEST(ConditionalTest, IfMatchOnMissingResourceFails) {
  EXPECT_EQ(Evaluate("PUT", {{"If-Match", "*"}}, nullptr), Condition::kPreconditionFailed);
  EXPECT_EQ(Evaluate("PUT", {{"If-Match", "\"x\""}}, nullptr), Condition::kPreconditionFailed);
}

TEST(ConditionalTest, IfNoneMatch) {
  FileInfo info = MakeInfo();
  std::string etag = ETagFor(info);
  EXPECT_EQ(Evaluate("GET", {{"If-None-Match", etag}}, &info), Condition::kNotModified);
  EXPECT_EQ(Evaluate("HEAD", {{"If-None-Match", etag}}, &info), Condition::kNotModified);
  EXPECT_EQ(Evaluate("PUT", {{"If-None-Match", etag}}, &info), Condition::kPreconditionFailed);
  // Weak comparison for If-None-Match.
  EXPECT_EQ(Evaluate("GET", {{"If-None-Match", "W/" + etag}}, &info), Condition::kNotModified);
  EXPECT_EQ(Evaluate("GET", {{"If-None-Match", "\"x\", " + etag}}, &info), Condition::kNotModified);
  EXPECT_EQ(Evaluate("GET", {{"If-None-Match", "\"other\""}}, &info), Condition::kProceed);
  EXPECT_EQ(Evaluate("PUT", {{"If-None-Match", "\"other\""}}, &info), Condition::kProceed);
}

TEST(ConditionalTest, IfNoneMatchStar) {
  FileInfo info = MakeInfo();
  // "Create only if absent".
  EXPECT_EQ(Evaluate("PUT", {{"If-None-Match", "*"}}, nullptr), Condition::kProceed);
  EXPECT_EQ(Evaluate("PUT", {{"If-None-Match", "*"}}, &info), Condition::kPreconditionFailed);
  EXPECT_EQ(Evaluate("GET", {{"If-None-Match", "*"}}, &info), Condition::kNotModified);
}

TEST(ConditionalTest, IfModifiedSince) {
  FileInfo info = MakeInfo();
  std::string same = HttpDate(kExampleTime);
  std::string later = HttpDate(kExampleTime + 60);
  std::string earlier = HttpDate(kExampleTime - 60);
  EXPECT_EQ(Evaluate("GET", {{"If-Modified-Since", same}}, &info), Condition::kNotModified);
  EXPECT_EQ(Evaluate("GET", {{"If-Modified-Since", later}}, &info), Condition::kNotModified);
  EXPECT_EQ(Evaluate("GET", {{"If-Modified-Since", earlier}}, &info), Condition::kProceed);
  // Only GET and HEAD (RFC 9110 §13.1.3).
  EXPECT_EQ(Evaluate("PUT", {{"If-Modified-Since", later}}, &info), Condition::kProceed);
  EXPECT_EQ(Evaluate("DELETE", {{"If-Modified-Since", later}}, &info), Condition::kProceed);
  // An invalid date is ignored.
  EXPECT_EQ(Evaluate("GET", {{"If-Modified-Since", "yesterday"}}, &info), Condition::kProceed);
  // Sub-second modification times compare at one-second resolution (what Last-Modified shows).
  FileInfo fractional = MakeInfo(42, 10, kExampleTime * kNs + 500000000);
  EXPECT_EQ(Evaluate("GET", {{"If-Modified-Since", same}}, &fractional), Condition::kNotModified);
}

TEST(ConditionalTest, IfUnmodifiedSince) {
  FileInfo info = MakeInfo();
  std::string same = HttpDate(kExampleTime);
  std::string earlier = HttpDate(kExampleTime - 60);
  EXPECT_EQ(Evaluate("PUT", {{"If-Unmodified-Since", same}}, &info), Condition::kProceed);
  EXPECT_EQ(Evaluate("PUT", {{"If-Unmodified-Since", earlier}}, &info),
            Condition::kPreconditionFailed);
  EXPECT_EQ(Evaluate("GET", {{"If-Unmodified-Since", earlier}}, &info),
            Condition::kPreconditionFailed);
}

// RFC 9110 §13.1.4: an If-Unmodified-Since that is not a valid HTTP-date is ignored.
TEST(ConditionalTest, InvalidIfUnmodifiedSinceIsIgnored) {
  FileInfo info = MakeInfo();
  EXPECT_EQ(Evaluate("PUT", {{"If-Unmodified-Since", "garbage"}}, &info), Condition::kProceed);
  EXPECT_EQ(Evaluate("GET", {{"If-Unmodified-Since", "not a date"}}, &info), Condition::kProceed);
}

// RFC 9110 §13.2.2 step 2: If-Unmodified-Since only when If-Match is absent.
TEST(ConditionalTest, IfMatchTakesPrecedenceOverIfUnmodifiedSince) {
  FileInfo info = MakeInfo();
  std::string earlier = HttpDate(kExampleTime - 60);
  EXPECT_EQ(Evaluate("PUT", {{"If-Match", ETagFor(info)}, {"If-Unmodified-Since", earlier}}, &info),
            Condition::kProceed);
  EXPECT_EQ(
      Evaluate("PUT", {{"If-Match", "\"other\""}, {"If-Unmodified-Since", HttpDate(kExampleTime)}},
               &info),
      Condition::kPreconditionFailed);
}

// RFC 9110 §13.2.2 step 4: If-Modified-Since only when If-None-Match is absent.
TEST(ConditionalTest, IfNoneMatchTakesPrecedenceOverIfModifiedSince) {
  FileInfo info = MakeInfo();
  std::string later = HttpDate(kExampleTime + 60);
  EXPECT_EQ(Evaluate("GET", {{"If-None-Match", "\"other\""}, {"If-Modified-Since", later}}, &info),
            Condition::kProceed);
}

// RFC 9110 §13.2.2: a failed If-Match is 412 even when If-None-Match would give 304.
TEST(ConditionalTest, IfMatchFailureBeforeIfNoneMatch) {
  FileInfo info = MakeInfo();
  EXPECT_EQ(Evaluate("GET", {{"If-Match", "\"other\""}, {"If-None-Match", ETagFor(info)}}, &info),
            Condition::kPreconditionFailed);
}

}  // namespace
}  // namespace keepdav::webdav
