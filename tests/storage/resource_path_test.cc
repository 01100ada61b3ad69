#include "storage/resource_path.h"

#include "tests/storage/status_printer.h"
#include "tests/storage/test_files.h"

#include <gtest/gtest.h>

#include <string>

namespace keepdav::storage {
namespace {

using test_support::P;

struct NormaliseCase {
  std::string input;
  std::string expected;
};

TEST(ResourcePathTest, Normalises) {
  const NormaliseCase cases[] = {
      {"", "/"},
      {"/", "/"},
      {"//", "/"},
      {"/a", "/a"},
      {"a", "/a"},
      {"/a/", "/a"},
      {"a//b", "/a/b"},
      {"///a///b///", "/a/b"},
      {"/a b/c%20d", "/a b/c%20d"},  // already decoded: '%' is an ordinary byte here
      {"/.hidden/...", "/.hidden/..."},
      {"/ä/日本語/\xF0\x9F\x98\x80", "/ä/日本語/\xF0\x9F\x98\x80"},
      {"/keepdav-x/.keepdav", "/keepdav-x/.keepdav"},  // not the reserved prefix
      {"/" + std::string(255, 'x'), "/" + std::string(255, 'x')},
  };
  for (const auto& c : cases) {
    Result<ResourcePath> r = ResourcePath::Parse(c.input);
    ASSERT_TRUE(r.ok()) << c.input << ": " << r.status().ToString();
    EXPECT_EQ(r->str(), c.expected) << c.input;
  }
}

struct RejectCase {
  std::string input;
  StatusCode code;
};

TEST(ResourcePathTest, RejectsTraversalAndUnaddressableNames) {
  const RejectCase cases[] = {
      {"..", StatusCode::kInvalidPath},
      {"/..", StatusCode::kInvalidPath},
      {"/../etc/passwd", StatusCode::kInvalidPath},
      {"/a/../b", StatusCode::kInvalidPath},
      {"/a/..", StatusCode::kInvalidPath},
      {"/a/../../..", StatusCode::kInvalidPath},
      // "/a/%2e%2e/b" and "/%2E%2E/" as they reach Parse, already decoded.
      {"/a/../b", StatusCode::kInvalidPath},
      {"/../", StatusCode::kInvalidPath},
      {"/.", StatusCode::kInvalidPath},
      {"/a/./b", StatusCode::kInvalidPath},
      {std::string("/a\0b", 4), StatusCode::kInvalidPath},
      {std::string("/a/\0", 4), StatusCode::kInvalidPath},
      {"/a\\b", StatusCode::kInvalidPath},
      {"\\..\\etc", StatusCode::kInvalidPath},
      {"/..\\..", StatusCode::kInvalidPath},
      {"/" + std::string(256, 'x'), StatusCode::kInvalidPath},
      {"/.keepdav-tmp-0123", StatusCode::kNotFound},
      {"/a/.keepdav-staging/b", StatusCode::kNotFound},
      {"/.keepdav-", StatusCode::kNotFound},
      {"/.KEEPDAV-TMP-x", StatusCode::kNotFound},  // case-insensitive file systems
      // Invalid wins over reserved: the request is malformed, not merely aimed at nothing.
      {"/.keepdav-x/..", StatusCode::kInvalidPath},
  };
  for (const auto& c : cases) {
    Result<ResourcePath> r = ResourcePath::Parse(c.input);
    ASSERT_FALSE(r.ok()) << c.input << " parsed as " << r->str();
    EXPECT_EQ(r.status().code(), c.code) << c.input << ": " << r.status().ToString();
  }
}

TEST(ResourcePathTest, Segments) {
  EXPECT_TRUE(ResourcePath::IsValidSegment("a"));
  EXPECT_TRUE(ResourcePath::IsValidSegment("..."));
  EXPECT_TRUE(ResourcePath::IsValidSegment(".keepdav"));
  EXPECT_FALSE(ResourcePath::IsValidSegment(""));
  EXPECT_FALSE(ResourcePath::IsValidSegment("."));
  EXPECT_FALSE(ResourcePath::IsValidSegment(".."));
  EXPECT_FALSE(ResourcePath::IsValidSegment("a/b"));
  EXPECT_FALSE(ResourcePath::IsValidSegment("a\\b"));
  EXPECT_FALSE(ResourcePath::IsValidSegment(std::string_view("a\0", 2)));
  EXPECT_FALSE(ResourcePath::IsValidSegment(".keepdav-tmp-1"));
  EXPECT_FALSE(ResourcePath::IsValidSegment(std::string(256, 'x')));
  EXPECT_TRUE(ResourcePath::IsReservedName(".keepdav-trash"));
  EXPECT_FALSE(ResourcePath::IsReservedName(".keepda"));
  EXPECT_FALSE(ResourcePath::IsReservedName("x.keepdav-"));
}

TEST(ResourcePathTest, RootAccessors) {
  ResourcePath root;
  EXPECT_TRUE(root.IsRoot());
  EXPECT_EQ(root.str(), "/");
  EXPECT_EQ(root.Relative(), ".");
  EXPECT_EQ(root.Name(), "");
  EXPECT_EQ(root.SegmentCount(), 0u);
  EXPECT_TRUE(root.Segments().empty());
  EXPECT_EQ(root.Child("a").str(), "/a");
}

TEST(ResourcePathTest, Accessors) {
  ResourcePath p = P("/a/bc/d");
  EXPECT_FALSE(p.IsRoot());
  EXPECT_EQ(p.Relative(), "a/bc/d");
  EXPECT_EQ(p.Name(), "d");
  EXPECT_EQ(p.SegmentCount(), 3u);
  std::vector<std::string_view> segs = p.Segments();
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0], "a");
  EXPECT_EQ(segs[1], "bc");
  EXPECT_EQ(segs[2], "d");
  EXPECT_EQ(p.Parent().str(), "/a/bc");
  EXPECT_EQ(p.Parent().Parent().str(), "/a");
  EXPECT_TRUE(p.Parent().Parent().Parent().IsRoot());
  EXPECT_EQ(p.Child("e").str(), "/a/bc/d/e");
  EXPECT_EQ(P("/a").Parent(), ResourcePath());
}

TEST(ResourcePathTest, Contains) {
  struct Case {
    const char* outer;
    const char* inner;
    bool contains;
  };
  const Case cases[] = {
      {"/", "/", true},         {"/", "/a", true},        {"/a", "/a", true},
      {"/a", "/a/b", true},     {"/a", "/a/b/c", true},   {"/a", "/ab", false},
      {"/a", "/", false},       {"/a/b", "/a", false},    {"/ab", "/a/b", false},
      {"/a/b", "/a/bc", false}, {"/a/b", "/a/b/c", true}, {"/a", "/b/a", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(P(c.outer).Contains(P(c.inner)), c.contains) << c.outer << " ? " << c.inner;
  }
}

TEST(ResourcePathTest, Rebase) {
  struct Case {
    const char* from;
    const char* other;
    const char* to;
    const char* expected;
  };
  const Case cases[] = {
      {"/a", "/a", "/b", "/b"},         {"/a", "/a/x/y", "/b", "/b/x/y"},
      {"/a", "/a/x", "/b/c", "/b/c/x"}, {"/a", "/a/x", "/", "/x"},
      {"/a", "/a", "/", "/"},           {"/", "/", "/b", "/b"},
      {"/", "/x/y", "/b", "/b/x/y"},    {"/", "/x", "/", "/x"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(P(c.from).Rebase(P(c.other), P(c.to)).str(), c.expected)
        << c.from << " " << c.other << " " << c.to;
  }
}

TEST(ResourcePathTest, Ordering) {
  EXPECT_TRUE(P("/a") < P("/b"));
  EXPECT_TRUE(P("/a") == P("a/"));
  EXPECT_TRUE(P("/a") != P("/a/b"));
}

}  // namespace
}  // namespace keepdav::storage
