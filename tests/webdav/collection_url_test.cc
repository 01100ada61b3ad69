// collection_url.h: which targets name a resource without its trailing slash, and the URLs the
// 301 and Content-Location give, for origin-form and absolute-form targets.
#include "webdav/collection_url.h"

#include <gtest/gtest.h>

#include <string>

namespace keepdav::webdav {
namespace {

DavRequest Request(const std::string& target, const std::string& path) {
  DavRequest req;
  req.method = "GET";
  req.target = target;
  req.path = storage::ResourcePath::Parse(path).value();
  return req;
}

std::string HeaderOf(const DavResponse& r, const std::string& name) {
  for (const auto& [n, v] : r.headers()) {
    if (n == name) return v;
  }
  return "";
}

TEST(CollectionUrlTest, NamedWithoutSlash) {
  EXPECT_TRUE(NamedWithoutSlash(Request("/up", "/up")));
  EXPECT_TRUE(NamedWithoutSlash(Request("/up?x=/", "/up")));
  EXPECT_TRUE(NamedWithoutSlash(Request("http://host:8080/a/up", "/a/up")));
  EXPECT_FALSE(NamedWithoutSlash(Request("/up/", "/up")));
  EXPECT_FALSE(NamedWithoutSlash(Request("/up/?x", "/up")));
  EXPECT_FALSE(NamedWithoutSlash(Request("http://host/up/", "/up")));
  // The root is never redirected, however it is named.
  EXPECT_FALSE(NamedWithoutSlash(Request("/", "/")));
  EXPECT_FALSE(NamedWithoutSlash(Request("http://host", "/")));
  EXPECT_FALSE(NamedWithoutSlash(Request("http://host?q", "/")));
}

TEST(CollectionUrlTest, RedirectKeepsTheQueryAndEncodesThePath) {
  DavResponse r = RedirectToCollection(Request("/a%20b?sort=name", "/a b"));
  EXPECT_EQ(r.status(), 301);
  EXPECT_EQ(r.body(), DavResponse::Body::kNone);
  EXPECT_EQ(HeaderOf(r, "Location"), "/a%20b/?sort=name");
  EXPECT_EQ(HeaderOf(RedirectToCollection(Request("http://h/x/y", "/x/y")), "Location"), "/x/y/");
}

TEST(CollectionUrlTest, ContentLocationOnlyForACollectionWithoutSlash) {
  DavResponse r = DavResponse::Empty(207);
  AddCollectionLocation(Request("/d", "/d"), /*is_collection=*/true, &r);
  EXPECT_EQ(HeaderOf(r, "Content-Location"), "/d/");
  DavResponse file = DavResponse::Empty(207);
  AddCollectionLocation(Request("/f", "/f"), /*is_collection=*/false, &file);
  EXPECT_TRUE(file.headers().empty());
  DavResponse slashed = DavResponse::Empty(207);
  AddCollectionLocation(Request("/d/", "/d"), /*is_collection=*/true, &slashed);
  EXPECT_TRUE(slashed.headers().empty());
}

}  // namespace
}  // namespace keepdav::webdav
