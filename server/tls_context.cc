#include "server/tls_context.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <Poco/Exception.h>

#include <cerrno>
#include <mutex>
#include <utility>

#include "server/tls_wire.h"

namespace keepdav::server {

using storage::Result;
using storage::Status;

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

// One certificate (with its chain) and its private key, immutable once loaded.
struct KeyPair {
  std::unique_ptr<X509, X509Free> leaf;
  std::unique_ptr<STACK_OF(X509), ChainFree> chain;
  std::unique_ptr<EVP_PKEY, KeyFree> key;
};

// A certificate or key file is a few KiB; a chain of ten is still far below this.
constexpr size_t kMaxPemFileBytes = 1 << 20;

// Never prompt on the terminal for a passphrase (OpenSSL's default for an encrypted key).
int NoPassphrase(char*, int, int, void*) {
  return 0;
}

// The oldest queued OpenSSL error as text (and the queue cleared), or "" when there is none.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return std::string(" (") + text + ")";
}

Result<std::string> ReadPemFile(const std::string& path, const char* what) {
  const std::string context = std::string("cannot read the TLS ") + what + " file " + path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, context);
  std::string data;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, context);
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > kMaxPemFileBytes) {
      ::close(fd);
      return Status::InvalidArgument(context + ": larger than 1 MiB, not a PEM " + what);
    }
  }
  ::close(fd);
  return data;
}

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& data) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// The leaf certificate, then every further certificate in the file as the chain. PEM blocks
// of other types (a key in a combined file) are skipped by OpenSSL's reader.
Status ParseCertificates(const std::string& data, const std::string& path, KeyPair* pair) {
  auto bio = MemoryBio(data);
  ERR_clear_error();
  pair->leaf.reset(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pair->leaf) {
    return Status::InvalidArgument("no PEM certificate in the TLS certificate file " + path +
                                   OpenSslError());
  }
  pair->chain.reset(sk_X509_new_null());
  while (X509* next = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    sk_X509_push(pair->chain.get(), next);
  }
  // The reader stops with "no start line" at the end of the file; anything else is a broken
  // block (bad base64, a truncated certificate).
  unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    return Status::Ok();
  }
  return Status::InvalidArgument("the certificate chain in the TLS certificate file " + path +
                                 " does not parse after certificate " +
                                 std::to_string(1 + sk_X509_num(pair->chain.get())) +
                                 OpenSslError());
}

Result<std::shared_ptr<const KeyPair>> LoadKeyPair(const std::string& certificate_file,
                                                   const std::string& key_file) {
  Result<std::string> certificate_pem = ReadPemFile(certificate_file, "certificate");
  if (!certificate_pem.ok()) return certificate_pem.status();
  Result<std::string> key_pem = ReadPemFile(key_file, "key");
  if (!key_pem.ok()) return key_pem.status();
  auto pair = std::make_shared<KeyPair>();
  Status parsed = ParseCertificates(*certificate_pem, certificate_file, pair.get());
  if (!parsed.ok()) return parsed;
  auto bio = MemoryBio(*key_pem);
  ERR_clear_error();
  pair->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pair->key) {
    return Status::InvalidArgument("no readable private key in the TLS key file " + key_file +
                                   " (not PEM, or encrypted: keepdav needs an unencrypted key)" +
                                   OpenSslError());
  }
  if (X509_check_private_key(pair->leaf.get(), pair->key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("the private key in " + key_file +
                                   " does not match the certificate in " + certificate_file);
  }
  return std::shared_ptr<const KeyPair>(std::move(pair));
}

std::string SubjectOf(X509* certificate) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_ONELINE);
  char* text = nullptr;
  long length = BIO_get_mem_data(bio.get(), &text);
  return std::string(text, static_cast<size_t>(length));
}

}  // namespace

struct TlsContext::KeyPairSlot {
  std::shared_ptr<const KeyPair> Current() const {
    std::lock_guard<std::mutex> lock(mutex);
    return pair;
  }
  void Replace(std::shared_ptr<const KeyPair> next) {
    std::lock_guard<std::mutex> lock(mutex);
    pair = std::move(next);
  }
  mutable std::mutex mutex;
  std::shared_ptr<const KeyPair> pair;
};

namespace {

// The SSL_CTX owns a reference to the slot (ex_data), so a handshake on a socket that outlives
// the TlsContext still finds it.
void FreeSlotReference(void*, void* reference, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::shared_ptr<TlsContext::KeyPairSlot>*>(reference);
}

int SlotIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeSlotReference);
  return index;
}

// SSL_CTX_set_cert_cb: runs on the handshake's thread for each ClientHello, before the cipher
// is chosen; gives this connection the pair that is current now.
int UseCurrentPair(SSL* ssl, void* slot) {
  std::shared_ptr<const KeyPair> pair = static_cast<TlsContext::KeyPairSlot*>(slot)->Current();
  if (!pair) return 0;
  return SSL_use_cert_and_key(ssl, pair->leaf.get(), pair->key.get(), pair->chain.get(), 1) == 1
             ? 1
             : 0;
}

}  // namespace

Result<std::unique_ptr<TlsContext>> TlsContext::Create(const std::string& certificate_file,
                                                       const std::string& key_file) {
  Result<std::shared_ptr<const KeyPair>> pair = LoadKeyPair(certificate_file, key_file);
  if (!pair.ok()) return pair.status();
  std::unique_ptr<TlsContext> tls(new TlsContext());
  tls->certificate_file_ = certificate_file;
  tls->key_file_ = key_file;
  tls->slot_ = std::make_shared<KeyPairSlot>();
  tls->slot_->Replace(std::move(pair.value()));
  try {
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;  // no client certificates
    params.loadDefaultCAs = false;
    params.cipherList = kTls12Ciphers;
    params.ecdhCurve = kGroups;
    tls->context_ = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    tls->context_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    tls->context_->preferServerCiphers();
    tls->context_->enableSessionCache(true, "keepdav");
    // OpenSSL's default cache holds 20,480 sessions; this bounds it near 2 MiB.
    tls->context_->setSessionCacheSize(kSessionCacheSize);
    tls->context_->disableStatelessSessionResumption();
  } catch (const Poco::Exception& e) {
    return Status::IoError("cannot set up TLS: " + e.displayText());
  }
  SSL_CTX* ctx = tls->context_->sslContext();
  if (SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) {
    return Status::IoError("cannot set the TLS 1.3 suites" + OpenSslError());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // An idle keep-alive connection then holds no 34 KiB of read and write buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_ex_data(ctx, SlotIndex(), new std::shared_ptr<KeyPairSlot>(tls->slot_));
  SSL_CTX_set_cert_cb(ctx, UseCurrentPair, tls->slot_.get());
  // For the lingering close's close_notify (tls_wire.h).
  TlsWire::TrackConnections(ctx);
  return tls;
}

TlsContext::~TlsContext() = default;

Status TlsContext::Reload() {
  Result<std::shared_ptr<const KeyPair>> pair = LoadKeyPair(certificate_file_, key_file_);
  if (!pair.ok()) return pair.status();
  slot_->Replace(std::move(pair.value()));
  return Status::Ok();
}

std::string TlsContext::CurrentSubject() const {
  return SubjectOf(slot_->Current()->leaf.get());
}

Result<std::unique_ptr<TlsContext>> TlsContextForOptions(const std::string& tls_cert,
                                                         const std::string& tls_key) {
  if (tls_cert.empty() && tls_key.empty()) return std::unique_ptr<TlsContext>();
  if (tls_cert.empty() || tls_key.empty()) {
    return Status::InvalidArgument(
        "--tls-cert and --tls-key go together: give both (HTTPS) or neither (HTTP), not only " +
        std::string(tls_cert.empty() ? "--tls-key" : "--tls-cert"));
  }
  return TlsContext::Create(tls_cert, tls_key);
}

}  // namespace keepdav::server
