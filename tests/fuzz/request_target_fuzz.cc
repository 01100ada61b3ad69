// Fuzz target: request-target and Destination to ResourcePath (webdav/request_target.h).
//
// Input: the first byte picks http or https, the bytes up to the first newline are the Host
// header, the rest is the URL, used as the request-target and as the Destination.
// Invariants: a resolved path never escapes the root: it starts with "/", has no empty, "." or
// ".." segment, no NUL or backslash, no trailing slash, no reserved (.keepdav-) segment, and
// ResourcePath::Parse gives it back unchanged; percent-encoded as an href (webdav/href.h) it
// resolves to itself. ResolveRequestTarget, ResolveDestination and ResolveHeaderUrl agree with
// ResolveUrl and answer only their documented statuses; a URL that names this server resolves
// to the same path with and without the authority check.
#include <string>
#include <string_view>

#include "storage/resource_path.h"
#include "tests/fuzz/fuzz_check.h"
#include "webdav/href.h"
#include "webdav/request_target.h"

namespace keepdav::fuzz {
namespace {

using storage::ResourcePath;
using webdav::ResolvedUrl;

// Checks the documented form of a ResourcePath (storage/resource_path.h) from its string alone.
void CheckPathForm(const ResourcePath& path, const std::string& url) {
  const std::string& s = path.str();
  std::string where = " in " + Printable(s) + " from " + Printable(url);
  if (!FUZZ_CHECK(!s.empty() && s[0] == '/', "not absolute" + where)) return;
  FUZZ_CHECK(s.find('\0') == std::string::npos && s.find('\\') == std::string::npos,
             "NUL or backslash" + where);
  if (s == "/") return;
  FUZZ_CHECK(s.back() != '/', "trailing slash" + where);
  size_t start = 1;
  while (start <= s.size()) {
    size_t slash = s.find('/', start);
    if (slash == std::string::npos) slash = s.size();
    std::string_view segment = std::string_view(s).substr(start, slash - start);
    FUZZ_CHECK(!segment.empty() && segment != "." && segment != "..",
               "segment " + Printable(segment) + where);
    FUZZ_CHECK(
        segment.substr(0, ResourcePath::kReservedPrefix.size()) != ResourcePath::kReservedPrefix,
        "reserved segment" + where);
    start = slash + 1;
  }
  auto reparsed = ResourcePath::Parse(s);
  FUZZ_CHECK(reparsed.ok() && reparsed.value() == path, "does not parse back" + where);
}

}  // namespace
}  // namespace keepdav::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  using keepdav::webdav::DavError;
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t newline = input.find('\n');
  keepdav::webdav::DavRequest req;
  req.scheme = data[0] & 1 ? "https" : "http";
  req.host = std::string(input.substr(0, newline == std::string_view::npos ? 0 : newline));
  std::string url(newline == std::string_view::npos ? input : input.substr(newline + 1));
  req.target = url;
  req.headers["Destination"] = url;

  ResolvedUrl plain = keepdav::webdav::ResolveUrl(req, url, /*check_authority=*/false);
  ResolvedUrl checked = keepdav::webdav::ResolveUrl(req, url, /*check_authority=*/true);
  FUZZ_CHECK(plain.problem != ResolvedUrl::Problem::kOtherServer,
             "authority refused without the check: " + Printable(url));
  if (checked.problem != ResolvedUrl::Problem::kOtherServer) {
    FUZZ_CHECK(checked.problem == plain.problem && checked.path == plain.path,
               "the authority check changed the answer for " + Printable(url));
  }
  if (plain.problem == ResolvedUrl::Problem::kNone) {
    CheckPathForm(plain.path, url);
    std::string href = keepdav::webdav::EncodeHrefPath(plain.path.str());
    ResolvedUrl again = keepdav::webdav::ResolveUrl(req, href, /*check_authority=*/true);
    FUZZ_CHECK(again.problem == ResolvedUrl::Problem::kNone && again.path == plain.path,
               "href " + Printable(href) + " of " + Printable(plain.path.str()) +
                   " does not resolve back");
  }

  keepdav::storage::ResourcePath target;
  DavError t = keepdav::webdav::ResolveRequestTarget(req, &target);
  bool target_ok =
      url.find('#') == std::string::npos && plain.problem == ResolvedUrl::Problem::kNone;
  FUZZ_CHECK(t.ok() == target_ok, "request-target " + Printable(url) + ": " + t.message);
  if (t.ok()) {
    FUZZ_CHECK(target == plain.path, "request-target resolved differently: " + Printable(url));
  } else {
    FUZZ_CHECK(t.status == 400 || t.status == 404,
               "request-target status " + std::to_string(t.status) + " for " + Printable(url));
    FUZZ_CHECK(!t.message.empty(), "request-target refused without a reason: " + Printable(url));
  }

  keepdav::storage::ResourcePath destination;
  DavError d = keepdav::webdav::ResolveDestination(req, &destination);
  bool destination_ok = !url.empty() && checked.problem == ResolvedUrl::Problem::kNone;
  FUZZ_CHECK(d.ok() == destination_ok, "Destination " + Printable(url) + ": " + d.message);
  if (d.ok()) {
    FUZZ_CHECK(destination == checked.path, "Destination resolved differently: " + Printable(url));
  } else {
    FUZZ_CHECK(d.status == 400 || d.status == 403 || d.status == 502,
               "Destination status " + std::to_string(d.status) + " for " + Printable(url));
  }
  std::optional<keepdav::storage::ResourcePath> header_url =
      keepdav::webdav::ResolveHeaderUrl(req, url);
  FUZZ_CHECK(header_url.has_value() == (checked.problem == ResolvedUrl::Problem::kNone) &&
                 (!header_url || *header_url == checked.path),
             "ResolveHeaderUrl disagrees for " + Printable(url));
  return 0;
}
