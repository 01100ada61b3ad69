// Fuzz target: the htpasswd file parser (server/password_file.h).
//
// Invariants: a refusal names "fuzz:LINE:" with a line of the input; an accepted file holds no
// plain-text and no DES line: every hash starts with one of the accepted schemes ($2y$, $2b$,
// $2a$, $5$, $6$, $y$, $apr1$, {SHA}) and has no NUL, CR or LF; no user is empty or holds ':',
// NUL or LF; the users written back as "user:hash" lines parse to the same users and hashes.
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "server/password_file.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool AcceptedScheme(std::string_view hash) {
  for (std::string_view p : {"$2y$", "$2b$", "$2a$", "$5$", "$6$", "$y$", "$apr1$", "{SHA}"}) {
    if (StartsWith(hash, p)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using keepdav::server::PasswordFile;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = PasswordFile::Parse(text, "fuzz");
  if (!parsed.ok()) {
    const std::string& m = parsed.status().message();
    FUZZ_CHECK(m.compare(0, 5, "fuzz:") == 0, "refusal without the file name: " + Printable(m));
    long line = std::strtol(m.c_str() + 5, nullptr, 10);
    long lines = 1;
    for (char c : text) lines += c == '\n';
    FUZZ_CHECK(line >= 1 && line <= lines, "refusal names no line of the input: " + Printable(m));
    return 0;
  }
  const std::map<std::string, std::string>& users = parsed.value();
  std::string rendered;
  for (const auto& [user, hash] : users) {
    std::string where = " for user " + Printable(user) + ": " + Printable(hash);
    FUZZ_CHECK(AcceptedScheme(hash), "a plain-text, DES or unknown hash accepted" + where);
    FUZZ_CHECK(hash.find_first_of(std::string("\0\r\n", 3)) == std::string::npos,
               "NUL, CR or LF in a hash" + where);
    FUZZ_CHECK(!user.empty() && user.find_first_of(std::string(":\0\n", 3)) == std::string::npos,
               "a user name with ':', NUL or LF" + where);
    rendered += user + ":" + hash + "\n";
  }
  auto again = PasswordFile::Parse(rendered, "fuzz");
  FUZZ_CHECK(again.ok(), "written back, the users do not parse: " +
                             Printable(again.ok() ? "" : again.status().message()));
  if (again.ok()) {
    FUZZ_CHECK(again.value() == users,
               "written back, the users parse differently: " + Printable(rendered));
  }
  return 0;
}
