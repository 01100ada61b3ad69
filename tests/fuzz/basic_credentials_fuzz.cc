// Fuzz target: the Authorization: Basic parser (server/basic_credentials.h, RFC 7617).
//
// Invariants: accepted credentials have a non-empty user-id without ':', and both parts are
// valid UTF-8 without control characters (C0, DEL, C1); when the decoded bytes were UTF-8 the
// parts are exactly those bytes split at the first ':'; the parts written back as
// "Basic base64(user:password)" parse to the same parts.
#include <string>
#include <string_view>

#include "server/basic_credentials.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::string EncodeBase64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const unsigned v =
        static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

bool HasControl(std::string_view utf8) {
  for (size_t i = 0; i < utf8.size(); ++i) {
    const unsigned char u = static_cast<unsigned char>(utf8[i]);
    if (u < 0x20 || u == 0x7f) return true;
    if (u == 0xc2 && i + 1 < utf8.size() && static_cast<unsigned char>(utf8[i + 1]) < 0xa0) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using keepdav::server::BasicCredentials;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Two shapes: the input as a whole header value, and as the decoded credentials.
  for (const std::string& header : {std::string(input), "Basic " + EncodeBase64(input)}) {
    auto parsed = BasicCredentials::Parse(header);
    if (!parsed.ok()) continue;
    const std::string& user = parsed->user;
    const std::string& password = parsed->password;
    FUZZ_CHECK(!user.empty() && user.find(':') == std::string::npos,
               "user-id empty or with ':': " + Printable(header));
    FUZZ_CHECK(keepdav::server::IsValidUtf8(user) && keepdav::server::IsValidUtf8(password),
               "not UTF-8 after parsing: " + Printable(header));
    FUZZ_CHECK(!HasControl(user) && !HasControl(password),
               "control character accepted: " + Printable(header));
    std::string decoded;
    if (header.rfind("Basic ", 0) == 0 &&
        keepdav::server::DecodeBase64Strict(std::string_view(header).substr(6), &decoded) &&
        keepdav::server::IsValidUtf8(decoded)) {
      FUZZ_CHECK(user + ":" + password == decoded,
                 "UTF-8 credentials changed: " + Printable(header));
    }
    auto again = BasicCredentials::Parse("Basic " + EncodeBase64(user + ":" + password));
    FUZZ_CHECK(again.ok() && again->user == user && again->password == password,
               "written back, parses differently: " + Printable(header));
  }
  return 0;
}
