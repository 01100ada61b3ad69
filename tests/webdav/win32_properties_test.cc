// ParseWin32Time on the values Windows' WebDAV client writes, and on what it must refuse.
#include "webdav/win32_properties.h"

#include <gtest/gtest.h>

namespace keepdav::webdav {
namespace {

std::string Element(const std::string& text) {
  return "<Z:Win32LastModifiedTime xmlns:Z=\"urn:schemas-microsoft-com:\">" + text +
         "</Z:Win32LastModifiedTime>";
}

TEST(Win32PropertiesTest, NamesOnlyWin32LastModifiedTimeInTheMicrosoftNamespace) {
  EXPECT_TRUE(IsWin32LastModifiedTime({kMicrosoftNamespace, "Win32LastModifiedTime"}));
  EXPECT_FALSE(IsWin32LastModifiedTime({kMicrosoftNamespace, "Win32CreationTime"}));
  EXPECT_FALSE(IsWin32LastModifiedTime({"DAV:", "Win32LastModifiedTime"}));
  EXPECT_FALSE(IsWin32LastModifiedTime({"urn:schemas-microsoft-com", "Win32LastModifiedTime"}));
}

TEST(Win32PropertiesTest, ParsesTheRfc1123DatesWindowsSends) {
  EXPECT_EQ(ParseWin32Time(Element("Fri, 06 Mar 2015 07:08:09 GMT")), 1425625689);
  EXPECT_EQ(ParseWin32Time(Element("Thu, 01 Jan 1970 00:00:00 GMT")), 0);
  // Whitespace around the date (a pretty-printed body) is not part of it.
  EXPECT_EQ(ParseWin32Time(Element("\n  Fri, 06 Mar 2015 07:08:09 GMT\n")), 1425625689);
  // The element as PROPPATCH keeps it, with a default namespace instead of a prefix.
  EXPECT_EQ(ParseWin32Time("<Win32LastModifiedTime xmlns=\"urn:schemas-microsoft-com:\">"
                           "Fri, 06 Mar 2015 07:08:09 GMT</Win32LastModifiedTime>"),
            1425625689);
}

TEST(Win32PropertiesTest, RefusesWhatIsNotADate) {
  EXPECT_FALSE(ParseWin32Time(Element("")));
  EXPECT_FALSE(ParseWin32Time(Element("yesterday")));
  EXPECT_FALSE(
      ParseWin32Time(Element("2015-03-06T07:08:09Z")));  // ISO 8601 is not what Windows sends
  EXPECT_FALSE(ParseWin32Time(Element("Fri, 06 Mar 2015 07:08:09 CET")));
  EXPECT_FALSE(ParseWin32Time(Element("<x>Fri, 06 Mar 2015 07:08:09 GMT</x>")));
  EXPECT_FALSE(ParseWin32Time("not xml"));
}

}  // namespace
}  // namespace keepdav::webdav
