// Sync clients over real sockets (issue 13): a 200 MB upload sent in pieces with SabreDAV's
// PATCH (X-Update-Range) is cut at 60 % and resumed from the size the server reports, guarded by
// If-Match on the ETag, with mod_dav's PUT Content-Range for the last piece; the result is
// compared byte for byte and by SHA-256 (Repr-Digest against the client's own sum).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "storage/file_checksummer.h"
#include "tests/integration/test_server.h"
#include "webdav/repr_digest.h"

namespace keepdav::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;

// 200 MB of reproducible bytes (xorshift), not a repeating pattern a bug could hide in.
std::string Data(uint64_t size) {
  std::string s(size, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (uint64_t i = 0; i + 8 <= size; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    for (int b = 0; b < 8; ++b) s[i + b] = static_cast<char>(x >> (8 * b));
  }
  return s;
}

std::string PatchHead(uint64_t port, const std::string& range, uint64_t length,
                      const std::string& etag) {
  return "PATCH /big.bin HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nContent-Type: application/x-sabredav-partialupdate\r\nX-Update-Range: " + range +
         "\r\nIf-Match: " + etag + "\r\nContent-Length: " + std::to_string(length) +
         "\r\nConnection: close\r\n\r\n";
}

TEST(SyncTest, ResumesA200MbUploadCutAt60Percent) {
  TestServer server;
  const uint64_t total = 200 * kMiB;
  const std::string data = Data(total);
  const uint64_t piece = 40 * kMiB;

  // The first piece creates the file; the next two are appended: 60 % is on the server.
  HttpResult r = server.Request("PUT", "/big.bin", data.substr(0, piece));
  ASSERT_EQ(r.status, 201);
  std::string etag = r.headers["etag"];
  for (uint64_t at = piece; at < 3 * piece; at += piece) {
    r = server.Request("PATCH", "/big.bin", data.substr(at, piece),
                       {{"Content-Type", "application/x-sabredav-partialupdate"},
                        {"X-Update-Range", "append"},
                        {"If-Match", etag}});
    ASSERT_EQ(r.status, 204) << r.body;
    ASSERT_NE(r.headers["etag"], etag);
    etag = r.headers["etag"];
  }

  // The fourth piece is cut after half its bytes (the client went away): all or nothing, so
  // the server keeps the 120 MB it had.
  const uint64_t cut_at = 3 * piece;
  std::string raw = PatchHead(server.port(), "bytes=" + std::to_string(cut_at) + "-", piece, etag);
  raw.append(data, cut_at, piece / 2);
  HttpResult cut;
  ParseResponse(server.Raw(raw, 20000, /*half_close=*/true), &cut);
  EXPECT_EQ(cut.status, 400);

  // Resume: ask the size and ETag, then send the rest from there.
  HttpResult head = server.Request("HEAD", "/big.bin");
  ASSERT_EQ(head.status, 200);
  ASSERT_EQ(head.headers["content-length"], std::to_string(cut_at));
  EXPECT_EQ(head.headers["etag"], etag);  // the cut request changed nothing
  const uint64_t have = std::stoull(head.headers["content-length"]);
  // A stale ETag is refused: a resume never writes into a file changed meanwhile.
  r = server.Request("PATCH", "/big.bin", data.substr(have, piece),
                     {{"Content-Type", "application/x-sabredav-partialupdate"},
                      {"X-Update-Range", "bytes=" + std::to_string(have) + "-"},
                      {"If-Match", "\"stale\""}});
  EXPECT_EQ(r.status, 412);
  r = server.Request("PATCH", "/big.bin", data.substr(have, piece),
                     {{"Content-Type", "application/x-sabredav-partialupdate"},
                      {"X-Update-Range", "bytes=" + std::to_string(have) + "-"},
                      {"If-Match", head.headers["etag"]}});
  ASSERT_EQ(r.status, 204) << r.body;
  const uint64_t last = have + piece;
  r = server.Request(
      "PUT", "/big.bin", data.substr(last),
      {{"Content-Range", "bytes " + std::to_string(last) + "-" + std::to_string(total - 1) + "/" +
                             std::to_string(total)},
       {"If-Match", r.headers["etag"]}});
  ASSERT_EQ(r.status, 204) << r.body;

  const std::string on_disk = ReadFile(server.Disk("big.bin"));
  ASSERT_EQ(on_disk.size(), total);
  EXPECT_TRUE(on_disk == data) << "the resumed file differs from what was sent";
  storage::FileChecksummer summer;
  summer.Update(data.data(), data.size());
  auto sums = summer.Finish();
  ASSERT_TRUE(sums.ok());
  HttpResult digest = server.Request("HEAD", "/big.bin", "", {{"Want-Repr-Digest", "sha-256=1"}});
  EXPECT_EQ(digest.headers["repr-digest"], "sha-256=:" + webdav::HexToBase64(sums->sha256) + ":");
}

}  // namespace
}  // namespace keepdav::testing
