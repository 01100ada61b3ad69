// Reverse proxies (issue 11): --trusted-proxies and the forwarding headers they send.
//
// A connection from a trusted proxy carries the real client's address and the public scheme and
// host in its headers; from any other address those headers are ignored (anybody can send them).
//
// - RFC 7239 `Forwarded` wins when present: its elements (comma-separated, one per hop, each
//   `for=`, `proto=`, `host=` pairs separated by ';', values tokens or quoted strings, IPv6 as
//   "[2001:db8::1]:port") are walked from the right.
// - Otherwise `X-Forwarded-For` (comma-separated addresses, walked from the right) with
//   `X-Forwarded-Proto` and `X-Forwarded-Host` (their first value: the outermost proxy's).
//
// The walk is nginx's `real_ip_recursive on`: starting from the connection's peer, while the
// current hop is a trusted proxy, step to the address it reports; the client is the first hop that
// is not trusted (or the leftmost one when every hop is). An address that does not parse
// ("unknown", an obfuscated "_node", garbage) stops the walk: the client is then the last trusted
// hop, so a forged or broken entry can never stand in for a real address. With Forwarded, the
// public scheme and host are the proto= and host= of the element that named the client (the one
// written by the proxy the client talked to); an invalid proto (not http/https) or host (not an
// authority) is ignored.
//
// Pure functions over plain data (no sockets): thread-safe; a TrustedProxies is immutable.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"
#include "webdav/dav_request.h"

namespace keepdav::server {

// A numeric IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (::ffff:192.0.2.1, which a
// dual-stack socket reports for IPv4 peers) are stored as IPv4.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // the first 4 for IPv4

  // "192.0.2.1", "2001:db8::1", "[2001:db8::1]"; no port, no zone. nullopt if it is none.
  static std::optional<IpAddress> Parse(std::string_view text);
  std::string ToString() const;
  bool operator==(const IpAddress& other) const { return v6 == other.v6 && bytes == other.bytes; }
};

class TrustedProxies {
 public:
  // `list`: comma-separated CIDRs ("10.0.0.0/8", "fd00::/8") and single addresses ("127.0.0.1",
  // "::1"), spaces around items allowed; "" trusts nobody. kInvalidArgument naming the bad item.
  static storage::Status Parse(const std::string& list, TrustedProxies* out);

  bool Contains(const IpAddress& address) const;
  // `address` numeric (as Poco prints a peer); false if it does not parse.
  bool Contains(std::string_view address) const;
  bool empty() const { return ranges_.empty(); }

 private:
  struct Range {
    IpAddress network;  // host bits cleared
    int prefix = 0;     // bits
  };
  std::vector<Range> ranges_;
};

// Who the request is really from, and how it reached the public side.
struct ClientOrigin {
  std::string address;     // numeric client address
  bool secure = false;     // the client used HTTPS (to keepdav, or to a trusted proxy that said so)
  std::string host;        // the public Host ("" : keep the request's Host header)
  bool forwarded = false;  // the peer was a trusted proxy and its headers were used
};

// `peer`: the connection's numeric peer address; `connection_secure`: HTTPS to keepdav.
ClientOrigin ResolveClientOrigin(const std::string& peer, bool connection_secure,
                                 const webdav::HeaderMap& headers, const TrustedProxies& trusted);

// Fills request->client_address, scheme and (when the proxy gave one) host from `origin`.
void ApplyClientOrigin(const ClientOrigin& origin, webdav::DavRequest* request);

// For tests and the fuzz target: the for=, proto= and host= values of each element of a
// Forwarded header value, left to right (unquoted; "" when absent). nullopt if the syntax is
// broken (then the whole header is ignored).
struct ForwardedElement {
  std::string for_;
  std::string proto;
  std::string host;
};
std::optional<std::vector<ForwardedElement>> ParseForwarded(std::string_view value);

// The address in a Forwarded for= value or an X-Forwarded-For item: "192.0.2.1",
// "192.0.2.1:4711", "[2001:db8::1]", "[2001:db8::1]:4711", a bare "2001:db8::1". nullopt for
// "unknown", "_obfuscated" and anything else.
std::optional<IpAddress> ParseNodeAddress(std::string_view node);

}  // namespace keepdav::server
