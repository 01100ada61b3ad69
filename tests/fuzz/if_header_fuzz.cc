// Fuzz target: the If header parser and evaluator (webdav/if_header.h).
//
// Invariants for every input: a refusal carries a reason and leaves an empty header. A parsed
// header has the grammar's shape (an untagged header is one group with an empty tag, every group
// has at least one List and every List at least one Condition, state tokens have a scheme,
// entity tags are quoted); written back in canonical form it parses to the same header;
// StateTokens() lists each state token once. Evaluation against resources whose state is drawn
// from the header itself agrees with a direct reading of RFC 4918 §10.4 (OR of groups and Lists,
// AND of Conditions, "Not" reverses, DAV:no-lock never matches, weak entity-tag comparison) and
// looks each distinct resource up at most once.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "storage/resource_path.h"
#include "tests/fuzz/fuzz_check.h"
#include "webdav/if_header.h"

namespace keepdav::fuzz {
namespace {

using webdav::IfCondition;
using webdav::IfGroup;
using webdav::IfHeader;
using webdav::IfList;
using webdav::IfResourceState;

std::string Canonical(const IfHeader& header) {
  std::string out;
  for (const IfGroup& group : header.groups) {
    if (header.tagged) out += "<" + group.resource_tag + "> ";
    for (const IfList& list : group.lists) {
      out += "(";
      for (const IfCondition& c : list) {
        if (c.negated) out += "Not ";
        out +=
            c.kind == IfCondition::Kind::kStateToken ? "<" + c.value + "> " : "[" + c.value + "] ";
      }
      out += ") ";
    }
  }
  return out;
}

std::string_view Opaque(std::string_view tag) {
  return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag;
}

// The state of a resource, drawn from the header so that conditions can come out either way:
// resources whose path has an even length exist, carry the first entity tag of the header and
// hold every other state token.
IfResourceState StateFor(const storage::ResourcePath& path, const IfHeader& header) {
  IfResourceState s;
  s.exists = path.str().size() % 2 == 0;
  bool odd = false;
  for (const IfGroup& g : header.groups) {
    for (const IfList& l : g.lists) {
      for (const IfCondition& c : l) {
        if (c.kind == IfCondition::Kind::kEntityTag && s.etag.empty() && s.exists) s.etag = c.value;
        if (c.kind == IfCondition::Kind::kStateToken && (odd = !odd)) {
          s.lock_tokens.push_back(c.value);
        }
      }
    }
  }
  return s;
}

std::optional<storage::ResourcePath> Resolve(const std::string& tag) {
  if (tag.empty() || tag[0] != '/') return std::nullopt;
  auto parsed = storage::ResourcePath::Parse(tag);
  if (!parsed.ok()) return std::nullopt;
  return parsed.value();
}

bool ModelMatches(const IfCondition& c, const IfResourceState& s) {
  bool match;
  if (c.kind == IfCondition::Kind::kEntityTag) {
    match = s.exists && !s.etag.empty() && Opaque(c.value) == Opaque(s.etag);
  } else {
    match = c.value != "DAV:no-lock" &&
            std::count(s.lock_tokens.begin(), s.lock_tokens.end(), c.value) > 0;
  }
  return match != c.negated;
}

}  // namespace
}  // namespace keepdav::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using keepdav::storage::ResourcePath;
  std::string_view value(reinterpret_cast<const char*>(data), size);
  IfHeader header;
  std::string error;
  if (!keepdav::webdav::ParseIfHeader(value, &header, &error)) {
    FUZZ_CHECK(!error.empty(), "refused without a reason: " + Printable(value));
    FUZZ_CHECK(header.groups.empty(), "a refused header kept groups");
    return 0;
  }
  if (!FUZZ_CHECK(!header.groups.empty(), "accepted with no group: " + Printable(value))) return 0;
  if (!header.tagged) {
    FUZZ_CHECK(header.groups.size() == 1 && header.groups[0].resource_tag.empty(),
               "untagged header not one untagged group: " + Printable(value));
  }
  std::set<std::string> tokens;
  for (const IfGroup& g : header.groups) {
    if (header.tagged) FUZZ_CHECK(!g.resource_tag.empty(), "empty tag: " + Printable(value));
    FUZZ_CHECK(!g.lists.empty(), "group without a List: " + Printable(value));
    for (const IfList& l : g.lists) {
      FUZZ_CHECK(!l.empty(), "empty List: " + Printable(value));
      for (const IfCondition& c : l) {
        if (c.kind == IfCondition::Kind::kStateToken) {
          tokens.insert(c.value);
          FUZZ_CHECK(c.value.find(':') != std::string::npos, "token without scheme: " + c.value);
        } else {
          std::string_view opaque = Opaque(c.value);
          FUZZ_CHECK(opaque.size() >= 2 && opaque.front() == '"' && opaque.back() == '"',
                     "unquoted entity tag: " + Printable(c.value));
        }
      }
    }
  }
  std::vector<std::string> listed = header.StateTokens();
  FUZZ_CHECK(listed.size() == tokens.size() &&
                 std::set<std::string>(listed.begin(), listed.end()) == tokens,
             "StateTokens() does not list each token once: " + Printable(value));

  std::string canonical = Canonical(header);
  IfHeader again;
  bool reparsed = keepdav::webdav::ParseIfHeader(canonical, &again, &error);
  FUZZ_CHECK(reparsed && again.groups == header.groups && again.tagged == header.tagged,
             "canonical form " + Printable(canonical) + " of " + Printable(value) +
                 " does not parse back: " + error);

  // Evaluation against the model, for a request on an even- and an odd-length path.
  for (const char* request : {"/ab", "/a"}) {
    ResourcePath request_path = ResourcePath::Parse(request).value();
    std::map<std::string, int> lookups;
    auto lookup = [&](const ResourcePath& p) {
      ++lookups[p.str()];
      return StateFor(p, header);
    };
    bool got = keepdav::webdav::EvaluateIfHeader(header, request_path, Resolve, lookup);
    bool expected = false;
    for (const IfGroup& g : header.groups) {
      std::optional<ResourcePath> target = g.resource_tag.empty()
                                               ? std::optional<ResourcePath>(request_path)
                                               : Resolve(g.resource_tag);
      IfResourceState state = target ? StateFor(*target, header) : IfResourceState();
      for (const IfList& l : g.lists) {
        if (std::all_of(l.begin(), l.end(),
                        [&](const IfCondition& c) { return ModelMatches(c, state); })) {
          expected = true;
        }
      }
    }
    FUZZ_CHECK(got == expected,
               "evaluation " + std::to_string(got) + " for " + request + " of " + Printable(value));
    for (const auto& [path, count] : lookups) {
      FUZZ_CHECK(count == 1, path + " looked up " + std::to_string(count) + " times");
    }
  }
  return 0;
}
