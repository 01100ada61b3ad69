// UpdateRange: SabreDAV's X-Update-Range forms (https://sabre.io/dav/http-patch/) and mod_dav's
// Content-Range, then where each writes in a file.
#include "webdav/update_range.h"

#include <gtest/gtest.h>

namespace keepdav::webdav {
namespace {

using Kind = UpdateRange::Kind;

TEST(UpdateRangeTest, XUpdateRangeForms) {
  auto r = ParseXUpdateRange("bytes=10-19");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Kind::kRange);
  EXPECT_EQ(r->first, 10u);
  EXPECT_EQ(r->last, 19u);
  r = ParseXUpdateRange("bytes=5-");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Kind::kFrom);
  EXPECT_EQ(r->first, 5u);
  r = ParseXUpdateRange(" append ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Kind::kAppend);
  r = ParseXUpdateRange("bytes=-3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Kind::kFromEnd);
  EXPECT_EQ(r->from_end, 3u);
}

TEST(UpdateRangeTest, XUpdateRangeRefused) {
  for (const char* bad : {"", "bytes=", "bytes=-", "bytes=5-4", "bytes=a-b", "bytes=-0",
                          "bytes 1-2", "Append", "bytes=1-2,4-5", "bytes=99999999999999999999-"}) {
    EXPECT_FALSE(ParseXUpdateRange(bad)) << bad;
  }
}

TEST(UpdateRangeTest, ContentRange) {
  auto r = ParseContentRange("bytes 100-199/1000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Kind::kRange);
  EXPECT_EQ(r->first, 100u);
  EXPECT_EQ(r->last, 199u);
  EXPECT_TRUE(ParseContentRange("bytes 0-0/*"));
  for (const char* bad : {"bytes 100-199/150", "bytes 100-199/199", "bytes 5-4/10", "bytes */10",
                          "bytes=0-1/2", "0-1/2", "bytes 0-1", "bytes 0-1/x"}) {
    EXPECT_FALSE(ParseContentRange(bad)) << bad;
  }
}

TEST(UpdateRangeTest, ResolveAgainstTheFile) {
  // A 10-byte file.
  ResolvedWrite w = Resolve(*ParseXUpdateRange("bytes=2-4"), 10, 3);
  EXPECT_EQ(w.status, 0);
  EXPECT_EQ(w.offset, 2u);
  EXPECT_EQ(w.new_size, 10u);
  w = Resolve(*ParseXUpdateRange("bytes=8-11"), 10, 4);  // overlaps the end: grows
  EXPECT_EQ(w.status, 0);
  EXPECT_EQ(w.new_size, 12u);
  w = Resolve(*ParseXUpdateRange("append"), 10, 5);
  EXPECT_EQ(w.offset, 10u);
  EXPECT_EQ(w.new_size, 15u);
  w = Resolve(*ParseXUpdateRange("bytes=-4"), 10, 2);
  EXPECT_EQ(w.offset, 6u);
  EXPECT_EQ(w.new_size, 10u);
  w = Resolve(*ParseXUpdateRange("bytes=10-"), 10, 7);  // exactly at the end: a resume
  EXPECT_EQ(w.status, 0);
  EXPECT_EQ(w.new_size, 17u);
}

TEST(UpdateRangeTest, ResolveRefusals) {
  EXPECT_EQ(Resolve(*ParseXUpdateRange("bytes=2-4"), 10, 4).status, 400);  // body too long
  EXPECT_EQ(Resolve(*ParseXUpdateRange("bytes=11-"), 10, 1).status, 416);  // a hole
  EXPECT_EQ(Resolve(*ParseXUpdateRange("bytes=-11"), 10, 1).status, 416);
  EXPECT_EQ(Resolve(*ParseContentRange("bytes 20-29/100"), 10, 10).status, 416);
}

}  // namespace
}  // namespace keepdav::webdav
