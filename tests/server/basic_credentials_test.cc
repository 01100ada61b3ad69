#include "server/basic_credentials.h"

#include <gtest/gtest.h>

namespace keepdav::server {
namespace {

TEST(BasicCredentialsTest, Rfc7617Example) {
  // RFC 7617 §2: user "Aladdin", password "open sesame".
  auto parsed = BasicCredentials::Parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->user, "Aladdin");
  EXPECT_EQ(parsed->password, "open sesame");
}

TEST(BasicCredentialsTest, Rfc7617Utf8Example) {
  // RFC 7617 §2.1: user "test", password "123£" in UTF-8.
  auto parsed = BasicCredentials::Parse("Basic dGVzdDoxMjPCow==");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->user, "test");
  EXPECT_EQ(parsed->password, "123\xc2\xa3");
}

TEST(BasicCredentialsTest, SchemeIsCaseInsensitiveAndSpacesAreTolerated) {
  for (const char* header : {"basic dXNlcjpwYXNz", "BASIC dXNlcjpwYXNz", "bAsIc   dXNlcjpwYXNz",
                             "  Basic dXNlcjpwYXNz  ", "Basic\tdXNlcjpwYXNz"}) {
    auto parsed = BasicCredentials::Parse(header);
    ASSERT_TRUE(parsed.ok()) << header;
    EXPECT_EQ(parsed->user, "user");
    EXPECT_EQ(parsed->password, "pass");
  }
}

TEST(BasicCredentialsTest, PasswordMayContainColonsAndBeEmpty) {
  auto parsed = BasicCredentials::Parse("Basic dTphOmI6");  // "u:a:b:"
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->user, "u");
  EXPECT_EQ(parsed->password, "a:b:");
  parsed = BasicCredentials::Parse("Basic dTo=");  // "u:"
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->user, "u");
  EXPECT_EQ(parsed->password, "");
}

TEST(BasicCredentialsTest, RefusesMalformedHeaders) {
  const char* bad[] = {
      "",
      "Basic",
      "Basic ",
      "Bearer dXNlcjpwYXNz",
      "Basicx dXNlcjpwYXNz",
      "Digest username=\"u\"",
      "Basic dXNlcjpwYXN",    // length not a multiple of 4
      "Basic dXNlcjpw YXNz",  // space inside the token
      "Basic dXNlcjpwYXNz=",  // padding where none belongs
      "Basic dXNl=jpwYXNz",   // '=' in the middle
      "Basic dXNlcjpwYX*z",   // outside the alphabet
      "Basic dXNlcjpwYXNz====",
      "Basic dTp=",          // non-zero padding bits ("u:" is dTo=)
      "Basic dXNlcnBhc3M=",  // "userpass": no colon
      "Basic OnBhc3M=",      // ":pass": empty user-id
      "Basic dTpwCg==",      // "u:p\n": control character
      "Basic dTrAgA==",      // "u:\xc0\x80": not UTF-8; as Latin-1, U+0080 is a C1 control
      "Basic dTqF",          // "u:\x85": Latin-1 NEL, a C1 control
      "Basic dTrChQ==",      // "u:\xc2\x85": the same NEL in UTF-8
  };
  for (const char* header : bad) {
    auto parsed = BasicCredentials::Parse(header);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << header;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), storage::StatusCode::kInvalidArgument);
    }
  }
}

// Bytes that are not UTF-8 are ISO-8859-1, converted: a client that ignores charset="UTF-8"
// and sends "m\xfcller:p\xe4ss" logs in as the UTF-8 user "müller" with password "päss".
TEST(BasicCredentialsTest, Latin1CredentialsAreConvertedToUtf8) {
  auto parsed = BasicCredentials::Parse("Basic bfxsbGVyOnDkc3M=");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->user, "m\xc3\xbcller");
  EXPECT_EQ(parsed->password, "p\xc3\xa4ss");
  auto high = BasicCredentials::Parse("Basic dTr/");  // "u:\xff"
  ASSERT_TRUE(high.ok());
  EXPECT_EQ(high->password, "\xc3\xbf");
  // The same name sent as UTF-8 is the same user.
  auto utf8 = BasicCredentials::Parse("Basic bcO8bGxlcjpww6Rzcw==");
  ASSERT_TRUE(utf8.ok());
  EXPECT_EQ(utf8->user, parsed->user);
  EXPECT_EQ(utf8->password, parsed->password);
}

TEST(BasicCredentialsTest, StrictBase64) {
  std::string out;
  EXPECT_TRUE(DecodeBase64Strict("", &out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(DecodeBase64Strict("Zg==", &out));
  EXPECT_EQ(out, "f");
  EXPECT_TRUE(DecodeBase64Strict("Zm8=", &out));
  EXPECT_EQ(out, "fo");
  EXPECT_TRUE(DecodeBase64Strict("Zm9vYmFy", &out));
  EXPECT_EQ(out, "foobar");  // RFC 4648 §10
  EXPECT_TRUE(DecodeBase64Strict("+/+/", &out));
  EXPECT_EQ(out, "\xfb\xff\xbf");
  EXPECT_FALSE(DecodeBase64Strict("Zh==", &out));  // non-zero padding bits
  EXPECT_FALSE(DecodeBase64Strict("Z===", &out));
  EXPECT_FALSE(DecodeBase64Strict("====", &out));
  EXPECT_FALSE(DecodeBase64Strict("Zm-_", &out));  // base64url alphabet is not Basic's
}

TEST(BasicCredentialsTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
}

TEST(BasicCredentialsTest, ChallengeQuotesTheRealm) {
  EXPECT_EQ(BasicCredentials::Challenge("keepdav"), "Basic realm=\"keepdav\", charset=\"UTF-8\"");
  EXPECT_EQ(BasicCredentials::Challenge("a\"b\\c\r\nd"),
            "Basic realm=\"a\\\"b\\\\c"
            "d\", charset=\"UTF-8\"");
}

}  // namespace
}  // namespace keepdav::server
