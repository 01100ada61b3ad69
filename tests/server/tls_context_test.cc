// TlsContext: loading and checking the PEM files, reload that keeps the old pair on a bad file,
// and the protocol and cipher policy as real clients (openssl s_client) see it, each refusal
// shown not to be an artefact of the client by the same command succeeding against a
// permissive openssl s_server.
#include "server/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "tests/server/tls_test_support.h"

namespace keepdav::server {
namespace {

using storage::StatusCode;
using testing::CommandResult;
using testing::OpensslServer;
using testing::ReadFileBytes;
using testing::RunCommand;
using testing::TlsLib;
using testing::TlsTempDir;
using testing::TlsTestServer;
using testing::WriteFileBytes;

class TlsContextTest : public ::testing::Test {
 protected:
  // One CA and its certificates for the whole suite: server (CN localhost), renewed (CN
  // renewed), chained (leaf + intermediate).
  static void SetUpTestSuite() {
    certs_ = new TlsTempDir();
    const std::string& dir = certs_->path();
    ASSERT_TRUE(TlsLib("tls_make_ca", {dir}));
    ASSERT_TRUE(TlsLib("tls_make_server_cert", {dir, "server"}));
    ASSERT_TRUE(TlsLib("tls_make_server_cert", {dir, "renewed", "renewed"}));
    ASSERT_TRUE(TlsLib("tls_make_chain_cert", {dir, "chained", "chained"}));
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  static std::string Cert(const std::string& name) { return certs_->File(name + ".pem"); }
  static std::string Key(const std::string& name) { return certs_->File(name + ".key"); }

  // `openssl s_client` to 127.0.0.1:port with `options`, sending nothing.
  static CommandResult Client(uint16_t port, const std::string& options) {
    return RunCommand("timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                      " " + options);
  }
  // s_client's summary: "Protocol  : TLSv1.2" in the session block (TLS 1.3 prints no session
  // before the first ticket arrives, only "New, TLSv1.3, Cipher is ...").
  static bool Negotiated(const CommandResult& result, const std::string& protocol) {
    const std::string& out = result.output;
    return result.exit_code == 0 &&
           (out.find("Protocol  : " + protocol) != std::string::npos ||
            out.find("New, " + protocol + ", Cipher is") != std::string::npos);
  }

  std::unique_ptr<TlsContext> MustCreate(const std::string& cert, const std::string& key) {
    auto created = TlsContext::Create(cert, key);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::move(created.value()) : nullptr;
  }

  static TlsTempDir* certs_;
  TlsTempDir scratch_;
};

TlsTempDir* TlsContextTest::certs_ = nullptr;

TEST_F(TlsContextTest, LoadsAPemCertificateAndKey) {
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->CurrentSubject(), "CN = localhost");
  EXPECT_TRUE(tls->context()->isForServerUse());
}

// The policy as the SSL_CTX holds it, independent of the system's openssl.cnf (Debian's
// already sets MinProtocol = TLSv1.2, which would hide a missing minimum in the client tests).
TEST_F(TlsContextTest, TheSslContextAllowsTls12And13WithEcdheAndAeadOnly) {
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  SSL_CTX* ctx = tls->context()->sslContext();
  const uint64_t options = SSL_CTX_get_options(ctx);
  const bool below_12_off = SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION ||
                            (options & (SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1)) ==
                                (SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
  EXPECT_TRUE(below_12_off);
  EXPECT_EQ(options & (SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3), 0u);
  EXPECT_NE(options & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_NE(options & SSL_OP_NO_TICKET, 0u);
  EXPECT_NE(options & SSL_OP_CIPHER_SERVER_PREFERENCE, 0u);
  EXPECT_EQ(SSL_CTX_sess_get_cache_size(ctx), static_cast<long>(TlsContext::kSessionCacheSize));
  EXPECT_NE(SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS, 0u);
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  ASSERT_NE(ciphers, nullptr);
  int tls12 = 0, tls13 = 0;
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    SCOPED_TRACE(SSL_CIPHER_get_name(cipher));
    EXPECT_EQ(SSL_CIPHER_is_aead(cipher), 1);
    if (std::string(SSL_CIPHER_get_version(cipher)) == "TLSv1.3") {
      ++tls13;  // TLS 1.3 suites name no key exchange: it is always (EC)DHE, here ECDHE only
    } else {
      ++tls12;
      EXPECT_EQ(SSL_CIPHER_get_kx_nid(cipher), NID_kx_ecdhe);
    }
  }
  EXPECT_EQ(tls12, 6);
  EXPECT_EQ(tls13, 3);
}

TEST_F(TlsContextTest, LoadsACertificateFileHoldingTheChain) {
  auto tls = MustCreate(Cert("chained"), Key("chained"));
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->CurrentSubject(), "CN = chained");
}

TEST_F(TlsContextTest, MissingFilesAreNotFoundNamingTheFile) {
  auto no_cert = TlsContext::Create(scratch_.File("absent.pem"), Key("server"));
  ASSERT_FALSE(no_cert.ok());
  EXPECT_EQ(no_cert.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_cert.status().message().find(scratch_.File("absent.pem")), std::string::npos)
      << no_cert.status().message();
  auto no_key = TlsContext::Create(Cert("server"), scratch_.File("absent.key"));
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_key.status().message().find("key file " + scratch_.File("absent.key")),
            std::string::npos)
      << no_key.status().message();
}

TEST_F(TlsContextTest, GarbageCertificateIsRefusedNamingTheFile) {
  WriteFileBytes(scratch_.File("garbage.pem"), "this is not a certificate\n");
  auto created = TlsContext::Create(scratch_.File("garbage.pem"), Key("server"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("no PEM certificate in the TLS certificate file " +
                                            scratch_.File("garbage.pem")),
            std::string::npos)
      << created.status().message();
}

TEST_F(TlsContextTest, BrokenChainAfterTheCertificateIsRefused) {
  WriteFileBytes(scratch_.File("broken-chain.pem"),
                 ReadFileBytes(Cert("server")) +
                     "-----BEGIN CERTIFICATE-----\nMIIB!!notbase64!!\n-----END CERTIFICATE-----\n");
  auto created = TlsContext::Create(scratch_.File("broken-chain.pem"), Key("server"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("does not parse after certificate 1"),
            std::string::npos)
      << created.status().message();
}

TEST_F(TlsContextTest, GarbageOrEncryptedKeyIsRefusedNamingTheFile) {
  WriteFileBytes(scratch_.File("garbage.key"), "not a key either\n");
  auto garbage = TlsContext::Create(Cert("server"), scratch_.File("garbage.key"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(garbage.status().message().find(scratch_.File("garbage.key")), std::string::npos);

  // An encrypted key: refused at once, never a passphrase prompt.
  CommandResult encrypted =
      RunCommand("openssl pkey -in '" + Key("server") + "' -aes256 -passout pass:secret -out '" +
                 scratch_.File("encrypted.key") + "'");
  ASSERT_EQ(encrypted.exit_code, 0) << encrypted.output;
  auto locked = TlsContext::Create(Cert("server"), scratch_.File("encrypted.key"));
  ASSERT_FALSE(locked.ok());
  EXPECT_NE(locked.status().message().find("encrypted"), std::string::npos)
      << locked.status().message();
}

TEST_F(TlsContextTest, KeyNotMatchingTheCertificateIsRefused) {
  auto created = TlsContext::Create(Cert("server"), Key("renewed"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(created.status().message(), "the private key in " + Key("renewed") +
                                            " does not match the certificate in " + Cert("server"));
}

TEST_F(TlsContextTest, OptionsAreBothOrNeither) {
  auto neither = TlsContextForOptions("", "");
  ASSERT_TRUE(neither.ok());
  EXPECT_EQ(neither.value(), nullptr);
  auto only_cert = TlsContextForOptions(Cert("server"), "");
  ASSERT_FALSE(only_cert.ok());
  EXPECT_EQ(only_cert.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(only_cert.status().message().find("--tls-cert and --tls-key go together"),
            std::string::npos);
  EXPECT_FALSE(TlsContextForOptions("", Key("server")).ok());
  auto both = TlsContextForOptions(Cert("server"), Key("server"));
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_NE(both.value(), nullptr);
  EXPECT_FALSE(TlsContextForOptions(Cert("server"), Key("renewed")).ok());
}

TEST_F(TlsContextTest, ReloadKeepsTheOldPairOnABadFileAndTakesAGoodOne) {
  const std::string cert = scratch_.File("cert.pem"), key = scratch_.File("key.pem");
  WriteFileBytes(cert, ReadFileBytes(Cert("server")));
  WriteFileBytes(key, ReadFileBytes(Key("server")));
  auto tls = MustCreate(cert, key);
  ASSERT_TRUE(tls);

  WriteFileBytes(cert, "garbage\n");
  storage::Status garbage = tls->Reload();
  EXPECT_EQ(garbage.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(garbage.message().find(cert), std::string::npos) << garbage.message();
  EXPECT_EQ(tls->CurrentSubject(), "CN = localhost");

  // The new certificate is in place but the key is still the old one (a half-done renewal).
  WriteFileBytes(cert, ReadFileBytes(Cert("renewed")));
  storage::Status mismatch = tls->Reload();
  EXPECT_NE(mismatch.message().find("does not match"), std::string::npos) << mismatch.message();
  EXPECT_EQ(tls->CurrentSubject(), "CN = localhost");

  WriteFileBytes(key, ReadFileBytes(Key("renewed")));
  storage::Status renewed = tls->Reload();
  EXPECT_TRUE(renewed.ok()) << renewed.ToString();
  EXPECT_EQ(tls->CurrentSubject(), "CN = renewed");

  ::unlink(key.c_str());
  EXPECT_EQ(tls->Reload().code(), StatusCode::kNotFound);
  EXPECT_EQ(tls->CurrentSubject(), "CN = renewed");
}

// TLS 1.1, offered by a client that allows it (security level 0), is refused; the same
// command negotiates TLS 1.1 with a permissive openssl s_server.
TEST_F(TlsContextTest, Tls11IsRefused) {
  const std::string tls11 = "-tls1_1 -cipher DEFAULT@SECLEVEL=0";
  {
    OpensslServer permissive({"-cert", Cert("server"), "-key", Key("server"), "-tls1_1", "-cipher",
                              "DEFAULT@SECLEVEL=0"},
                             scratch_.File("s_server.log"));
    ASSERT_NE(permissive.port(), 0);
    CommandResult accepted = Client(permissive.port(), tls11);
    EXPECT_TRUE(Negotiated(accepted, "TLSv1.1")) << accepted.output;
  }
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  TlsTestServer server(tls->context(), Cert("server"));
  CommandResult refused = Client(server.port(), tls11);
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_FALSE(Negotiated(refused, "TLSv1.1")) << refused.output;
  // Not a dead server: TLS 1.2 and 1.3 from the same client work.
  CommandResult tls12 = Client(server.port(), "-tls1_2");
  EXPECT_TRUE(Negotiated(tls12, "TLSv1.2")) << tls12.output;
  CommandResult tls13 = Client(server.port(), "-tls1_3");
  EXPECT_TRUE(Negotiated(tls13, "TLSv1.3")) << tls13.output;
}

// Under TLS 1.2, CBC ciphers (with ECDHE, as a modern client offers them) are refused, and so
// are AEAD ciphers without ECDHE (static RSA, finite-field DHE); the permissive server takes the
// same client commands.
TEST_F(TlsContextTest, OnlyEcdheWithAeadUnderTls12) {
  const std::string cbc =
      "-tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:"
      "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:AES128-SHA:AES256-SHA256'";
  const std::string no_ecdhe = "-tls1_2 -cipher 'AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256'";
  // An RSA certificate as well (RSA key generation is slow: only this test makes one), for the
  // ECDHE-RSA suites.
  const std::string& dir = certs_->path();
  CommandResult rsa = RunCommand(
      "TLS_KEY_ALG=rsa bash '" KEEPDAV_TLS_LIB "' tls_make_server_cert '" + dir + "' rsa");
  ASSERT_EQ(rsa.exit_code, 0) << rsa.output;
  {
    OpensslServer permissive({"-cert", Cert("rsa"), "-key", Key("rsa"), "-dcert", Cert("server"),
                              "-dkey", Key("server"), "-cipher", "ALL@SECLEVEL=0"},
                             scratch_.File("s_server.log"));
    ASSERT_NE(permissive.port(), 0);
    CommandResult cbc_accepted = Client(permissive.port(), cbc);
    EXPECT_TRUE(Negotiated(cbc_accepted, "TLSv1.2")) << cbc_accepted.output;
    CommandResult no_ecdhe_accepted = Client(permissive.port(), no_ecdhe);
    EXPECT_TRUE(Negotiated(no_ecdhe_accepted, "TLSv1.2")) << no_ecdhe_accepted.output;
  }
  for (const char* name : {"server", "rsa"}) {
    SCOPED_TRACE(name);
    auto tls = MustCreate(Cert(name), Key(name));
    ASSERT_TRUE(tls);
    TlsTestServer server(tls->context(), Cert(name));
    CommandResult cbc_refused = Client(server.port(), cbc);
    EXPECT_FALSE(Negotiated(cbc_refused, "TLSv1.2")) << cbc_refused.output;
    EXPECT_NE(cbc_refused.exit_code, 0);
    CommandResult no_ecdhe_refused = Client(server.port(), no_ecdhe);
    EXPECT_FALSE(Negotiated(no_ecdhe_refused, "TLSv1.2")) << no_ecdhe_refused.output;
    // What it does take: ECDHE with AES-GCM and CHACHA20-POLY1305.
    for (const char* cipher : {"AES128-GCM-SHA256", "AES256-GCM-SHA384", "CHACHA20-POLY1305"}) {
      std::string full =
          std::string(name == std::string("rsa") ? "ECDHE-RSA-" : "ECDHE-ECDSA-") + cipher;
      CommandResult aead = Client(server.port(), "-tls1_2 -cipher " + full);
      EXPECT_TRUE(Negotiated(aead, "TLSv1.2")) << full << "\n" << aead.output;
      EXPECT_NE(aead.output.find("Cipher    : " + full), std::string::npos) << aead.output;
    }
  }
}

// A returning client resumes its session (from the server's cache: no tickets are issued for
// stateless resumption) with TLS 1.2 and 1.3.
TEST_F(TlsContextTest, SessionsResumeFromTheServerCache) {
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  TlsTestServer server(tls->context(), Cert("server"));
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    SCOPED_TRACE(version);
    const std::string session = scratch_.File(std::string("session") + version);
    // Stdin open for a moment: s_client stays until the TLS 1.3 ticket has arrived. On a loaded
    // machine the ticket can take longer than the first wait (seen at load 16 on 2 cores), so
    // the client waits longer on each of three tries; a server that never resumes fails all.
    CommandResult first, second;
    for (const char* wait : {"0.3", "1", "3"}) {
      first =
          RunCommand("(sleep " + std::string(wait) + ") | timeout 15 openssl s_client " +
                     std::string(version) + " -connect 127.0.0.1:" + std::to_string(server.port()) +
                     " -sess_out " + session);
      ASSERT_EQ(first.exit_code, 0) << first.output;
      second = Client(server.port(), std::string(version) + " -sess_in " + session);
      if (second.output.find("Reused, TLSv1.") != std::string::npos) break;
    }
    EXPECT_NE(second.output.find("Reused, TLSv1."), std::string::npos) << first.output << "\n----\n"
                                                                       << second.output;
  }
}

// TLS 1.3 key exchange: elliptic-curve groups only; a client offering only a finite-field group
// is refused, while the permissive server takes it.
TEST_F(TlsContextTest, FiniteFieldGroupsAreRefusedUnderTls13) {
  const std::string ffdhe = "-tls1_3 -groups ffdhe2048";
  {
    OpensslServer permissive(
        {"-cert", Cert("server"), "-key", Key("server"), "-groups", "ffdhe2048:X25519"},
        scratch_.File("s_server.log"));
    ASSERT_NE(permissive.port(), 0);
    CommandResult accepted = Client(permissive.port(), ffdhe);
    EXPECT_TRUE(Negotiated(accepted, "TLSv1.3")) << accepted.output;
  }
  auto tls = MustCreate(Cert("server"), Key("server"));
  ASSERT_TRUE(tls);
  TlsTestServer server(tls->context(), Cert("server"));
  CommandResult refused = Client(server.port(), ffdhe);
  EXPECT_FALSE(Negotiated(refused, "TLSv1.3")) << refused.output;
  for (const char* group : {"X25519", "P-256", "P-384"}) {
    CommandResult ecdhe = Client(server.port(), std::string("-tls1_3 -groups ") + group);
    EXPECT_TRUE(Negotiated(ecdhe, "TLSv1.3")) << group << "\n" << ecdhe.output;
  }
}

}  // namespace
}  // namespace keepdav::server
