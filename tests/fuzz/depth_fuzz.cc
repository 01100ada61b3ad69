// Fuzz target: the Depth header (webdav/depth.h).
//
// Invariants: exactly "0", "1" and "infinity" in any letter case are valid, and give that depth;
// everything else (spaces, signs, NUL, other numbers) is invalid, never a silent default; an
// absent header gives the fallback; DepthName of a parsed depth parses back to it.
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "webdav/depth.h"

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using keepdav::webdav::Depth;
  using keepdav::webdav::DepthHeader;
  std::string value(reinterpret_cast<const char*>(data), size);
  std::optional<Depth> got = DepthHeader::Parse(&value).Or(Depth::kOne);

  std::string lower = Lower(value);
  std::optional<Depth> expected;
  if (lower == "0") expected = Depth::kZero;
  if (lower == "1") expected = Depth::kOne;
  if (lower == "infinity") expected = Depth::kInfinity;
  FUZZ_CHECK(got == expected, "Depth " + Printable(value) + " parsed wrongly");

  FUZZ_CHECK(DepthHeader::Parse(nullptr).Or(Depth::kZero) == Depth::kZero,
             "an absent header did not give the fallback");
  if (got) {
    std::string name = keepdav::webdav::DepthName(*got);
    FUZZ_CHECK(DepthHeader::Parse(&name).Or(Depth::kZero) == got, "DepthName does not parse back");
  }
  return 0;
}
