// Fuzz target: the --access rules file (webdav/access_rules.h) and the policy built from it.
//
// Invariants: a refusal names "fuzz:LINE:" with a line of the input and leaves no rules behind;
// accepted rules render back (paths through AccessPathText) to a file that parses to the same
// rules, section by section and user by user; in the policy, every rule
// of a section is what AccessTo answers for its own path (merge: a user's rule beats the default
// for that path), and LeastWithin never exceeds AccessTo.
#include <cstdlib>
#include <string>

#include "tests/fuzz/fuzz_check.h"
#include "webdav/access_policy.h"
#include "webdav/access_rules.h"

namespace {

using keepdav::webdav::AccessPolicy;
using keepdav::webdav::AccessRules;
using keepdav::webdav::AccessSection;

void Render(const char* header, const AccessSection& section, std::string* out) {
  *out += std::string(header) + "\n";
  if (section.root) *out += "root " + keepdav::webdav::AccessPathText(*section.root) + "\n";
  for (const auto& r : section.rules) {
    *out += std::string(keepdav::webdav::AccessName(r.access)) + " " +
            keepdav::webdav::AccessPathText(r.path) + "\n";
  }
}

std::string Render(const AccessRules& rules) {
  std::string out;
  Render("[authenticated]", rules.authenticated, &out);
  Render("[anonymous]", rules.anonymous, &out);
  for (const auto& [name, section] : rules.users)
    Render(("[user " + name + "]").c_str(), section, &out);
  return out;
}

bool SameSection(const AccessSection& a, const AccessSection& b);

bool SameUsers(const AccessRules& a, const AccessRules& b) {
  if (a.users.size() != b.users.size()) return false;
  for (auto i = a.users.begin(), j = b.users.begin(); i != a.users.end(); ++i, ++j) {
    if (i->first != j->first || !SameSection(i->second, j->second)) return false;
  }
  return true;
}

bool SameSection(const AccessSection& a, const AccessSection& b) {
  if (a.root != b.root || a.rules.size() != b.rules.size()) return false;
  for (size_t i = 0; i < a.rules.size(); ++i) {
    if (a.rules[i].path != b.rules[i].path || a.rules[i].access != b.rules[i].access) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  std::string text(reinterpret_cast<const char*>(data), size);
  AccessRules rules;
  keepdav::storage::Status s = keepdav::webdav::ParseAccessRules(text, "fuzz", &rules);
  if (!s.ok()) {
    const std::string& m = s.message();
    FUZZ_CHECK(m.compare(0, 5, "fuzz:") == 0, "refusal without the file name: " + Printable(m));
    long line = std::strtol(m.c_str() + 5, nullptr, 10);
    long lines = 1;
    for (char c : text) lines += c == '\n';
    FUZZ_CHECK(line >= 1 && line <= lines, "refusal names no line of the input: " + Printable(m));
    FUZZ_CHECK(
        rules.users.empty() && rules.authenticated.rules.empty() && rules.anonymous.rules.empty(),
        "a refused file left rules behind");
    return 0;
  }
  AccessRules again;
  keepdav::storage::Status s2 = keepdav::webdav::ParseAccessRules(Render(rules), "fuzz", &again);
  FUZZ_CHECK(s2.ok(), "rendered rules do not parse: " + Printable(s2.message()));
  FUZZ_CHECK(SameSection(rules.authenticated, again.authenticated) &&
                 SameSection(rules.anonymous, again.anonymous) && SameUsers(rules, again),
             "rendered rules parse differently: " + Printable(Render(rules)));
  AccessPolicy policy = AccessPolicy::FromRules(rules);
  for (const auto& r : rules.anonymous.rules) {
    FUZZ_CHECK(policy.AccessTo("", r.path) == r.access, "anonymous rule not applied");
    FUZZ_CHECK(policy.LeastWithin("", r.path) <= policy.AccessTo("", r.path), "LeastWithin");
  }
  for (const auto& [name, section] : rules.users) {
    if (name.empty()) continue;
    for (const auto& r : section.rules) {
      FUZZ_CHECK(policy.AccessTo(name, r.path) == r.access, "user rule did not win: " + name);
    }
    for (const auto& r : rules.authenticated.rules) {
      FUZZ_CHECK(policy.LeastWithin(name, r.path) <= policy.AccessTo(name, r.path), "LeastWithin");
    }
  }
  return 0;
}
