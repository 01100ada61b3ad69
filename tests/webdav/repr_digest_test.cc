// ReprDigestFor: RFC 9530 §4's Want-Repr-Digest preferences, and the base64 of RFC 4648 §10.
#include "webdav/repr_digest.h"

#include <gtest/gtest.h>

namespace keepdav::webdav {
namespace {

// The sums of "abc" (FIPS 180, RFC 1321).
storage::FileChecksums Abc() {
  return {"a9993e364706816aba3e25717850c26c9cd0d89d", "900150983cd24fb0d6963f7d28e17f72",
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"};
}

TEST(ReprDigestTest, Base64OfRfc4648Vectors) {
  EXPECT_EQ(HexToBase64(""), "");
  EXPECT_EQ(HexToBase64("66"), "Zg==");            // "f"
  EXPECT_EQ(HexToBase64("666f"), "Zm8=");          // "fo"
  EXPECT_EQ(HexToBase64("666f6f"), "Zm9v");        // "foo"
  EXPECT_EQ(HexToBase64("666f6f62"), "Zm9vYg==");  // "foob"
}

TEST(ReprDigestTest, AskedAlgorithmsHighestFirst) {
  EXPECT_EQ(ReprDigestFor("sha-256=10", Abc()),
            "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:");
  EXPECT_EQ(ReprDigestFor("sha=3, sha-256=10", Abc()),
            "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:, "
            "sha=:qZk+NkcGgWq6PiVxeFDCbJzQ2J0=:");
  EXPECT_EQ(ReprDigestFor("md5=1", Abc()), "md5=:kAFQmDzST7DWlj99KOF/cg==:");
}

TEST(ReprDigestTest, ZeroRefusesAndUnknownFallsBackToSha256) {
  EXPECT_EQ(ReprDigestFor("sha-256=0, sha=5", Abc()), "sha=:qZk+NkcGgWq6PiVxeFDCbJzQ2J0=:");
  EXPECT_EQ(ReprDigestFor("sha-256=0", Abc()), "");
  EXPECT_EQ(ReprDigestFor("sha-512=10", Abc()),
            "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:");
}

TEST(ReprDigestTest, MalformedSendsNothing) {
  for (const char* bad : {"", "sha-256=11", "SHA-256=1", "sha-256=x", "sha-256=1,,sha=1", ","}) {
    EXPECT_EQ(ReprDigestFor(bad, Abc()), "") << bad;
  }
}

}  // namespace
}  // namespace keepdav::webdav
