// The Depth header (depth.h).
#include "webdav/depth.h"

#include <gtest/gtest.h>

namespace keepdav::webdav {
namespace {

std::optional<Depth> Parsed(const char* value, Depth fallback = Depth::kInfinity) {
  if (!value) return DepthHeader::Parse(nullptr).Or(fallback);
  std::string v = value;
  return DepthHeader::Parse(&v).Or(fallback);
}

TEST(DepthHeaderTest, Values) {
  EXPECT_EQ(Parsed("0"), Depth::kZero);
  EXPECT_EQ(Parsed("1"), Depth::kOne);
  EXPECT_EQ(Parsed("infinity"), Depth::kInfinity);
  EXPECT_EQ(Parsed("Infinity"), Depth::kInfinity);
  EXPECT_EQ(Parsed("INFINITY", Depth::kZero), Depth::kInfinity);
}

TEST(DepthHeaderTest, AbsentIsTheFallback) {
  EXPECT_EQ(Parsed(nullptr, Depth::kZero), Depth::kZero);
  EXPECT_EQ(Parsed(nullptr, Depth::kInfinity), Depth::kInfinity);
}

TEST(DepthHeaderTest, AnythingElseIsInvalid) {
  for (const char* bad : {"", "2", "-1", " 1", "1 ", "infinit", "infinityx", "00"}) {
    EXPECT_FALSE(Parsed(bad)) << '"' << bad << '"';
  }
  std::string with_nul("infinity\0", 9);
  EXPECT_FALSE(DepthHeader::Parse(&with_nul).Or(Depth::kZero));
}

TEST(DepthHeaderTest, Names) {
  EXPECT_STREQ(DepthName(Depth::kZero), "0");
  EXPECT_STREQ(DepthName(Depth::kOne), "1");
  EXPECT_STREQ(DepthName(Depth::kInfinity), "infinity");
}

}  // namespace
}  // namespace keepdav::webdav
