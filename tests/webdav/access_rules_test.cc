// The --access file parser (every refusal names FILE:LINE), the policy it gives (merge with the
// defaults, most specific rule by whole segments, none carving out, write implying read,
// anonymous apart), the URL space (base path, user roots) and what each method needs.
#include "webdav/access_rules.h"

#include <gtest/gtest.h>

#include <string>

#include "webdav/access_policy.h"
#include "webdav/authorisation.h"
#include "webdav/url_space.h"

namespace keepdav::webdav {
namespace {

using storage::ResourcePath;

ResourcePath P(const char* s) {
  return ResourcePath::Parse(s).value();
}

AccessPolicy PolicyFrom(const std::string& text) {
  AccessRules rules;
  storage::Status s = ParseAccessRules(text, "rules", &rules);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return AccessPolicy::FromRules(rules);
}

std::string ErrorOf(const std::string& text) {
  AccessRules rules;
  storage::Status s = ParseAccessRules(text, "access.conf", &rules);
  EXPECT_FALSE(s.ok()) << text;
  EXPECT_EQ(s.code(), storage::StatusCode::kInvalidArgument);
  return s.message();
}

const char kExample[] =
    "# keepdav access rules\n"
    "[authenticated]\n"
    "write /\n"
    "none  /private\n"
    "\n"
    "[anonymous]\n"
    "read /public\n"
    "\n"
    "[user alice]\n"
    "root /home/alice\n"
    "read /archive\n"
    "write /private\n"
    "\n"
    "[user bob]\n"
    "read /\n"
    "none /ab\n";

TEST(AccessRulesTest, ParsesTheDocumentedExample) {
  AccessRules rules;
  ASSERT_TRUE(ParseAccessRules(kExample, "f", &rules).ok());
  ASSERT_EQ(rules.authenticated.rules.size(), 2u);
  EXPECT_EQ(rules.authenticated.rules[1].path, P("/private"));
  EXPECT_EQ(rules.authenticated.rules[1].access, Access::kNone);
  EXPECT_EQ(rules.authenticated.rules[1].line, 4);
  ASSERT_EQ(rules.users.count("alice"), 1u);
  EXPECT_EQ(*rules.users["alice"].root, P("/home/alice"));
  EXPECT_EQ(rules.anonymous.rules.size(), 1u);
}

TEST(AccessRulesTest, PathsMayHoldBlanksAndHashes) {
  AccessRules rules;
  ASSERT_TRUE(ParseAccessRules("[anonymous]\nread   /My Documents/#1  \r\n", "f", &rules).ok());
  EXPECT_EQ(rules.anonymous.rules[0].path, P("/My Documents/#1"));
}

// Names are bytes, as on disk and in requests (issue 12): a name that is not UTF-8 is its raw
// bytes, and a final blank survives when a '/' follows it. AccessPathText writes both so that
// they parse back (the access_rules fuzz target found "none /a /" rendered as "none /a ", which
// read back as "/a": its input is corpus/access_rules/regression-crash-56dd993e...).
TEST(AccessRulesTest, NamesAreBytesAndAFinalBlankNeedsASlash) {
  AccessRules rules;
  ASSERT_TRUE(ParseAccessRules("[anonymous]\nread /caf\xe9/\xff\xfe\nnone /notes /\n"
                               "none /tab\t/\nwrite /notes\n",
                               "f", &rules)
                  .ok());
  ASSERT_EQ(rules.anonymous.rules.size(), 4u);
  EXPECT_EQ(rules.anonymous.rules[0].path.str(), "/caf\xe9/\xff\xfe");
  EXPECT_EQ(rules.anonymous.rules[1].path.str(), "/notes ");
  EXPECT_EQ(rules.anonymous.rules[2].path.str(), "/tab\t");
  EXPECT_EQ(rules.anonymous.rules[3].path.str(), "/notes");
  EXPECT_EQ(AccessPathText(rules.anonymous.rules[0].path), "/caf\xe9/\xff\xfe");
  EXPECT_EQ(AccessPathText(rules.anonymous.rules[1].path), "/notes /");
  EXPECT_EQ(AccessPathText(rules.anonymous.rules[2].path), "/tab\t/");
  EXPECT_EQ(AccessPathText(P("/")), "/");
  EXPECT_EQ(AccessPathText(P("/a b/c")), "/a b/c");
  for (const AccessRule& r : rules.anonymous.rules) {
    AccessRules again;
    ASSERT_TRUE(
        ParseAccessRules("[anonymous]\nread " + AccessPathText(r.path) + "  \r\n", "f", &again)
            .ok());
    EXPECT_EQ(again.anonymous.rules[0].path, r.path) << AccessPathText(r.path);
  }
  // The policy matches the raw bytes a request names (its %-escapes decoded).
  AccessPolicy policy = AccessPolicy::FromRules(rules);
  EXPECT_EQ(policy.AccessTo("", P("/caf\xe9/\xff\xfe/x")), Access::kRead);
  EXPECT_EQ(policy.AccessTo("", P("/notes /x")), Access::kNone);
  EXPECT_EQ(policy.AccessTo("", P("/notes/x")), Access::kWrite);
  EXPECT_EQ(ErrorOf("[anonymous]\nread /a /\nnone /a /\n"),
            "access.conf:3: a second rule for /a / in this section (first at line 2)");
}

TEST(AccessRulesTest, RefusesBadFilesWithFileAndLine) {
  EXPECT_EQ(ErrorOf("read /\n"), "access.conf:1: a rule before any [section]");
  EXPECT_NE(ErrorOf("[anonymous]\n\nallow /\n").find("access.conf:3: unknown keyword 'allow'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[everyone]\n").find("access.conf:1: unknown section [everyone]"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[anonymous]\nread public\n").find("access.conf:2: path 'public' must start"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[anonymous]\nread /a/../b\n").find("access.conf:2: bad path"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[anonymous]\nread\n").find("access.conf:2: missing path"), std::string::npos);
  EXPECT_NE(ErrorOf("[user a]\nread /x\nwrite /x/\n").find("access.conf:3: a second rule for /x"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[user a]\n[user a]\n").find("access.conf:2: section [user a] appears twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[user a]\nroot /a\nroot /b\n").find("access.conf:3: a second 'root'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[user a:b]\n").find("access.conf:1: user name"), std::string::npos);
  EXPECT_NE(ErrorOf("[anonymous\n").find("access.conf:1:"), std::string::npos);
  EXPECT_NE(ErrorOf("[anonymous]\nread /.keepdav-x\n").find("access.conf:2:"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string("[anonymous]\nread /a\0b\n", 21)).find("access.conf:2: NUL"),
            std::string::npos);
}

TEST(AccessRulesTest, LoadReportsAnUnreadableFile) {
  AccessRules rules;
  storage::Status s = LoadAccessRules("/nonexistent/keepdav-access", &rules);
  EXPECT_EQ(s.code(), storage::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("/nonexistent/keepdav-access"), std::string::npos);
}

TEST(AccessPolicyTest, UserRulesMergeWithTheDefaultsPathByPath) {
  AccessPolicy p = PolicyFrom(kExample);
  // alice keeps the default "write /" and overrides "/private".
  EXPECT_EQ(p.AccessTo("alice", P("/docs")), Access::kWrite);
  EXPECT_EQ(p.AccessTo("alice", P("/private/x")), Access::kWrite);
  EXPECT_EQ(p.AccessTo("alice", P("/archive/2020")), Access::kRead);
  // bob overrides "/" and keeps the default "none /private".
  EXPECT_EQ(p.AccessTo("bob", P("/docs")), Access::kRead);
  EXPECT_EQ(p.AccessTo("bob", P("/private")), Access::kNone);
  // carol has no section: the defaults.
  EXPECT_EQ(p.AccessTo("carol", P("/")), Access::kWrite);
  EXPECT_EQ(p.AccessTo("carol", P("/private/deep/er")), Access::kNone);
}

TEST(AccessPolicyTest, MostSpecificRuleWinsBySegments) {
  AccessPolicy p = PolicyFrom(kExample);
  EXPECT_EQ(p.AccessTo("bob", P("/ab")), Access::kNone);
  EXPECT_EQ(p.AccessTo("bob", P("/ab/c")), Access::kNone);
  EXPECT_EQ(p.AccessTo("bob", P("/abc")), Access::kRead);  // "/ab" is not a prefix of "/abc"
  EXPECT_EQ(p.AccessTo("bob", P("/a")), Access::kRead);
}

TEST(AccessPolicyTest, AnonymousHasOnlyItsOwnSection) {
  AccessPolicy p = PolicyFrom(kExample);
  EXPECT_EQ(p.AccessTo("", P("/public/a")), Access::kRead);
  EXPECT_EQ(p.AccessTo("", P("/")), Access::kNone);
  EXPECT_EQ(p.AccessTo("", P("/docs")), Access::kNone);
}

TEST(AccessPolicyTest, RootsComeFromTheUserThenTheDefaults) {
  AccessPolicy p = PolicyFrom("[authenticated]\nroot /shared\nwrite /\n[user a]\nroot /a\n");
  EXPECT_EQ(p.RootOf("a"), P("/a"));
  EXPECT_EQ(p.RootOf("b"), P("/shared"));
  EXPECT_EQ(p.RootOf(""), P("/"));
}

TEST(AccessPolicyTest, LeastWithinSeesRulesBelow) {
  AccessPolicy p = PolicyFrom(kExample);
  EXPECT_EQ(p.LeastWithin("carol", P("/")), Access::kNone);  // /private below
  EXPECT_EQ(p.LeastWithin("carol", P("/docs")), Access::kWrite);
  EXPECT_EQ(p.LeastWithin("alice", P("/")), Access::kRead);  // /archive below
  EXPECT_EQ(p.LeastWithin("bob", P("/abc")), Access::kRead);
}

TEST(AccessPolicyTest, BuiltInPolicies) {
  AccessPolicy all = AccessPolicy::AllowAll();
  EXPECT_TRUE(all.allows_everything());
  EXPECT_EQ(all.AccessTo("", P("/x")), Access::kWrite);
  AccessPolicy users = AccessPolicy::AuthenticatedUsersOnly();
  EXPECT_FALSE(users.allows_everything());
  EXPECT_EQ(users.AccessTo("someone", P("/x/y")), Access::kWrite);
  EXPECT_EQ(users.AccessTo("", P("/")), Access::kNone);
  EXPECT_EQ(users.RootOf("someone"), P("/"));
}

TEST(UrlSpaceTest, MapsViewAndStorageBothWays) {
  UrlSpace s{"/dav", P("/home/alice")};
  EXPECT_EQ(s.ToStorage(P("/")), P("/home/alice"));
  EXPECT_EQ(s.ToStorage(P("/a b")), P("/home/alice/a b"));
  EXPECT_EQ(s.ViewOf(P("/home/alice/a b")), "/a b");
  EXPECT_EQ(s.ViewOf(P("/home/alice")), "/");
  EXPECT_EQ(s.ViewOf(P("/home")), "/");  // outside: the view's root
  EXPECT_EQ(s.ViewOf(P("/home/alicex")), "/");
  EXPECT_EQ(s.Href(P("/home/alice/a b"), true), "/dav/a%20b/");
  EXPECT_EQ(s.Href(P("/home/alice"), true), "/dav/");
  EXPECT_EQ(UrlSpace::Whole().Href(P("/"), true), "/");
  EXPECT_EQ(UrlSpace::Whole().Href(P("/x"), false), "/x");
}

TEST(UrlSpaceTest, ParsesBasePaths) {
  std::string out, error;
  EXPECT_TRUE(ParseBasePath("/dav/", &out, &error));
  EXPECT_EQ(out, "/dav");
  EXPECT_TRUE(ParseBasePath("/", &out, &error));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(ParseBasePath("/a/b-c_d~e.f", &out, &error));
  EXPECT_EQ(out, "/a/b-c_d~e.f");
  EXPECT_FALSE(ParseBasePath("dav", &out, &error));
  EXPECT_FALSE(ParseBasePath("/a//b", &out, &error));
  EXPECT_FALSE(ParseBasePath("/a/../b", &out, &error));
  EXPECT_FALSE(ParseBasePath("/a b", &out, &error));
  EXPECT_FALSE(ParseBasePath("/a%20b", &out, &error));
}

DavRequest Resolved(const std::string& method, const std::string& user, const char* path,
                    const char* destination = nullptr) {
  DavRequest req;
  req.method = method;
  req.user = user;
  req.path = P(path);
  if (destination) req.destination = P(destination);
  return req;
}

TEST(AuthorisationTest, WhatEachMethodNeeds) {
  AccessPolicy p = PolicyFrom("[user r]\nread /\nwrite /w\nnone /w/n\n");
  for (const char* m : {"GET", "HEAD", "PROPFIND", "OPTIONS"}) {
    EXPECT_TRUE(Authorise(p, Resolved(m, "r", "/x")).ok()) << m;
  }
  for (const char* m : {"PUT", "PATCH", "DELETE", "MKCOL", "PROPPATCH", "LOCK", "UNLOCK"}) {
    DavError e = Authorise(p, Resolved(m, "r", "/x"));
    EXPECT_EQ(e.status, 403) << m;
    EXPECT_EQ(e.message, "user r has no write access to /x") << m;
    EXPECT_TRUE(Authorise(p, Resolved(m, "r", "/w/x")).ok() || std::string(m) == "DELETE") << m;
  }
  // write implies read; none carves out.
  EXPECT_TRUE(Authorise(p, Resolved("GET", "r", "/w/x")).ok());
  EXPECT_EQ(Authorise(p, Resolved("GET", "r", "/w/n/x")).status, 403);
  // Trees: DELETE of /w would remove /w/n, which r may not even read.
  EXPECT_EQ(Authorise(p, Resolved("DELETE", "r", "/w")).status, 403);
  EXPECT_TRUE(Authorise(p, Resolved("DELETE", "r", "/w/x")).ok());
  // COPY: read on the source, write on the destination; MOVE: write on both.
  EXPECT_TRUE(Authorise(p, Resolved("COPY", "r", "/x", "/w/y")).ok());
  EXPECT_EQ(Authorise(p, Resolved("COPY", "r", "/w/x", "/y")).status, 403);
  EXPECT_EQ(Authorise(p, Resolved("COPY", "r", "/w", "/w/copy")).status, 403);  // holds /w/n
  EXPECT_EQ(Authorise(p, Resolved("MOVE", "r", "/x", "/w/y")).status, 403);
  EXPECT_TRUE(Authorise(p, Resolved("MOVE", "r", "/w/x", "/w/y")).ok());
}

TEST(AuthorisationTest, AnonymousGets401AndOptionsIsNeverRefused) {
  AccessPolicy p = AccessPolicy::AuthenticatedUsersOnly();
  EXPECT_EQ(Authorise(p, Resolved("GET", "", "/x")).status, 401);
  EXPECT_EQ(Authorise(p, Resolved("PUT", "", "/x")).status, 401);
  EXPECT_TRUE(Authorise(p, Resolved("OPTIONS", "", "/x")).ok());
  EXPECT_TRUE(Authorise(p, Resolved("PUT", "u", "/x")).ok());
}

TEST(AuthorisationTest, AUsersRootCannotBeDeletedOrMoved) {
  AccessPolicy p = PolicyFrom("[user a]\nroot /a\nwrite /\n");
  DavRequest req = Resolved("DELETE", "a", "/a");
  req.space.root = P("/a");
  EXPECT_EQ(Authorise(p, req).status, 403);
  req.method = "MOVE";
  req.destination = P("/a/x");
  EXPECT_EQ(Authorise(p, req).status, 403);
}

}  // namespace
}  // namespace keepdav::webdav
