// Fuzz target: the Overwrite header (webdav/copy_move_plan.h, RFC 4918 §10.6).
//
// Invariants: ParseOverwrite accepts exactly "T", "F", "t" or "f" with blanks (space, tab)
// around and nothing else, true only for T (so a value such as "T, F" from a repeated header, or
// "Tr", is a 400, never a silent overwrite); its answer written back ("T" or "F") parses to the
// same answer.
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "webdav/copy_move_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  std::string_view value(reinterpret_cast<const char*>(data), size);
  std::optional<bool> overwrite = keepdav::webdav::ParseOverwrite(value);
  std::string_view core = value;
  size_t b = core.find_first_not_of(" \t");
  core = b == std::string_view::npos ? std::string_view() : core.substr(b);
  core = core.substr(0, core.find_last_not_of(" \t") + 1);
  bool is_t = core == "T" || core == "t", is_f = core == "F" || core == "f";
  FUZZ_CHECK(overwrite.has_value() == (is_t || is_f),
             "accepted or refused wrongly: " + Printable(value));
  if (!overwrite) return 0;
  FUZZ_CHECK(*overwrite == is_t, "T and F confused: " + Printable(value));
  std::optional<bool> again = keepdav::webdav::ParseOverwrite(*overwrite ? "T" : "F");
  FUZZ_CHECK(again == overwrite, "the written-back value parses differently");
  return 0;
}
