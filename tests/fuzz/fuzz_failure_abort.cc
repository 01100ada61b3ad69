// The libFuzzer build's ReportFuzzFailure: print the broken invariant and abort, which libFuzzer
// reports as a crash and saves the input for (scripts/fuzz.sh copies it into the corpus).
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_check.h"

namespace keepdav::fuzz {

bool ReportFuzzFailure(const char* file, int line, const char* condition, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n  %s\n", file, line, condition,
               what.c_str());
  std::abort();
}

}  // namespace keepdav::fuzz
