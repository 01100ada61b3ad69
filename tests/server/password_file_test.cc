#include "server/password_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace keepdav::server {
namespace {

// Hashes made on this machine with htpasswd (apache2-utils 2.4) and openssl passwd / mkpasswd.
constexpr char kApr1Empty[] = "$apr1$54TepDXV$L1xYLAvXCFhIOoS8pJZCY1";
constexpr char kApr1A[] = "$apr1$OlZ36dGV$ssxQaxkxKnzRMFBEExfq91";
constexpr char kApr1Password[] = "$apr1$LrokG0Du$4Kpw/6C.kuq8q6gNPottT.";
constexpr char kApr1Long[] = "$apr1$HenHtxmu$EG88XUGU/1ZcEag8.dz.p1";
constexpr char kApr1Umlaut[] = "$apr1$Iu2l8opm$mZKUpBqiDHx9kN3IbjOzX.";  // "pässword" in UTF-8
constexpr char kBcrypt[] = "$2y$05$i2Vc.UekTbf6o8P6YKg4h.DB5yICBrsLrtHcDtbVc9SvmetjgFNxW";
constexpr char kSha1[] = "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=";
constexpr char kSha256Crypt[] = "$5$saltsalt$0rl.MZtoLLPP3X0Rdl8riRnphIcAXJY27/aOAyK2hB5";
constexpr char kSha512Crypt[] =
    "$6$saltsalt$pauPrmdmG4BTE9h2HPmywiw152IFch6BJCEsaY6D.PLTfpV8sqvXwWdyfsgVgozkYH9B80bAip/"
    "08R2BPH2xk/";
constexpr char kYescrypt[] =
    "$y$j9T$LpNK0KIKy/IQfq1o7Au8S.$iPzbEwhdunnKueQ.iU5qZrp7KoO/CSQLhk2KHx90y95";

TEST(Apr1CryptTest, MatchesHtpasswdAndOpenssl) {
  EXPECT_EQ(Apr1Crypt("", kApr1Empty), kApr1Empty);
  EXPECT_EQ(Apr1Crypt("a", kApr1A), kApr1A);
  EXPECT_EQ(Apr1Crypt("password", kApr1Password), kApr1Password);
  EXPECT_EQ(Apr1Crypt("a-password-longer-than-sixteen-characters!", kApr1Long), kApr1Long);
  EXPECT_EQ(Apr1Crypt("p\xc3\xa4ssword", kApr1Umlaut), kApr1Umlaut);
  // openssl passwd -apr1 -salt abcdefgh password
  EXPECT_EQ(Apr1Crypt("password", "$apr1$abcdefgh"), "$apr1$abcdefgh$FBwExRW4dCc8aL.OvjpIE1");
  EXPECT_EQ(Apr1Crypt("x", "$1$abc$"), "");
}

TEST(VerifyPasswordHashTest, EveryAcceptedScheme) {
  struct Case {
    const char* hash;
    const char* password;
  } cases[] = {
      {kApr1Password, "password"}, {kBcrypt, "pw"},   {kSha1, "pw"},   {kSha256Crypt, "pw"},
      {kSha512Crypt, "pw"},        {kYescrypt, "pw"}, {kApr1Empty, ""}};
  for (const Case& c : cases) {
    EXPECT_TRUE(VerifyPasswordHash(c.password, c.hash)) << c.hash;
    EXPECT_FALSE(VerifyPasswordHash(std::string(c.password) + "x", c.hash)) << c.hash;
    EXPECT_FALSE(VerifyPasswordHash("PW", c.hash)) << c.hash;
  }
  EXPECT_FALSE(VerifyPasswordHash("pw", "pw"));  // plain text never verifies
  EXPECT_FALSE(VerifyPasswordHash(std::string("pw\0x", 4), kBcrypt));
}

std::string Line(const std::string& user, const std::string& hash) {
  return user + ":" + hash + "\n";
}

TEST(PasswordFileParseTest, AcceptsHtpasswdOutputWithCommentsAndBlankLines) {
  std::string contents = "# users\n\n   \n" + Line("alice", kBcrypt) + Line("bob", kApr1Password) +
                         "  # indented comment\r\n" + "carol:" + kSha1 + "\r\n" +
                         Line("d\xc3\xa9", kYescrypt) + "eve:" + kSha512Crypt;  // no final \n
  auto users = PasswordFile::Parse(contents, "f");
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  EXPECT_EQ(users->size(), 5u);
  EXPECT_EQ(users->at("carol"), kSha1);
  EXPECT_EQ(users->at("eve"), kSha512Crypt);
}

TEST(PasswordFileParseTest, RefusesWeakOrBrokenLinesWithTheLineNumber) {
  struct Case {
    std::string line;
    std::string expected;
  } cases[] = {
      {"u:pw", "f:3: plain-text"},
      {"u:bu.7rx61vcPco", "f:3: DES"},
      {"u:", "f:3: plain-text"},
      {"no-colon", "f:3: no ':'"},
      {std::string(":") + kBcrypt, "f:3: empty user"},
      {"u:$apr1$abc$short", "f:3: malformed $apr1$"},
      // Outside crypt's base-64 alphabet (found by the htpasswd fuzz target: a CR as the last
      // hash byte was accepted and lost when the file was written back).
      {"u:$apr1$abcdefgh$012345678901234567890\r\r", "f:3: malformed $apr1$"},
      {"u:$apr1$ab:d$0123456789012345678901", "f:3: malformed $apr1$"},
      {"u:$apr1$abcdefgh$01234567890123456789 1", "f:3: malformed $apr1$"},
      {"u:{SHA}notbase64", "f:3: malformed {SHA}"},
      {"u:{SHA}Zm9v", "f:3: malformed {SHA}"},  // base64 but not 20 bytes
      {"u:$2y$05$tooshort", "f:3: malformed bcrypt"},
      {"u:$2y$5$i2Vc.UekTbf6o8P6YKg4h.DB5yICBrsLrtHcDtbVc9SvmetjgFNxW", "f:3: malformed bcrypt"},
      {"u:$2y$99$" + std::string(kBcrypt).substr(7), "f:3: malformed bcrypt hash (cost 99)"},
      {"u:$2y$05$i2Vc.UekTbf6o8P6YKg4h.DB5yICBrsLrtHcDtbVc9SvmetjgFNx ", "f:3: malformed bcrypt"},
      // Costs no login can afford (the htpasswd fuzz target timed out on a bcrypt cost 31 line,
      // back when the file was checked by hashing a probe password with every line).
      {"u:$2y$31$" + std::string(kBcrypt).substr(7), "f:3: bcrypt cost 31 above 17"},
      {"u:$2b$18$" + std::string(kBcrypt).substr(7), "f:3: bcrypt cost 18 above 17"},
      {"u:$6$rounds=999999999$" + std::string(kSha512Crypt).substr(3),
       "f:3: SHA-512-crypt rounds=999999999 above 10000000"},
      {"u:$5$rounds=999$" + std::string(kSha256Crypt).substr(3), "f:3: malformed SHA-256-crypt"},
      {"u:$5$rounds=01000$" + std::string(kSha256Crypt).substr(3), "f:3: malformed SHA-256-crypt"},
      {"u:$5$saltsalt$short", "f:3: malformed SHA-256-crypt"},
      {"u:$6$" + std::string(kSha256Crypt).substr(3), "f:3: malformed SHA-512-crypt"},
      {"u:$y$jZT$" + std::string(kYescrypt).substr(7),
       "f:3: yescrypt parameters needing more than 1 GiB a login (N=2^38, r=32)"},
      {"u:$y$j9T1$" + std::string(kYescrypt).substr(7), "f:3: malformed or unsupported yescrypt"},
      {"u:$y$j9T$LpNK0KIKy/IQfq1o7Au8S.$short", "f:3: malformed yescrypt"},
      {"u:$1$saltsalt$abcdefghijklmnopqrstuv", "f:3: plain-text or unknown"},  // MD5-crypt
      {"alice:" + std::string(kSha1), "f:3: user \"alice\" appears twice"},
  };
  for (const Case& c : cases) {
    auto users = PasswordFile::Parse("# c\n" + Line("alice", kBcrypt) + c.line + "\n", "f");
    ASSERT_FALSE(users.ok()) << c.line;
    EXPECT_EQ(users.status().code(), storage::StatusCode::kInvalidArgument);
    EXPECT_EQ(users.status().message().rfind(c.expected, 0), 0u)
        << c.line << " -> " << users.status().message();
  }
}

TEST(PasswordFileParseTest, AcceptsTheHighestCostsWithoutHashing) {
  // What the tools write at their highest costs: htpasswd -B -C 17; mkpasswd -m sha-512 -R
  // 10000000; yescrypt at crypt_gensalt's cost 11 (N=2^18, r=32). A login at these takes seconds.
  std::string contents;
  for (int i = 0; i < 200; ++i) {
    contents += Line("b" + std::to_string(i), "$2y$17$" + std::string(kBcrypt).substr(7));
    contents +=
        Line("s" + std::to_string(i), "$6$rounds=10000000$" + std::string(kSha512Crypt).substr(3));
    contents += Line("y" + std::to_string(i), "$y$jFT$" + std::string(kYescrypt).substr(7));
  }
  // Loading runs no hash: hashing a probe password with each line (as the parser once did) took
  // seconds a line at these costs, so this file would have taken an hour to load.
  auto start = std::chrono::steady_clock::now();
  auto users = PasswordFile::Parse(contents, "f");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  EXPECT_EQ(users->size(), 600u);
  EXPECT_LT(seconds, 20.0);
}

class PasswordFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/keepdav-htpasswd-XXXXXX";
    int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = name;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void Write(const std::string& contents) {
    // A new file replaces the old one (as htpasswd does), so the inode changes.
    std::string temporary = path_ + ".new";
    std::ofstream(temporary, std::ios::binary) << contents;
    ASSERT_EQ(std::rename(temporary.c_str(), path_.c_str()), 0);
  }
  std::string path_;
};

TEST_F(PasswordFileTest, LoadsAndVerifies) {
  Write(Line("alice", kBcrypt) + Line("bob", kApr1Password));
  auto file = PasswordFile::Load(path_);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE((*file)->Verify("alice", "pw"));
  EXPECT_FALSE((*file)->Verify("alice", "password"));
  EXPECT_TRUE((*file)->Verify("bob", "password"));
  EXPECT_FALSE((*file)->Verify("carol", "pw"));
  EXPECT_TRUE((*file)->HasUser("bob"));
  EXPECT_FALSE((*file)->HasUser("Bob"));
  EXPECT_EQ((*file)->UserCount(), 2u);
}

TEST_F(PasswordFileTest, LoadErrorsNameThePath) {
  Write(Line("alice", "plain"));
  auto file = PasswordFile::Load(path_);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(), path_ +
                                         ":1: plain-text or unknown password hash refused "
                                         "(use htpasswd -B) for user \"alice\"");
  EXPECT_FALSE(PasswordFile::Load(path_ + ".missing").ok());
}

TEST_F(PasswordFileTest, ReloadKeepsOldUsersOnABadFile) {
  Write(Line("alice", kBcrypt));
  auto file = PasswordFile::Load(path_);
  ASSERT_TRUE(file.ok());
  Write(Line("alice", kBcrypt) + Line("bob", "plaintext"));
  bool reloaded = true;
  storage::Status status = (*file)->ReloadIfChanged(&reloaded);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(":2:"), std::string::npos) << status.message();
  EXPECT_FALSE(reloaded);
  EXPECT_TRUE((*file)->Verify("alice", "pw"));
  EXPECT_FALSE((*file)->HasUser("bob"));

  Write(Line("bob", kApr1Password));
  ASSERT_TRUE((*file)->ReloadIfChanged(&reloaded).ok());
  EXPECT_TRUE(reloaded);
  EXPECT_FALSE((*file)->HasUser("alice"));
  EXPECT_TRUE((*file)->Verify("bob", "password"));

  ASSERT_TRUE((*file)->ReloadIfChanged(&reloaded).ok());
  EXPECT_FALSE(reloaded);  // unchanged

  std::remove(path_.c_str());
  EXPECT_FALSE((*file)->Reload().ok());
  EXPECT_TRUE((*file)->Verify("bob", "password"));
}

TEST_F(PasswordFileTest, LookupsDuringReloads) {
  Write(Line("alice", kApr1Password) + Line("bob", kApr1A));
  auto file = PasswordFile::Load(path_);
  ASSERT_TRUE(file.ok());
  PasswordFile* shared = file->get();
  std::thread reloader([&] {
    for (int i = 0; i < 50; ++i) EXPECT_TRUE(shared->Reload().ok());
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        EXPECT_TRUE(shared->Verify("alice", "password"));
        EXPECT_FALSE(shared->Verify("bob", "b"));
      }
    });
  }
  reloader.join();
  for (auto& reader : readers) reader.join();
}

}  // namespace
}  // namespace keepdav::server
