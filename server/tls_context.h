// TlsContext: the TLS settings keepdav serves HTTPS with (a Poco::Net::Context for
// SecureServerSocket), and the certificate and key behind it, reloadable while serving.
//
// Protocol: TLS 1.2 and 1.3 only (requireMinimumProtocol(PROTO_TLSV1_2)). Key exchange: ECDHE
// only (groups X25519, P-256, P-384; no finite-field DH). Ciphers: AEAD only — TLS 1.2 takes
// ECDHE-ECDSA/RSA with AES-GCM or CHACHA20-POLY1305 (kTls12Ciphers), TLS 1.3's suites are all
// AEAD. The server's order wins. Renegotiation is refused (SSL_OP_NO_RENEGOTIATION); sessions
// resume from the server's own cache (at most kSessionCacheSize), not from stateless tickets,
// so no ticket key has to be kept or rotated. An idle connection's TLS buffers are released
// (SSL_MODE_RELEASE_BUFFERS: about 15 KiB per idle connection instead of 25, measured). No
// client certificates are asked for (keepdav has no TLS client auth).
//
// Certificate and key: PEM. The certificate file holds the server's certificate first, then
// any intermediate certificates (the chain). The key must not be encrypted (the server starts
// unattended). Poco has no reload call, so the pair is not loaded into the SSL_CTX itself: an
// SSL_CTX_set_cert_cb callback hands the current pair to each new handshake. Reload() reads and
// checks new files and, only if they are good, makes them the current pair: new handshakes show
// the new certificate, open connections keep the one they negotiated. On any error the old pair
// stays and the error is returned (the caller logs it).
//
// Errors (Status, message naming the file): kNotFound / kPermissionDenied / kIoError when a file
// cannot be read, kInvalidArgument when it holds no PEM certificate, garbage after the chain, no
// readable (or an encrypted) private key, or a key that does not match the certificate.
//
// Thread safety: Reload() may run on any thread (the signal-handling thread on SIGHUP) while
// handshakes run on the server's pool threads: the current pair is a shared_ptr swapped under
// a mutex, and each handshake takes its own reference. context() is fixed after Create().
// Lifetime: the key-pair slot is owned by the SSL_CTX (ex_data), so sockets that outlive this
// object stay valid; reloading stops with this object.
#pragma once

#include <Poco/Net/Context.h>

#include <cstddef>
#include <memory>
#include <string>

#include "storage/status.h"

namespace keepdav::server {

class TlsContext {
 public:
  // TLS 1.2 cipher list (OpenSSL names): ECDHE with AEAD only.
  static constexpr const char* kTls12Ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  // TLS 1.3 suites: all AEAD.
  static constexpr const char* kTls13Suites =
      "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  static constexpr const char* kGroups = "X25519:P-256:P-384";
  // Sessions kept for resumption (server-side cache, default timeout 300 s).
  static constexpr size_t kSessionCacheSize = 4096;

  // Loads and checks `certificate_file` and `key_file` and builds the context. Errors as above.
  static storage::Result<std::unique_ptr<TlsContext>> Create(const std::string& certificate_file,
                                                             const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // For Poco::Net::SecureServerSocket(port, backlog, context()).
  Poco::Net::Context::Ptr context() const { return context_; }

  // Reads the files again (the paths given to Create) and makes them the current pair if they
  // are good; otherwise keeps the old pair and returns the error.
  storage::Status Reload();

  const std::string& certificate_file() const { return certificate_file_; }
  const std::string& key_file() const { return key_file_; }

  // The current certificate's subject, one line (e.g. "CN = localhost"), for the log.
  std::string CurrentSubject() const;

  struct KeyPairSlot;  // the current pair under its mutex (tls_context.cc)

 private:
  TlsContext() = default;
  std::string certificate_file_;
  std::string key_file_;
  Poco::Net::Context::Ptr context_;
  std::shared_ptr<KeyPairSlot> slot_;
};

// The --tls-cert / --tls-key options at start-up: both empty is plain HTTP (null context);
// exactly one given is kInvalidArgument ("--tls-cert and --tls-key go together"); otherwise
// TlsContext::Create's result. The app exits 78 (EX_CONFIG) on an error, logging its message.
storage::Result<std::unique_ptr<TlsContext>> TlsContextForOptions(const std::string& tls_cert,
                                                                  const std::string& tls_key);

}  // namespace keepdav::server
