// The href rule (href.h): percent-encoded, a trailing slash for a collection except the root.
#include "webdav/href.h"

#include <gtest/gtest.h>

namespace keepdav::webdav {
namespace {

storage::ResourcePath P(const std::string& s) {
  return storage::ResourcePath::Parse(s).value();
}

TEST(HrefTest, FilesAndCollections) {
  EXPECT_EQ(HrefFor(P("/"), true), "/");
  EXPECT_EQ(HrefFor(P("/"), false), "/");
  EXPECT_EQ(HrefFor(P("/a"), false), "/a");
  EXPECT_EQ(HrefFor(P("/a"), true), "/a/");
  EXPECT_EQ(HrefFor(P("/a/b c"), true), "/a/b%20c/");
  EXPECT_EQ(HrefFor(P("/x#y?z"), false), "/x%23y%3Fz");
  EXPECT_EQ(HrefFor(P("/\xC3\xBC"), true), "/%C3%BC/");
}

TEST(HrefTest, AppendsSegments) {
  std::string out = "/dir/";
  AppendHref(&out, "a b", true);
  EXPECT_EQ(out, "/dir/a%20b/");
  out = "/dir/";
  AppendHref(&out, "f%1", false);
  EXPECT_EQ(out, "/dir/f%251");
}

}  // namespace
}  // namespace keepdav::webdav
