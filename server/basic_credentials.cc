#include "server/basic_credentials.h"

#include <cstdint>

namespace keepdav::server {
namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// C0 controls, DEL, and the C1 controls U+0080-U+009F (RFC 5198, the network Unicode RFC 7617's
// UTF-8 charset refers to, excludes them too) in UTF-8 text.
bool HasControlCharacter(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u == 0x7f) return true;
    if (u == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      return true;  // U+0080-U+009F (a valid sequence's next byte is at least 0x80)
    }
  }
  return false;
}

}  // namespace

bool DecodeBase64Strict(std::string_view encoded, std::string* decoded) {
  decoded->clear();
  if (encoded.size() % 4 != 0) return false;
  size_t padding = 0;
  if (!encoded.empty() && encoded.back() == '=') padding = 1;
  if (encoded.size() >= 2 && encoded[encoded.size() - 2] == '=') padding = 2;
  const size_t data_chars = encoded.size() - padding;
  uint32_t accumulator = 0;
  int bits = 0;
  for (size_t i = 0; i < data_chars; ++i) {
    int value = Base64Value(encoded[i]);
    if (value < 0) return false;
    accumulator = (accumulator << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded->push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  // The leftover bits of the last group must be zero (canonical encoding).
  if (bits > 0 && (accumulator & ((1u << bits) - 1)) != 0) return false;
  return true;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int length;
    uint32_t code_point;
    if ((c & 0xe0) == 0xc0) {
      length = 2;
      code_point = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3;
      code_point = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4;
      code_point = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(length) > text.size()) return false;
    for (int k = 1; k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + static_cast<size_t>(k)]);
      if ((next & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3f);
    }
    static constexpr uint32_t kMinimum[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length]) return false;                 // overlong
    if (code_point > 0x10ffff) return false;                         // beyond Unicode
    if (code_point >= 0xd800 && code_point <= 0xdfff) return false;  // surrogate
    i += static_cast<size_t>(length);
  }
  return true;
}

storage::Result<BasicCredentials> BasicCredentials::Parse(std::string_view header_value) {
  size_t start = 0;
  while (start < header_value.size() && (header_value[start] == ' ' || header_value[start] == '\t'))
    ++start;
  size_t end = header_value.size();
  while (end > start && (header_value[end - 1] == ' ' || header_value[end - 1] == '\t')) --end;
  std::string_view value = header_value.substr(start, end - start);
  size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos) {
    return storage::Status::InvalidArgument("Authorization: no credentials after the scheme");
  }
  if (!EqualsIgnoringAsciiCase(value.substr(0, space), "basic")) {
    return storage::Status::InvalidArgument("Authorization: scheme is not Basic");
  }
  size_t token_start = value.find_first_not_of(" \t", space);
  std::string_view token = value.substr(token_start);
  std::string decoded;
  if (token.empty() || !DecodeBase64Strict(token, &decoded)) {
    return storage::Status::InvalidArgument("Authorization: Basic credentials are not base64");
  }
  if (!IsValidUtf8(decoded)) {
    // Not UTF-8: read as ISO-8859-1, what clients that ignore the charset parameter send (RFC
    // 7617 §2.1 leaves the encoding open without it; browsers' and many libraries' Basic did
    // Latin-1). Every byte is then one character (its C1 controls, 0x80-0x9f, are refused below
    // like the C0 ones). Latin-1 text that happens to be valid UTF-8 ("\xc3\xa9") stays UTF-8.
    std::string utf8;
    utf8.reserve(decoded.size() * 2);
    for (char c : decoded) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x80) {
        utf8.push_back(c);
        continue;
      }
      utf8.push_back(static_cast<char>(0xc0 | (u >> 6)));
      utf8.push_back(static_cast<char>(0x80 | (u & 0x3f)));
    }
    decoded = std::move(utf8);
  }
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    return storage::Status::InvalidArgument("Authorization: Basic credentials have no ':'");
  }
  BasicCredentials credentials;
  credentials.user = decoded.substr(0, colon);
  credentials.password = decoded.substr(colon + 1);
  if (credentials.user.empty()) {
    return storage::Status::InvalidArgument("Authorization: empty user-id");
  }
  if (HasControlCharacter(decoded)) {
    return storage::Status::InvalidArgument("Authorization: control character in credentials");
  }
  return credentials;
}

std::string BasicCredentials::Challenge(std::string_view realm) {
  std::string out = "Basic realm=\"";
  for (char c : realm) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) continue;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out += "\", charset=\"UTF-8\"";
  return out;
}

}  // namespace keepdav::server
