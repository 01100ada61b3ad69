// Class 2 locking through the real server stack: LOCK, UNLOCK, the If header and lock
// enforcement on every modifying method (RFC 4918 §6, §7, §9.10, §9.11, §10.4).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

constexpr const char kExclusive[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
    "<D:locktype><D:write/></D:locktype>"
    "<D:owner><D:href>mailto:ann@example.com</D:href></D:owner></D:lockinfo>";
constexpr const char kShared[] =
    "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:shared/></D:lockscope>"
    "<D:locktype><D:write/></D:locktype></D:lockinfo>";

// The token of a LOCK response's Lock-Token header, without the angle brackets.
std::string TokenOf(const HttpResult& r) {
  auto it = r.headers.find("lock-token");
  if (it == r.headers.end() || it->second.size() < 2) return "";
  return it->second.substr(1, it->second.size() - 2);
}

class LockTest : public ::testing::Test {
 protected:
  HttpResult Lock(const std::string& target, const char* body = kExclusive,
                  const std::string& depth = "infinity", const std::string& if_header = "") {
    std::map<std::string, std::string> headers = {{"Depth", depth}, {"Timeout", "Second-600"}};
    if (!if_header.empty()) headers["If"] = if_header;
    return server_.Request("LOCK", target, body, headers);
  }
  std::string LockOk(const std::string& target, const char* body = kExclusive,
                     const std::string& depth = "infinity") {
    HttpResult r = Lock(target, body, depth);
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
    std::string token = TokenOf(r);
    EXPECT_EQ(token.rfind("urn:uuid:", 0), 0u) << token;
    return token;
  }
  HttpResult Put(const std::string& target, const std::string& if_header = "") {
    std::map<std::string, std::string> headers;
    if (!if_header.empty()) headers["If"] = if_header;
    return server_.Request("PUT", target, "new content", headers);
  }
  HttpResult Propfind(const std::string& target, const std::string& depth = "0") {
    return server_.Request("PROPFIND", target,
                           "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:lockdiscovery/>"
                           "<D:supportedlock/></D:prop></D:propfind>",
                           {{"Depth", depth}});
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }

  TestServer server_;
};

TEST_F(LockTest, OptionsAdvertisesClassTwo) {
  HttpResult r = server_.Request("OPTIONS", "/");
  EXPECT_EQ(r.headers["dav"], "1, 2, sabredav-partialupdate");
  EXPECT_NE(r.headers["allow"].find("LOCK"), std::string::npos);
  EXPECT_NE(r.headers["allow"].find("UNLOCK"), std::string::npos);
}

TEST_F(LockTest, LockAnExistingFile) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  HttpResult r = Lock("/doc.txt");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string token = TokenOf(r);
  EXPECT_EQ(token.rfind("urn:uuid:", 0), 0u);
  EXPECT_NE(r.headers["content-type"].find("xml"), std::string::npos);
  EXPECT_NE(r.body.find("<D:lockdiscovery><D:activelock>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:exclusive/>"), std::string::npos);
  EXPECT_NE(r.body.find("<D:depth>infinity</D:depth>"), std::string::npos);
  EXPECT_NE(r.body.find("<D:timeout>Second-600</D:timeout>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:href>" + token + "</D:href>"), std::string::npos);
  EXPECT_NE(r.body.find("<D:lockroot><D:href>/doc.txt</D:href></D:lockroot>"), std::string::npos);
  // The owner element comes back verbatim, with the namespace it needs.
  EXPECT_NE(r.body.find("<D:owner xmlns:D=\"DAV:\"><D:href>mailto:ann@example.com</D:href>"
                        "</D:owner>"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(ReadFile(server_.Disk("doc.txt")), "hello");
}

TEST_F(LockTest, LockOnAnUnmappedUrlCreatesAnEmptyFile) {
  HttpResult r = Lock("/new.txt");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(Exists(server_.Disk("new.txt")));
  EXPECT_EQ(ReadFile(server_.Disk("new.txt")), "");
  // The creator writes it with the token; anyone else is locked out.
  EXPECT_EQ(Put("/new.txt").status, 423);
  EXPECT_EQ(Put("/new.txt", "(<" + TokenOf(r) + ">)").status, 204);
  EXPECT_EQ(Lock("/missing/new.txt").status, 409);
}

TEST_F(LockTest, PutNeedsTheToken) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  std::string token = LockOk("/doc.txt");
  HttpResult r = Put("/doc.txt");
  EXPECT_EQ(r.status, 423);
  EXPECT_NE(r.body.find("<D:lock-token-submitted><D:href>/doc.txt</D:href>"), std::string::npos)
      << r.body;
  EXPECT_EQ(ReadFile(server_.Disk("doc.txt")), "hello");
  // An unknown token makes the If header false: 412, before locks are looked at.
  EXPECT_EQ(Put("/doc.txt", "(<urn:uuid:00000000-0000-0000-0000-000000000000>)").status, 412);
  EXPECT_EQ(Put("/doc.txt", "(<" + token + ">)").status, 204);
  EXPECT_EQ(Put("/doc.txt", "<" + Url("/doc.txt") + "> (<" + token + ">)").status, 204);
  EXPECT_EQ(Put("/doc.txt", "</doc.txt> (<" + token + ">)").status, 204);
  // A tagged list is evaluated against its own resource: the token does not lock /other.
  EXPECT_EQ(Put("/doc.txt", "</other> (<" + token + ">)").status, 412);
  // Submitted but beside a list that is true: the lock is satisfied (RFC 4918 §10.4.8).
  EXPECT_EQ(Put("/doc.txt", "(<urn:uuid:stale>) (Not <DAV:no-lock> <" + token + ">)").status, 204);
  EXPECT_EQ(ReadFile(server_.Disk("doc.txt")), "new content");
}

TEST_F(LockTest, MalformedIfIs400) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  EXPECT_EQ(Put("/doc.txt", "(<urn:x:1>").status, 400);
  EXPECT_EQ(Put("/doc.txt", "not an if header").status, 400);
  EXPECT_EQ(ReadFile(server_.Disk("doc.txt")), "hello");
}

TEST_F(LockTest, IfHeaderSeesEtagsWithoutLocks) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  std::string etag = server_.Request("HEAD", "/doc.txt").headers["etag"];
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Put("/doc.txt", "([\"nope\"])").status, 412);
  EXPECT_EQ(Put("/doc.txt", "(Not [" + etag + "])").status, 412);
  EXPECT_EQ(Put("/doc.txt", "([\"nope\"]) ([" + etag + "])").status, 204);
  EXPECT_EQ(Put("/doc.txt", "(<DAV:no-lock>)").status, 412);
}

TEST_F(LockTest, RefreshWithIfAndNoBody) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  std::string token = LockOk("/doc.txt");
  HttpResult r = server_.Request("LOCK", "/doc.txt", "",
                                 {{"If", "(<" + token + ">)"}, {"Timeout", "Second-100"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<D:timeout>Second-100</D:timeout>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(token), std::string::npos);
  EXPECT_EQ(r.headers.count("lock-token"), 0u);  // only a new lock gets the header
  EXPECT_EQ(server_.Request("LOCK", "/doc.txt").status, 400);
  r = server_.Request("LOCK", "/other.txt", "", {{"If", "</doc.txt> (<" + token + ">)"}});
  EXPECT_EQ(r.status, 412);
  EXPECT_NE(r.body.find("lock-token-matches-request-uri"), std::string::npos) << r.body;
}

TEST_F(LockTest, UnlockRules) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  WriteFile(server_.Disk("other.txt"), "x");
  std::string token = LockOk("/doc.txt");
  EXPECT_EQ(server_.Request("UNLOCK", "/doc.txt").status, 400);
  HttpResult r = server_.Request("UNLOCK", "/doc.txt", "", {{"Lock-Token", "<urn:uuid:bogus>"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("lock-token-matches-request-uri"), std::string::npos);
  EXPECT_EQ(server_.Request("UNLOCK", "/other.txt", "", {{"Lock-Token", "<" + token + ">"}}).status,
            409);
  EXPECT_EQ(server_.Request("UNLOCK", "/doc.txt", "", {{"Lock-Token", "<" + token + ">"}}).status,
            204);
  EXPECT_EQ(Put("/doc.txt").status, 204);
  EXPECT_EQ(server_.Request("UNLOCK", "/doc.txt", "", {{"Lock-Token", "<" + token + ">"}}).status,
            409);
}

TEST_F(LockTest, ConflictsAnswerNoConflictingLock) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  server_.Request("MKCOL", "/c");
  WriteFile(server_.Disk("c/member.txt"), "m");
  LockOk("/doc.txt");
  HttpResult r = Lock("/doc.txt", kShared);
  EXPECT_EQ(r.status, 423);
  EXPECT_NE(r.body.find("<D:no-conflicting-lock><D:href>/doc.txt</D:href>"), std::string::npos)
      << r.body;
  LockOk("/c/member.txt", kShared);
  LockOk("/c/member.txt", kShared);   // shared locks coexist
  EXPECT_EQ(Lock("/c").status, 423);  // a depth-infinity lock over a locked member
  LockOk("/c", kExclusive, "0");      // depth 0 leaves members alone
  EXPECT_EQ(Lock("/c", kExclusive, "1").status, 400);
}

TEST_F(LockTest, BadLockinfoIsRefused) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  EXPECT_EQ(Lock("/doc.txt", "<D:lockinfo xmlns:D=\"DAV:\"/>").status, 400);
  EXPECT_EQ(Lock("/doc.txt", "<nope").status, 400);
  EXPECT_EQ(Lock("/doc.txt",
                 "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
                 "<D:locktype><D:read/></D:locktype></D:lockinfo>")
                .status,
            422);
}

TEST_F(LockTest, DepthInfinityCollectionLockCoversNewMembers) {
  server_.Request("MKCOL", "/c");
  WriteFile(server_.Disk("c/old.txt"), "o");
  std::string token = LockOk("/c");
  HttpResult r = Put("/c/new.txt");
  EXPECT_EQ(r.status, 423);
  EXPECT_NE(r.body.find("<D:href>/c/</D:href>"), std::string::npos) << r.body;
  EXPECT_EQ(Put("/c/old.txt").status, 423);
  EXPECT_EQ(server_.Request("MKCOL", "/c/sub").status, 423);
  // neon (litmus, davfs2) tags the list with the lock root.
  std::string tagged = "<" + Url("/c/") + "> (<" + token + ">)";
  EXPECT_EQ(Put("/c/new.txt", tagged).status, 201);
  EXPECT_EQ(server_.Request("MKCOL", "/c/sub", "", {{"If", tagged}}).status, 201);
  EXPECT_EQ(Put("/c/sub/deep.txt", "(<" + token + ">)").status, 201);
  // The member sees the collection's lock, with the collection as its root.
  r = Propfind("/c/sub/deep.txt");
  EXPECT_NE(r.body.find(token), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:lockroot><D:href>/c/</D:href></D:lockroot>"), std::string::npos);
  // The lock survives changes to its members.
  r = Propfind("/c/");
  EXPECT_NE(r.body.find(token), std::string::npos) << r.body;
}

TEST_F(LockTest, DepthZeroCollectionLockGuardsMembershipOnly) {
  server_.Request("MKCOL", "/c");
  WriteFile(server_.Disk("c/old.txt"), "o");
  std::string token = LockOk("/c", kExclusive, "0");
  EXPECT_EQ(Put("/c/old.txt").status, 204);  // content of a member: not protected (§7.4)
  EXPECT_EQ(Put("/c/new.txt").status, 423);  // a new member: protected
  EXPECT_EQ(server_.Request("DELETE", "/c/old.txt").status, 423);
  // The new member is outside a depth-0 lock's scope, so an untagged list naming the token is
  // false for it (412); the token has to be tagged with the collection.
  EXPECT_EQ(Put("/c/new.txt", "(<" + token + ">)").status, 412);
  EXPECT_EQ(Put("/c/new.txt", "</c/> (<" + token + ">)").status, 201);
  EXPECT_TRUE(Propfind("/c/old.txt").body.find(token) == std::string::npos);
}

TEST_F(LockTest, DeleteWithALockedMemberIsRefusedWhole) {
  server_.Request("MKCOL", "/c");
  server_.Request("MKCOL", "/c/d");
  WriteFile(server_.Disk("c/a.txt"), "a");
  WriteFile(server_.Disk("c/d/locked.txt"), "l");
  std::string token = LockOk("/c/d/locked.txt");
  HttpResult r = server_.Request("DELETE", "/c");
  EXPECT_EQ(r.status, 423);
  EXPECT_NE(r.body.find("<D:href>/c/d/locked.txt</D:href>"), std::string::npos) << r.body;
  EXPECT_TRUE(Exists(server_.Disk("c/a.txt")));
  r = server_.Request("DELETE", "/c", "", {{"If", "</c/d/locked.txt> (<" + token + ">)"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(Exists(server_.Disk("c")));
  // The lock went with its resource.
  server_.Request("MKCOL", "/c");
  server_.Request("MKCOL", "/c/d");
  EXPECT_EQ(Put("/c/d/locked.txt").status, 201);
}

TEST_F(LockTest, MoveNeedsTheSourceTokenAndLeavesTheLockBehind) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  std::string token = LockOk("/doc.txt");
  std::map<std::string, std::string> move = {{"Destination", Url("/moved.txt")}};
  EXPECT_EQ(server_.Request("MOVE", "/doc.txt", "", move).status, 423);
  move["If"] = "(<" + token + ">)";
  EXPECT_EQ(server_.Request("MOVE", "/doc.txt", "", move).status, 201);
  // §7.5: the lock does not move with the resource, and it is gone from the source.
  EXPECT_EQ(Propfind("/moved.txt").body.find(token), std::string::npos);
  EXPECT_EQ(Put("/moved.txt").status, 204);
  EXPECT_EQ(Put("/doc.txt").status, 201);
}

TEST_F(LockTest, CopyCopiesNoLockButNeedsTheDestinationToken) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  WriteFile(server_.Disk("target.txt"), "t");
  std::string token = LockOk("/doc.txt");
  EXPECT_EQ(server_.Request("COPY", "/doc.txt", "", {{"Destination", Url("/copy.txt")}}).status,
            201);
  EXPECT_EQ(Propfind("/copy.txt").body.find(token), std::string::npos);
  EXPECT_EQ(Put("/copy.txt").status, 204);
  std::string target_token = LockOk("/target.txt");
  std::map<std::string, std::string> copy = {{"Destination", Url("/target.txt")}};
  EXPECT_EQ(server_.Request("COPY", "/doc.txt", "", copy).status, 423);
  EXPECT_EQ(ReadFile(server_.Disk("target.txt")), "t");
  copy["If"] = "</target.txt> (<" + target_token + ">)";
  EXPECT_EQ(server_.Request("COPY", "/doc.txt", "", copy).status, 204);
  // The overwritten destination keeps its own lock (§7.5).
  EXPECT_NE(Propfind("/target.txt").body.find(target_token), std::string::npos);
  EXPECT_EQ(Put("/target.txt").status, 423);
}

TEST_F(LockTest, ProppatchNeedsTheToken) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  std::string token = LockOk("/doc.txt");
  std::string body =
      "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><x:p xmlns:x=\"urn:x\">1</x:p>"
      "</D:prop></D:set></D:propertyupdate>";
  EXPECT_EQ(server_.Request("PROPPATCH", "/doc.txt", body).status, 423);
  EXPECT_EQ(server_.Request("PROPPATCH", "/doc.txt", body, {{"If", "(<" + token + ">)"}}).status,
            207);
}

TEST_F(LockTest, SupportedLockAndEmptyLockDiscovery) {
  WriteFile(server_.Disk("doc.txt"), "hello");
  HttpResult r = Propfind("/doc.txt");
  EXPECT_EQ(r.status, 207);
  EXPECT_NE(r.body.find("<D:lockdiscovery/>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:shared/>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:exclusive/>"), std::string::npos);
}

TEST(LockSettingsTest, TimeoutIsCappedAndCapsAnswer507) {
  webdav::DavSettings settings;
  settings.locks.timeout_max_s = 30;
  settings.locks.max_locks = 2;
  TestServer server(settings);
  WriteFile(server.Disk("a"), "a");
  HttpResult r = server.Request("LOCK", "/a", kShared, {{"Timeout", "Infinite, Second-4100"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<D:timeout>Second-30</D:timeout>"), std::string::npos) << r.body;
  EXPECT_EQ(server.Request("LOCK", "/a", kShared).status, 200);
  r = server.Request("LOCK", "/a", kShared);
  EXPECT_EQ(r.status, 507);
  EXPECT_NE(r.body.find("max-locks"), std::string::npos) << r.body;
}

TEST(LockSettingsTest, ReadOnlyRefusesLock) {
  webdav::DavSettings settings;
  settings.read_only = true;
  TestServer server(settings);
  WriteFile(server.Disk("a"), "a");
  EXPECT_EQ(server.Request("LOCK", "/a", kExclusive).status, 403);
}

}  // namespace
}  // namespace keepdav::testing
