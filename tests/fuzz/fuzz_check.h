// FUZZ_CHECK: an invariant a fuzz target asserts about a parser's answer, beyond "no crash".
//
// Every target in tests/fuzz is built twice from the same source: as a libFuzzer binary
// (KEEPDAV_FUZZ=ON, scripts/fuzz.sh), where a failed check prints what broke and aborts so
// libFuzzer saves the input, and as a GoogleTest that replays the committed corpus
// (corpus_replay_test.cc), where a failed check is a test failure naming the input. The two
// builds link different definitions of ReportFuzzFailure (fuzz_failure_abort.cc or the replay
// test), so the targets themselves have no build switch.
//
// FUZZ_CHECK(cond, what) evaluates to `cond`; `what` (a std::string expression) is built only
// when the check fails. A target returns after a failed check whenever going on would touch
// something the check guarded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keepdav::fuzz {

// Reports a failed invariant; returns false (the value of the failed FUZZ_CHECK) when the build
// lets the target go on, and does not return in the libFuzzer build.
bool ReportFuzzFailure(const char* file, int line, const char* condition, const std::string& what);

// `bytes` with everything outside printable ASCII as \xNN, for failure messages.
inline std::string Printable(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace keepdav::fuzz

#define FUZZ_CHECK(cond, what) \
  ((cond) || ::keepdav::fuzz::ReportFuzzFailure(__FILE__, __LINE__, #cond, (what)))

// The libFuzzer entry point every target defines.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
