// GET's Range header (webdav/byte_range.h, RFC 9110 §14.2) and the Overwrite header
// (webdav/copy_move_plan.h, RFC 4918 §10.6), the pure parsers the range and overwrite fuzz
// targets check.
#include "webdav/byte_range.h"

#include <gtest/gtest.h>

#include "webdav/copy_move_plan.h"

namespace keepdav::webdav {
namespace {

struct Case {
  const char* header;
  uint64_t size;
  RangeResult result;
  uint64_t first;
  uint64_t length;
};

TEST(ByteRangeTest, OneRangeResolvedAgainstTheSize) {
  const Case cases[] = {
      {"bytes=0-9", 100, RangeResult::kRange, 0, 10},
      {"bytes=90-200", 100, RangeResult::kRange, 90, 10},  // clipped to the end
      {"bytes=10-", 100, RangeResult::kRange, 10, 90},
      {"bytes=-20", 100, RangeResult::kRange, 80, 20},
      {"bytes=-200", 100, RangeResult::kRange, 0, 100},
      {" bytes= 1-2 ", 100, RangeResult::kRange, 1, 2},  // OWS around the range
      {"Bytes=1-2", 100, RangeResult::kRange, 1, 2},     // §14.1: the unit is case-insensitive
      {"bytes=100-", 100, RangeResult::kUnsatisfiable, 0, 0},
      {"bytes=-5", 0, RangeResult::kUnsatisfiable, 0, 0},
      {"bytes=-0", 100, RangeResult::kUnsatisfiable, 0, 0},
      {"bytes=0-", 0, RangeResult::kUnsatisfiable, 0, 0},
      {"bytes=0-1,5-6", 100, RangeResult::kNone, 0, 0},  // lists: the whole representation
      {"bytes=5-1", 100, RangeResult::kNone, 0, 0},
      {"bytes=1 2-30", 100, RangeResult::kNone, 0, 0},  // once read as 12-30
      {"bytes=1-2 0", 100, RangeResult::kNone, 0, 0},
      {"bytes=-", 100, RangeResult::kNone, 0, 0},
      {"bytes=+1-2", 100, RangeResult::kNone, 0, 0},
      {"items=1-2", 100, RangeResult::kNone, 0, 0},
      {"bytes=99999999999999999999-", 100, RangeResult::kNone, 0, 0},  // 20 digits
  };
  for (const Case& c : cases) {
    ByteRange r{7, 7};
    EXPECT_EQ(ParseByteRange(c.header, c.size, &r), c.result) << c.header;
    if (c.result == RangeResult::kRange) {
      EXPECT_EQ(r.first, c.first) << c.header;
      EXPECT_EQ(r.length, c.length) << c.header;
    }
  }
}

TEST(OverwriteTest, OnlyTAndF) {
  EXPECT_EQ(ParseOverwrite("T"), true);
  EXPECT_EQ(ParseOverwrite("t"), true);
  EXPECT_EQ(ParseOverwrite(" F\t"), false);
  EXPECT_EQ(ParseOverwrite("f"), false);
  for (const char* bad : {"", "T, F", "TRUE", "Tr", "0", "1", "T F", "\"T\""}) {
    EXPECT_FALSE(ParseOverwrite(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace keepdav::webdav
