#include "webdav/repr_digest.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace keepdav::webdav {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

struct Wanted {
  std::string algorithm;
  int preference = 0;
};

// The dictionary's members; false when it does not parse (RFC 8941 §4.2: then ignore it all).
bool ParseWant(const std::string& want, std::vector<Wanted>* out) {
  size_t start = 0;
  while (start <= want.size()) {
    size_t comma = want.find(',', start);
    std::string member =
        Trim(want.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? want.size() + 1 : comma + 1;
    if (member.empty()) return false;
    size_t eq = member.find('=');
    Wanted w;
    w.algorithm = member.substr(0, eq);
    for (char c : w.algorithm) {
      if (!(std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
            c == '*')) {
        return false;
      }
    }
    if (w.algorithm.empty()) return false;
    if (eq == std::string::npos) {
      w.preference = 1;  // a bare key is the Boolean true; treat it as a low preference
    } else {
      std::string value = member.substr(eq + 1);
      if (value.empty() || value.size() > 2 ||
          !std::all_of(value.begin(), value.end(), ::isdigit)) {
        return false;
      }
      w.preference = std::stoi(value);
      if (w.preference > 10) return false;
    }
    out->push_back(std::move(w));
  }
  return true;
}

const std::string* SumFor(const std::string& algorithm, const storage::FileChecksums& sums) {
  if (algorithm == "sha-256") return &sums.sha256;
  if (algorithm == "sha") return &sums.sha1;
  if (algorithm == "md5") return &sums.md5;
  return nullptr;
}

}  // namespace

std::string HexToBase64(const std::string& hex) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    bytes.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= bytes[i + 2];
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

std::string ReprDigestFor(const std::string& want, const storage::FileChecksums& sums) {
  std::vector<Wanted> wanted;
  if (!ParseWant(want, &wanted)) return "";
  std::vector<Wanted> known;
  bool named_known = false;
  for (const Wanted& w : wanted) {
    if (!SumFor(w.algorithm, sums)) continue;
    named_known = true;
    // A later member of the same name replaces an earlier one (RFC 8941 §4.2.2).
    known.erase(std::remove_if(known.begin(), known.end(),
                               [&](const Wanted& k) { return k.algorithm == w.algorithm; }),
                known.end());
    if (w.preference > 0) known.push_back(w);
  }
  if (!named_known) known.push_back({"sha-256", 1});
  std::stable_sort(known.begin(), known.end(),
                   [](const Wanted& a, const Wanted& b) { return a.preference > b.preference; });
  std::string out;
  for (const Wanted& w : known) {
    const std::string* hex = SumFor(w.algorithm, sums);
    if (hex->empty()) continue;
    if (!out.empty()) out.append(", ");
    out.append(w.algorithm).append("=:").append(HexToBase64(*hex)).append(":");
  }
  return out;
}

}  // namespace keepdav::webdav
