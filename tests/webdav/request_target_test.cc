// The one URL resolver (request_target.h): request-target, Destination and If header tags.
#include "webdav/request_target.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace keepdav::webdav {
namespace {

DavRequest RequestTo(const std::string& host, const std::string& scheme = "http") {
  DavRequest req;
  req.method = "COPY";
  req.target = "/src";
  req.host = host;
  req.scheme = scheme;
  return req;
}

struct DestinationCase {
  std::string host;    // the request's Host header
  std::string scheme;  // the request's scheme
  std::string destination;
  int status;        // 0: resolves
  std::string path;  // when it resolves
};

TEST(ResolveDestinationTest, Table) {
  const std::vector<DestinationCase> cases = {
      {"localhost:8080", "http", "/dst", 0, "/dst"},
      {"localhost:8080", "http", "/dst/", 0, "/dst"},
      {"localhost:8080", "http", "http://localhost:8080/dst", 0, "/dst"},
      {"localhost:8080", "http", "http://LOCALHOST:8080/dst", 0, "/dst"},
      {"localhost:8080", "http", "http://localhost:8081/dst", 502, ""},
      {"localhost:8080", "http", "http://other:8080/dst", 502, ""},
      {"localhost", "http", "http://localhost/dst", 0, "/dst"},
      {"localhost", "http", "http://localhost:80/dst", 0, "/dst"},
      {"localhost:80", "http", "http://localhost/dst", 0, "/dst"},
      {"localhost", "http", "https://localhost/dst", 502, ""},  // 443 is not 80
      {"localhost", "https", "https://localhost/dst", 0, "/dst"},
      {"localhost", "https", "https://localhost:443/dst", 0, "/dst"},
      {"localhost:443", "https", "https://localhost/dst", 0, "/dst"},
      {"[::1]:8080", "http", "http://[::1]:8080/dst", 0, "/dst"},
      {"[::1]:8080", "http", "http://[::1]:8081/dst", 502, ""},
      {"localhost", "http", "/a%20b/%C3%BC", 0, "/a b/\xC3\xBC"},
      {"localhost", "http", "/dst#frag", 0, "/dst"},  // a Destination's fragment is dropped
      {"localhost", "http", "/a/../b", 400, ""},
      {"localhost", "http", "/a/%2E%2E/b", 400, ""},
      {"localhost", "http", "/.keepdav-staging", 403, ""},
      {"localhost", "http", "relative/path", 400, ""},
      {"localhost", "http", "", 400, ""},
      {"localhost", "http", "http://localhost", 400, ""},  // no path
  };
  for (const DestinationCase& c : cases) {
    DavRequest req = RequestTo(c.host, c.scheme);
    if (!c.destination.empty()) req.headers["Destination"] = c.destination;
    storage::ResourcePath out;
    DavError err = ResolveDestination(req, &out);
    SCOPED_TRACE(c.host + " " + c.scheme + " " + c.destination);
    if (c.status == 0) {
      EXPECT_TRUE(err.ok()) << err.status << " " << err.message;
      EXPECT_EQ(out.str(), c.path);
    } else {
      EXPECT_EQ(err.status, c.status) << err.message;
    }
  }
}

TEST(ResolveDestinationTest, MissingHeaderIs400) {
  DavRequest req = RequestTo("localhost");
  storage::ResourcePath out;
  EXPECT_EQ(ResolveDestination(req, &out).status, 400);
}

struct TargetCase {
  std::string target;
  int status;  // 0: resolves
  std::string path;
};

TEST(ResolveRequestTargetTest, Table) {
  const std::vector<TargetCase> cases = {
      {"/", 0, "/"},
      {"/a/b", 0, "/a/b"},
      {"/a/b/", 0, "/a/b"},
      {"/a%20b", 0, "/a b"},
      {"/%E4%B8%AD", 0, "/\xE4\xB8\xAD"},
      {"/a?query=1", 0, "/a"},
      // The authority of an absolute-form request-target is not checked (RFC 9112 §3.2.2).
      {"http://elsewhere:9/a", 0, "/a"},
      {"/coll/#frag", 400, ""},  // litmus delete_fragment
      {"/a/../b", 400, ""},
      {"/a%00b", 400, ""},
      {"/.keepdav-trash", 404, ""},
      {"/a/.keepdav-x/b", 404, ""},
      {"a/b", 400, ""},
      {"*", 400, ""},  // OPTIONS "*" never reaches the resolver
  };
  for (const TargetCase& c : cases) {
    DavRequest req = RequestTo("localhost");
    req.target = c.target;
    storage::ResourcePath out;
    DavError err = ResolveRequestTarget(req, &out);
    SCOPED_TRACE(c.target);
    if (c.status == 0) {
      EXPECT_TRUE(err.ok()) << err.status << " " << err.message;
      EXPECT_EQ(out.str(), c.path);
    } else {
      EXPECT_EQ(err.status, c.status) << err.message;
    }
  }
}

TEST(ResolveHeaderUrlTest, OtherServersAndBadPathsNameNothing) {
  DavRequest req = RequestTo("localhost:8080");
  EXPECT_EQ(ResolveHeaderUrl(req, "http://localhost:8080/a%20b")->str(), "/a b");
  EXPECT_EQ(ResolveHeaderUrl(req, "/x")->str(), "/x");
  EXPECT_FALSE(ResolveHeaderUrl(req, "http://other:8080/x"));
  EXPECT_FALSE(ResolveHeaderUrl(req, "/a/../b"));
  EXPECT_FALSE(ResolveHeaderUrl(req, "/.keepdav-staging"));
  EXPECT_FALSE(ResolveHeaderUrl(req, "x"));
}

TEST(ResolveUrlTest, NamesTheProblem) {
  DavRequest req = RequestTo("localhost");
  using P = ResolvedUrl::Problem;
  EXPECT_EQ(ResolveUrl(req, "/a", true).problem, P::kNone);
  EXPECT_EQ(ResolveUrl(req, "http://other/a", true).problem, P::kOtherServer);
  EXPECT_EQ(ResolveUrl(req, "http://other/a", false).problem, P::kNone);
  EXPECT_EQ(ResolveUrl(req, "a", true).problem, P::kNotAbsolutePath);
  EXPECT_EQ(ResolveUrl(req, "/a/../b", true).problem, P::kInvalidPath);
  EXPECT_EQ(ResolveUrl(req, "/.keepdav-x", true).problem, P::kReservedName);
  EXPECT_EQ(ResolveUrl(req, "/%zz", true).problem, P::kMalformed);
}

}  // namespace
}  // namespace keepdav::webdav
