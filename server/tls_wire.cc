#include "server/tls_wire.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocketImpl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace keepdav::server {

namespace {

// Descriptor -> the SSL* Poco made for the connection on it. An entry lives from the handshake's
// start until SSL_free (Poco's socket closing); a descriptor reused by a later connection gets
// that connection's SSL* at its handshake.
std::mutex& TrackedMutex() {
  static std::mutex* mutex = new std::mutex;  // never destroyed: used until exit
  return *mutex;
}
std::unordered_map<int, SSL*>& Tracked() {
  static auto* tracked = new std::unordered_map<int, SSL*>;
  return *tracked;
}

// The ex_data slot marks an SSL* as tracked and holds its descriptor + 1 (0: not tracked).
int TrackedIndex();

void ForgetOnFree(void* parent, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  if (ptr == nullptr) return;
  int fd = static_cast<int>(reinterpret_cast<intptr_t>(ptr)) - 1;
  std::lock_guard<std::mutex> lock(TrackedMutex());
  auto it = Tracked().find(fd);
  if (it != Tracked().end() && it->second == parent) Tracked().erase(it);
}

int TrackedIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, ForgetOnFree);
  return index;
}

void RecordHandshake(const SSL* ssl, int where, int /*ret*/) {
  if ((where & SSL_CB_HANDSHAKE_START) == 0) return;
  SSL* s = const_cast<SSL*>(ssl);
  int fd = SSL_get_fd(s);
  if (fd < 0 || SSL_get_ex_data(s, TrackedIndex()) != nullptr) return;
  SSL_set_ex_data(s, TrackedIndex(), reinterpret_cast<void*>(static_cast<intptr_t>(fd) + 1));
  std::lock_guard<std::mutex> lock(TrackedMutex());
  Tracked()[fd] = s;
}

SSL* TrackedSsl(int fd) {
  std::lock_guard<std::mutex> lock(TrackedMutex());
  auto it = Tracked().find(fd);
  return it == Tracked().end() ? nullptr : it->second;
}

}  // namespace

void TlsWire::TrackConnections(ssl_ctx_st* ctx) {
  TrackedIndex();
  SSL_CTX_set_info_callback(ctx, RecordHandshake);
}

void TlsWire::ShutdownSend() {
  // The wire's own thread is the only user of the SSL* now (the 102 watcher has finished), and
  // Poco frees it only when the connection ends, after this returns.
  if (SSL* ssl = TrackedSsl(fd());
      ssl != nullptr && (SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN) == 0) {
    // Once, not until the client's alert arrives (it is busy sending its body); Poco's close
    // sees SSL_SENT_SHUTDOWN and sends nothing more.
    ERR_clear_error();
    SSL_shutdown(ssl);
    ERR_clear_error();
  }
  ::shutdown(fd(), SHUT_WR);
}

std::unique_ptr<TlsWire> TlsWire::ForSocket(const Poco::Net::Socket& socket) {
  if (dynamic_cast<Poco::Net::SecureStreamSocketImpl*>(socket.impl()) == nullptr) return nullptr;
  // SecureStreamSocket(const Socket&) shares the implementation (and its SSL*).
  return std::make_unique<TlsWire>(Poco::Net::SecureStreamSocket(socket));
}

TlsWire::TlsWire(Poco::Net::SecureStreamSocket socket) : socket_(std::move(socket)) {}

int TlsWire::fd() const {
  return static_cast<int>(socket_.impl()->sockfd());
}

void TlsWire::SendAll(const char* data, size_t size) {
  try {
    while (size > 0) {
      int chunk = static_cast<int>(std::min<size_t>(size, 1 << 30));
      int sent = socket_.sendBytes(data, chunk);
      if (sent <= 0) throw std::runtime_error("TLS write: the connection is closed");
      data += sent;
      size -= static_cast<size_t>(sent);
    }
  } catch (const Poco::TimeoutException&) {
    throw std::runtime_error("TLS write: send timed out");
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("TLS write: " + e.displayText());
  }
}

void TlsWire::Write(const ::iovec* iov, int count, bool /*more*/) {
  // Gather small pieces (the response head, a small body, the first body bytes) into one
  // record; send what would overflow the record buffer directly.
  char gathered[kRecordBytes];
  size_t used = 0;
  for (int i = 0; i < count; ++i) {
    const char* piece = static_cast<const char*>(iov[i].iov_base);
    size_t left = iov[i].iov_len;
    while (left > 0) {
      if (used == 0 && left >= kRecordBytes) {
        // Whole records straight from the caller's memory; the rest is gathered.
        size_t whole = left - left % kRecordBytes;
        SendAll(piece, whole);
        piece += whole;
        left -= whole;
        continue;
      }
      size_t take = std::min(left, kRecordBytes - used);
      std::memcpy(gathered + used, piece, take);
      used += take;
      piece += take;
      left -= take;
      if (used == kRecordBytes) {
        SendAll(gathered, used);
        used = 0;
      }
    }
  }
  if (used > 0) SendAll(gathered, used);
}

bool TlsWire::SendFile(int file_fd, uint64_t offset, uint64_t length) {
  std::vector<char> piece(static_cast<size_t>(std::min<uint64_t>(length, kFilePieceBytes)));
  while (length > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(length, piece.size()));
    ssize_t n = ::pread(file_fd, piece.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // a read error, or the file shrank under us
    try {
      SendAll(piece.data(), static_cast<size_t>(n));
    } catch (const std::runtime_error&) {
      return false;
    }
    offset += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
  }
  return true;
}

long TlsWire::Read(char* dst, size_t max) {
  try {
    int n = socket_.receiveBytes(dst, static_cast<int>(std::min<size_t>(max, 1 << 30)));
    if (n >= 0) return n;
    errno = EAGAIN;  // a non-blocking socket in the middle of a handshake
    return -1;
  } catch (const Poco::TimeoutException&) {
    errno = EAGAIN;
    return -1;
  } catch (const Poco::Net::SSLConnectionUnexpectedlyClosedException&) {
    return 0;  // TCP closed without close_notify: the end of the stream, as over plain TCP
  } catch (const Poco::Exception&) {
    errno = ECONNRESET;
    return -1;
  }
}

}  // namespace keepdav::server
