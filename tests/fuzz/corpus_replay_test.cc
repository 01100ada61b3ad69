// Replays a fuzz target's committed corpus (tests/fuzz/corpus/<target>/, compiled in as
// KEEPDAV_FUZZ_CORPUS) through its LLVMFuzzerTestOneInput, so the plain g++ build checks every
// seed and every regression case on each run. A failed FUZZ_CHECK is a test failure that names
// the input file; a crash fails the test executable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_check.h"

namespace keepdav::fuzz {

bool ReportFuzzFailure(const char* file, int line, const char* condition, const std::string& what) {
  ADD_FAILURE_AT(file, line) << "fuzz invariant failed: " << condition << "\n  " << what;
  return false;
}

namespace {

TEST(CorpusReplay, EveryCommittedInput) {
  std::vector<std::filesystem::path> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(KEEPDAV_FUZZ_CORPUS)) {
    if (entry.is_regular_file()) inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  ASSERT_FALSE(inputs.empty()) << "no corpus in " << KEEPDAV_FUZZ_CORPUS;
  for (const auto& path : inputs) {
    SCOPED_TRACE(path.string());
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << "cannot read " << path;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replayed %zu inputs from %s\n", inputs.size(), KEEPDAV_FUZZ_CORPUS);
}

}  // namespace
}  // namespace keepdav::fuzz
