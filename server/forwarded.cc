#include "server/forwarded.h"

#include <arpa/inet.h>

#include <cstring>

#include "storage/ascii.h"

namespace keepdav::server {

namespace {

using storage::ascii::Trim;

std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    size_t comma = s.find(',');
    out.push_back(Trim(s.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// RFC 7230 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

// An authority as a Host header holds it: reg-name or IP literal, optional port.
bool IsValidHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("-._~:[]", c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

std::optional<bool> ProtoIsHttps(std::string_view proto) {
  if (storage::ascii::EqualsIgnoreCase(proto, "https")) return true;
  if (storage::ascii::EqualsIgnoreCase(proto, "http")) return false;
  return std::nullopt;
}

const std::string* FindHeader(const webdav::HeaderMap& headers, const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? nullptr : &it->second;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
    if (text.find(':') == std::string_view::npos) return std::nullopt;  // "[1.2.3.4]"
  }
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
    return a;
  }
  a.v6 = true;
  return a;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof(buffer));
  return buffer;
}

storage::Status TrustedProxies::Parse(const std::string& list, TrustedProxies* out) {
  TrustedProxies result;
  if (!Trim(list).empty()) {
    for (std::string_view item : SplitCommas(list)) {
      auto bad = [&](const std::string& why) {
        return storage::Status::InvalidArgument("--trusted-proxies: '" + std::string(item) + "' " +
                                                why +
                                                " (want addresses or CIDRs, e.g. "
                                                "127.0.0.1,10.0.0.0/8,::1,fd00::/8)");
      };
      size_t slash = item.find('/');
      std::optional<IpAddress> address = IpAddress::Parse(item.substr(0, slash));
      if (!address) return bad("is not an IPv4 or IPv6 address");
      const int max_bits = address->v6 ? 128 : 32;
      int prefix = max_bits;
      if (slash != std::string_view::npos) {
        std::string_view bits = item.substr(slash + 1);
        if (bits.empty() || bits.size() > 3) return bad("has no valid prefix length");
        prefix = 0;
        for (char c : bits) {
          if (c < '0' || c > '9') return bad("has no valid prefix length");
          prefix = prefix * 10 + (c - '0');
        }
        // A mapped IPv4 address given with an IPv6 prefix: count from its IPv4 part.
        if (!address->v6 && item.find(':') != std::string_view::npos) prefix -= 96;
        if (prefix < 0 || prefix > max_bits) return bad("has a prefix length out of range");
      }
      Range range{*address, prefix};
      for (int bit = prefix; bit < 128; ++bit) {
        range.network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
      }
      result.ranges_.push_back(range);
    }
  }
  *out = std::move(result);
  return storage::Status::Ok();
}

bool TrustedProxies::Contains(const IpAddress& address) const {
  for (const Range& range : ranges_) {
    if (range.network.v6 != address.v6) continue;
    bool match = true;
    for (int bit = 0; bit < range.prefix && match; ++bit) {
      uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
      match = (address.bytes[bit / 8] & mask) == (range.network.bytes[bit / 8] & mask);
    }
    if (match) return true;
  }
  return false;
}

bool TrustedProxies::Contains(std::string_view address) const {
  std::optional<IpAddress> parsed = IpAddress::Parse(address);
  return parsed && Contains(*parsed);
}

std::optional<IpAddress> ParseNodeAddress(std::string_view node) {
  node = Trim(node);
  if (!node.empty() && node.front() == '[') {
    size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = node.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || rest.size() == 1) return std::nullopt;
      // RFC 7239 node-port: a number or an obfuscated "_port".
      for (char c : rest.substr(1)) {
        if (!IsTokenChar(c)) return std::nullopt;
      }
    }
    return IpAddress::Parse(node.substr(0, close + 1));
  }
  size_t colon = node.find(':');
  if (colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos) {
    // "192.0.2.1:4711": IPv4 with a port.
    std::string_view port = node.substr(colon + 1);
    if (port.empty()) return std::nullopt;
    for (char c : port) {
      if (!IsTokenChar(c)) return std::nullopt;
    }
    node = node.substr(0, colon);
  }
  return IpAddress::Parse(node);
}

std::optional<std::vector<ForwardedElement>> ParseForwarded(std::string_view value) {
  std::vector<ForwardedElement> elements(1);
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
  };
  while (true) {
    skip_spaces();
    if (i < value.size() && value[i] != ',' && value[i] != ';') {
      // pair = token "=" value
      size_t start = i;
      while (i < value.size() && IsTokenChar(value[i])) ++i;
      std::string_view name = value.substr(start, i - start);
      if (name.empty() || i >= value.size() || value[i] != '=') return std::nullopt;
      ++i;
      std::string v;
      if (i < value.size() && value[i] == '"') {
        ++i;
        bool closed = false;
        while (i < value.size()) {
          char c = value[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= value.size()) return std::nullopt;
            c = value[i++];
          }
          if ((c < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
          v.push_back(c);
        }
        if (!closed) return std::nullopt;
      } else {
        size_t vstart = i;
        while (i < value.size() && IsTokenChar(value[i])) ++i;
        if (i == vstart) return std::nullopt;
        v.assign(value.substr(vstart, i - vstart));
      }
      ForwardedElement& e = elements.back();
      // A repeated parameter in one element is invalid (RFC 7239 §4).
      auto set = [&](std::string* field) {
        if (!field->empty()) return false;
        *field = std::move(v);
        return !field->empty();
      };
      if (storage::ascii::EqualsIgnoreCase(name, "for")) {
        if (!set(&e.for_)) return std::nullopt;
      } else if (storage::ascii::EqualsIgnoreCase(name, "proto")) {
        if (!set(&e.proto)) return std::nullopt;
      } else if (storage::ascii::EqualsIgnoreCase(name, "host")) {
        if (!set(&e.host)) return std::nullopt;
      }  // by= and extensions: ignored
      skip_spaces();
    }
    if (i >= value.size()) break;
    if (value[i] == ';') {
      ++i;
    } else if (value[i] == ',') {
      ++i;
      elements.emplace_back();
    } else {
      return std::nullopt;
    }
  }
  return elements;
}

ClientOrigin ResolveClientOrigin(const std::string& peer, bool connection_secure,
                                 const webdav::HeaderMap& headers, const TrustedProxies& trusted) {
  ClientOrigin origin;
  origin.address = peer;
  origin.secure = connection_secure;
  std::optional<IpAddress> peer_address = IpAddress::Parse(peer);
  if (peer_address) origin.address = peer_address->ToString();  // unmaps ::ffff:a.b.c.d
  if (!peer_address || !trusted.Contains(*peer_address)) return origin;

  // The hops' reported addresses, left (client side) to right (nearest proxy), with the
  // Forwarded proto/host each element carries.
  std::vector<std::optional<IpAddress>> hops;
  std::vector<std::pair<std::string, std::string>> proto_host;
  if (const std::string* forwarded = FindHeader(headers, "Forwarded")) {
    std::optional<std::vector<ForwardedElement>> elements = ParseForwarded(*forwarded);
    if (!elements) return origin;  // broken syntax: ignore the header (and X-Forwarded-*)
    for (const ForwardedElement& e : *elements) {
      hops.push_back(e.for_.empty() ? std::nullopt : ParseNodeAddress(e.for_));
      proto_host.emplace_back(e.proto, e.host);
    }
  } else if (const std::string* xff = FindHeader(headers, "X-Forwarded-For")) {
    for (std::string_view item : SplitCommas(*xff)) hops.push_back(ParseNodeAddress(item));
  }  // neither: a trusted proxy that names no client may still report the scheme and host

  origin.forwarded = true;
  // real_ip_recursive: the peer is trusted; step left while the current hop is trusted.
  IpAddress client = *peer_address;
  size_t index = hops.size();  // the element that named `client` (hops.size(): none)
  while (index > 0) {
    const std::optional<IpAddress>& hop = hops[index - 1];
    if (!hop) break;  // unknown / obfuscated / garbage: keep the last trusted hop
    client = *hop;
    --index;
    if (!trusted.Contains(client)) break;
  }
  origin.address = client.ToString();

  std::string proto;
  std::string host;
  if (!proto_host.empty()) {
    // The element written by the proxy the client talked to: the one naming the client, or,
    // when the walk stopped at an unusable for=, the element holding it.
    size_t element = index > 0 && !hops[index - 1] ? index - 1 : index;
    if (element < proto_host.size()) {
      proto = proto_host[element].first;
      host = proto_host[element].second;
    }
  } else {
    if (const std::string* p = FindHeader(headers, "X-Forwarded-Proto")) {
      proto = std::string(SplitCommas(*p).front());
    }
    if (const std::string* h = FindHeader(headers, "X-Forwarded-Host")) {
      host = std::string(SplitCommas(*h).front());
    }
  }
  if (std::optional<bool> https = ProtoIsHttps(proto)) origin.secure = *https;
  if (IsValidHost(host)) origin.host = host;
  return origin;
}

void ApplyClientOrigin(const ClientOrigin& origin, webdav::DavRequest* request) {
  request->client_address = origin.address;
  request->scheme = origin.secure ? "https" : "http";
  if (!origin.host.empty()) request->host = origin.host;
}

}  // namespace keepdav::server
