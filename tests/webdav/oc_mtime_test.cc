// ParseOcMtime: the values ownCloud clients and rclone send, and those Nextcloud refuses.
#include "webdav/oc_mtime.h"

#include <gtest/gtest.h>

namespace keepdav::webdav {
namespace {

TEST(OcMtimeTest, WholeSeconds) {
  EXPECT_EQ(ParseOcMtime("1700000000"), 1700000000LL * 1000000000);  // rclone: %d of Unix()
  EXPECT_EQ(ParseOcMtime("0"), 0);
  EXPECT_EQ(ParseOcMtime(" 42 "), 42LL * 1000000000);
}

TEST(OcMtimeTest, FractionalSeconds) {
  // pyocclient sends str(st_mtime), the iOS client a Double.
  EXPECT_EQ(ParseOcMtime("1700000000.25"), 1700000000LL * 1000000000 + 250000000);
  EXPECT_EQ(ParseOcMtime("1.000000001"), 1000000001);
  EXPECT_EQ(ParseOcMtime("1.0000000019"), 1000000001);  // truncated to ns
  EXPECT_EQ(ParseOcMtime("5."), 5LL * 1000000000);
}

TEST(OcMtimeTest, RefusedValues) {
  for (const char* bad : {"", " ", "abc", "0x10", "-5", "+5", "1e9", "1,5", ".5", "12 34",
                          "99999999999", "9223372036", "1700000000.2.3", "1700000000s"}) {
    EXPECT_EQ(ParseOcMtime(bad), std::nullopt) << bad;
  }
}

TEST(OcMtimeTest, LargestAccepted) {
  EXPECT_EQ(ParseOcMtime("9223372035"), 9223372035LL * 1000000000);
}

}  // namespace
}  // namespace keepdav::webdav
