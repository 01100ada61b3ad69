#include "storage/ascii.h"

#include <gtest/gtest.h>

namespace keepdav::storage::ascii {
namespace {

TEST(AsciiTest, TrimRemovesSpacesAndTabsByDefault) {
  EXPECT_EQ(Trim(" \t value \t "), "value");
  EXPECT_EQ(Trim("a b"), "a b");
  EXPECT_EQ(Trim(" \t "), "");
  EXPECT_EQ(Trim(""), "");
  // Line ends are not OWS (RFC 9110 §5.6.3): kept unless asked for.
  EXPECT_EQ(Trim(" x\r\n"), "x\r\n");
  EXPECT_EQ(Trim("\r\n x \r\n", kWhitespace), "x");
}

TEST(AsciiTest, TrimOneSide) {
  EXPECT_EQ(TrimLeading("  x  "), "x  ");
  EXPECT_EQ(TrimTrailing("  x  "), "  x");
  EXPECT_EQ(TrimTrailing("SELECT 1;\n\t ", kWhitespace), "SELECT 1;");
  EXPECT_EQ(TrimLeading("   "), "");
  EXPECT_EQ(TrimTrailing("   "), "");
}

TEST(AsciiTest, TrimReturnsAViewIntoTheArgument) {
  std::string_view s = "  abc  ";
  std::string_view t = Trim(s);
  EXPECT_EQ(t.data(), s.data() + 2);
  // Also when nothing is left: never a null data() (sqlite3_prepare rejects a null statement).
  std::string_view blank = "   ";
  EXPECT_EQ(TrimTrailing(blank).data(), blank.data());
  EXPECT_EQ(TrimLeading(blank).data(), blank.data() + 3);
}

TEST(AsciiTest, CaseInsensitiveAsciiOnly) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(EqualsIgnoreCase("chunked", "chunke"));
  EXPECT_FALSE(EqualsIgnoreCase("a[", "A{"));  // '[' and '{' differ by 0x20 but are not letters
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\x84", "\xc3\xa4"));  // no Unicode folding
  EXPECT_EQ(ToLower(std::string("Go-http-client/1.1 ÄB")), "go-http-client/1.1 Äb");
}

}  // namespace
}  // namespace keepdav::storage::ascii
