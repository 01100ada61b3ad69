// The If header parser and evaluator on the examples of RFC 4918 §10.4 (as tables), plus
// malformed values, which the handler answers with 400.
#include "webdav/if_header.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace keepdav::webdav {
namespace {

using storage::ResourcePath;
using Kind = IfCondition::Kind;

constexpr const char kTokenA[] = "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2";
constexpr const char kTokenB[] = "urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092";

IfCondition Token(std::string value, bool negated = false) {
  return IfCondition{negated, Kind::kStateToken, std::move(value)};
}
IfCondition Tag(std::string value, bool negated = false) {
  return IfCondition{negated, Kind::kEntityTag, std::move(value)};
}

ResourcePath P(std::string_view s) {
  auto r = ResourcePath::Parse(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? r.value() : ResourcePath();
}

struct ParseCase {
  const char* name;
  std::string header;
  bool tagged;
  std::vector<IfGroup> groups;
};

class IfHeaderParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(IfHeaderParseTest, ParsesIntoPlainData) {
  const ParseCase& c = GetParam();
  IfHeader parsed;
  std::string error;
  ASSERT_TRUE(ParseIfHeader(c.header, &parsed, &error)) << error;
  EXPECT_EQ(parsed.tagged, c.tagged);
  EXPECT_EQ(parsed.groups, c.groups);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc4918, IfHeaderParseTest,
    ::testing::Values(
        // §10.4.6 Example - No-tag Production
        ParseCase{
            "NoTag",
            std::string("(<") + kTokenA + "> [\"I am an ETag\"])\r\n    ([\"I am another ETag\"])",
            false,
            {IfGroup{"",
                     {{Token(kTokenA), Tag("\"I am an ETag\"")}, {Tag("\"I am another ETag\"")}}}}},
        // §10.4.7 Example - Using "Not" with No-tag Production
        ParseCase{"NotWithNoTag",
                  std::string("(Not <") + kTokenA + ">\r\n <" + kTokenB + ">)",
                  false,
                  {IfGroup{"", {{Token(kTokenA, true), Token(kTokenB)}}}}},
        // §10.4.8 Example - Causing a Condition to Always Evaluate to True
        ParseCase{"AlwaysTrue",
                  std::string("(<") + kTokenA + ">)\r\n (Not <DAV:no-lock>)",
                  false,
                  {IfGroup{"", {{Token(kTokenA)}, {Token("DAV:no-lock", true)}}}}},
        // §10.4.9 Example - Tagged List If Header in COPY
        ParseCase{
            "TaggedInCopy",
            std::string("</resource1>\r\n (<") + kTokenA +
                ">\r\n [W/\"A weak ETag\"]) ([\"strong ETag\"])",
            true,
            {IfGroup{"/resource1",
                     {{Token(kTokenA), Tag("W/\"A weak ETag\"")}, {Tag("\"strong ETag\"")}}}}},
        // §10.4.10 Example - Matching Lock Tokens with Collection Locks
        ParseCase{"CollectionLock",
                  std::string("<http://www.example.com/specs/>\r\n (<") + kTokenA + ">)",
                  true,
                  {IfGroup{"http://www.example.com/specs/", {{Token(kTokenA)}}}}},
        // §10.4.11 Example - Matching ETags on Unmapped URLs
        ParseCase{"UnmappedEtag",
                  "</specs/rfc2518.doc> ([\"4217\"])",
                  true,
                  {IfGroup{"/specs/rfc2518.doc", {{Tag("\"4217\"")}}}}},
        ParseCase{"UnmappedNotEtag",
                  "</specs/rfc2518.doc> (Not [\"4217\"])",
                  true,
                  {IfGroup{"/specs/rfc2518.doc", {{Tag("\"4217\"", true)}}}}},
        // Several tags, as neon sends for a MOVE between two locked collections.
        ParseCase{"TwoTags",
                  "<http://h/a/> (<urn:x:1>) <http://h/b/> (<urn:x:2>) (<urn:x:3>)",
                  true,
                  {IfGroup{"http://h/a/", {{Token("urn:x:1")}}},
                   IfGroup{"http://h/b/", {{Token("urn:x:2")}, {Token("urn:x:3")}}}}},
        // Whitespace is optional between productions; "Not" is case-insensitive (RFC 5234).
        ParseCase{"Compact",
                  "(not<urn:x:1>[\"e\"])(NOT[W/\"w\"])",
                  false,
                  {IfGroup{"", {{Token("urn:x:1", true), Tag("\"e\"")}, {Tag("W/\"w\"", true)}}}}},
        // litmus fail_complex_cond_put: an ETag containing a ']' inside its quotes.
        ParseCase{"BracketInsideQuotes", "([\"a]b\"])", false, {IfGroup{"", {{Tag("\"a]b\"")}}}}}),
    [](const ::testing::TestParamInfo<ParseCase>& info) { return info.param.name; });

class IfHeaderMalformedTest : public ::testing::TestWithParam<const char*> {};

TEST_P(IfHeaderMalformedTest, IsRejected) {
  IfHeader parsed;
  std::string error;
  EXPECT_FALSE(ParseIfHeader(GetParam(), &parsed, &error)) << GetParam();
  EXPECT_FALSE(error.empty());
  EXPECT_TRUE(parsed.groups.empty());
}

INSTANTIATE_TEST_SUITE_P(Malformed, IfHeaderMalformedTest,
                         ::testing::Values("", "   ", "(", "()", "( )", "(<urn:x:1>", "(<urn:x:1> ",
                                           "<http://h/a>", "<http://h/a> ",
                                           "<http://h/a> <http://h/b> (<urn:x:1>)",
                                           "(<urn:x:1>) <http://h/a> (<urn:x:2>)", "([\"x\"] x)",
                                           "(<no-scheme>)", "(<>)", "<> (<urn:x:1>)",
                                           "([unquoted])", "([\"x\")", "([\"x\"", "(Not)", "(Not )",
                                           "(<urn:x 1>)", "x", "(<urn:x:1>) x", "[\"x\"]",
                                           "(W/\"x\")", "([W\"x\"])", "(<urn:x:1> <urn:x:2>))"));

TEST(IfHeaderTest, StateTokensAreAllSubmittedOnceInOrder) {
  IfHeader h;
  std::string error;
  ASSERT_TRUE(
      ParseIfHeader("<http://h/a> (<urn:x:1> [\"e\"]) (Not <DAV:no-lock> <urn:x:2>) "
                    "<http://h/b> (<urn:x:1>)",
                    &h, &error))
      << error;
  EXPECT_EQ(h.StateTokens(), (std::vector<std::string>{"urn:x:1", "DAV:no-lock", "urn:x:2"}));
}

// --- Evaluation ---

// A small world: resources with ETags and the lock tokens whose scope includes them.
struct World {
  std::map<std::string, IfResourceState> resources;
  mutable std::vector<std::string> looked_up;

  IfStateLookup Lookup() const {
    return [this](const ResourcePath& p) {
      looked_up.push_back(p.str());
      auto it = resources.find(p.str());
      return it == resources.end() ? IfResourceState() : it->second;
    };
  }
};

IfTagResolver Resolver() {
  // Absolute URIs on www.example.com and absolute paths name resources here; anything else is
  // another server.
  return [](const std::string& tag) -> std::optional<ResourcePath> {
    std::string path = tag;
    const std::string host = "http://www.example.com";
    if (path.rfind(host, 0) == 0) {
      path = path.substr(host.size());
    } else if (path.empty() || path[0] != '/') {
      return std::nullopt;
    }
    auto r = ResourcePath::Parse(path);
    if (!r.ok()) return std::nullopt;
    return r.value();
  };
}

World ExampleWorld() {
  World w;
  w.resources["/resource1"] = {true, "\"strong ETag\"", {kTokenA}};
  w.resources["/locked"] = {true, "\"I am an ETag\"", {kTokenA}};
  w.resources["/both"] = {true, "\"x\"", {kTokenB}};
  w.resources["/specs"] = {true, "\"c\"", {kTokenA}};
  w.resources["/specs/rfc2518.txt"] = {true, "\"t\"", {kTokenA}};
  w.resources["/plain"] = {true, "\"4217\"", {}};
  // /specs/rfc2518.doc does not exist.
  return w;
}

struct EvalCase {
  const char* name;
  std::string request_path;
  std::string header;
  bool expected;
};

class IfHeaderEvalTest : public ::testing::TestWithParam<EvalCase> {};

TEST_P(IfHeaderEvalTest, Evaluates) {
  const EvalCase& c = GetParam();
  IfHeader h;
  std::string error;
  ASSERT_TRUE(ParseIfHeader(c.header, &h, &error)) << error;
  World w = ExampleWorld();
  EXPECT_EQ(EvaluateIfHeader(h, P(c.request_path), Resolver(), w.Lookup()), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc4918, IfHeaderEvalTest,
    ::testing::Values(
        // §10.4.6: (locked with A AND etag 1) OR etag 2.
        EvalCase{"NoTagFirstListTrue", "/locked",
                 std::string("(<") + kTokenA + "> [\"I am an ETag\"]) ([\"I am another ETag\"])",
                 true},
        EvalCase{"NoTagBothListsFalse", "/plain",
                 std::string("(<") + kTokenA + "> [\"4217\"]) ([\"I am another ETag\"])", false},
        EvalCase{"NoTagSecondListTrue", "/plain",
                 std::string("(<") + kTokenA + "> [\"4217\"]) ([\"4217\"])", true},
        // §10.4.7: not locked with A, and locked with B.
        EvalCase{"NotAAndB", "/both", std::string("(Not <") + kTokenA + "> <" + kTokenB + ">)",
                 true},
        EvalCase{"NotAAndBOnA", "/locked", std::string("(Not <") + kTokenA + "> <" + kTokenB + ">)",
                 false},
        // §10.4.8: (Not <DAV:no-lock>) is always true, even with a stale token beside it.
        EvalCase{"AlwaysTrue", "/plain", std::string("(<") + kTokenB + ">) (Not <DAV:no-lock>)",
                 true},
        EvalCase{"NoLockNeverMatches", "/locked", "(<DAV:no-lock>)", false},
        // §10.4.9: the tagged list is evaluated against /resource1 whatever the Request-URI.
        EvalCase{
            "TaggedCopyStrongEtag", "/elsewhere",
            std::string("</resource1> (<") + kTokenA + "> [W/\"A weak ETag\"]) ([\"strong ETag\"])",
            true},
        EvalCase{"TaggedCopyWeakMatchesStrong", "/elsewhere",
                 std::string("</resource1> (<") + kTokenA + "> [W/\"strong ETag\"])", true},
        EvalCase{"TaggedCopyWrongEtags", "/elsewhere",
                 std::string("</resource1> (<") + kTokenA + "> [W/\"A weak ETag\"]) ([\"no\"])",
                 false},
        // §10.4.10: the token is compared with the collection named by the tag.
        EvalCase{"CollectionLock", "/specs/rfc2518.txt",
                 std::string("<http://www.example.com/specs/> (<") + kTokenA + ">)", true},
        EvalCase{"CollectionLockWrongToken", "/specs/rfc2518.txt",
                 std::string("<http://www.example.com/specs/> (<") + kTokenB + ">)", false},
        // §10.4.11: an unmapped URL has no ETag.
        EvalCase{"UnmappedEtag", "/plain", "</specs/rfc2518.doc> ([\"4217\"])", false},
        EvalCase{"UnmappedNotEtag", "/plain", "</specs/rfc2518.doc> (Not [\"4217\"])", true},
        // A tag naming another server is an unmapped URL too.
        EvalCase{"ForeignTag", "/plain", "<http://other.example/plain> ([\"4217\"])", false},
        EvalCase{"ForeignTagNot", "/plain", "<http://other.example/plain> (Not [\"4217\"])", true},
        // The header is true when any tagged group is (OR across groups).
        EvalCase{"SecondTagTrue", "/plain", "</resource1> ([\"no\"]) </plain> ([\"4217\"])", true},
        // An unknown token never matches.
        EvalCase{"UnknownToken", "/locked", "(<urn:uuid:unknown>)", false},
        EvalCase{"NotUnknownToken", "/locked", "(Not <urn:uuid:unknown>)", true}),
    [](const ::testing::TestParamInfo<EvalCase>& info) { return info.param.name; });

TEST(IfHeaderEvalTest, LooksUpEachResourceOnceAndStopsAtTheFirstTrueList) {
  IfHeader h;
  std::string error;
  ASSERT_TRUE(
      ParseIfHeader("</plain> ([\"no\"]) </plain> ([\"4217\"]) </locked> ([\"x\"])", &h, &error));
  World w = ExampleWorld();
  EXPECT_TRUE(EvaluateIfHeader(h, P("/"), Resolver(), w.Lookup()));
  EXPECT_EQ(w.looked_up, (std::vector<std::string>{"/plain"}));
}

}  // namespace
}  // namespace keepdav::webdav
