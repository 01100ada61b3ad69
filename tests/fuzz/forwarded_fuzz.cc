// Fuzz target: the forwarding headers of a reverse proxy (server/forwarded.h).
//
// The input is one header value, read as a Forwarded header, as an X-Forwarded-For list and as
// a single node address. Invariants: parsing never crashes; from an untrusted peer nothing is
// ever taken from the headers; from a trusted one the client is the peer or an address the
// headers named, the host is empty or a printable authority; every parsed address prints as an
// address that parses back to itself.
#include <string>
#include <string_view>

#include "server/forwarded.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using namespace keepdav::server;
  std::string value(reinterpret_cast<const char*>(data), size);
  static const TrustedProxies trusted = [] {
    TrustedProxies t;
    (void)TrustedProxies::Parse("127.0.0.1,10.0.0.0/8,::1,fd00::/8", &t);
    return t;
  }();

  if (std::optional<IpAddress> a = ParseNodeAddress(value)) {
    std::string printed = a->ToString();
    std::optional<IpAddress> again = IpAddress::Parse(printed);
    FUZZ_CHECK(again && *again == *a, "address " + Printable(value) + " does not print back");
  }
  auto elements = ParseForwarded(value);
  if (elements) FUZZ_CHECK(!elements->empty(), "Forwarded parsed into no element");

  for (const char* name : {"Forwarded", "X-Forwarded-For"}) {
    keepdav::webdav::HeaderMap headers;
    headers[name] = value;
    headers["X-Forwarded-Host"] = value;
    headers["X-Forwarded-Proto"] = value;
    ClientOrigin untrusted = ResolveClientOrigin("203.0.113.1", false, headers, trusted);
    FUZZ_CHECK(untrusted.address == "203.0.113.1" && !untrusted.secure && untrusted.host.empty(),
               "headers from an untrusted peer were believed: " + Printable(value));
    ClientOrigin o = ResolveClientOrigin("127.0.0.1", false, headers, trusted);
    FUZZ_CHECK(o.address == "127.0.0.1" || IpAddress::Parse(o.address),
               "client address is not an address: " + Printable(o.address));
    for (char c : o.host) {
      FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '/', "host has a bad byte: " + Printable(o.host));
    }
  }
  return 0;
}
