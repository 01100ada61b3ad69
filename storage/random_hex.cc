#include "storage/random_hex.h"

#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <ctime>

namespace keepdav::storage {

std::string RandomHex() {
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof seed)) {
      static std::atomic<uint64_t> counter{0};
      seed = (static_cast<uint64_t>(::getpid()) << 32) ^ counter.fetch_add(1) ^
             static_cast<uint64_t>(::time(nullptr));
    }
    return seed | 1;
  }();
  // xorshift64*
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  uint64_t v = state * 0x2545F4914F6CDD1DULL;
  unsigned char bytes[8];
  for (unsigned char& b : bytes) {
    b = static_cast<unsigned char>(v);
    v >>= 8;
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(16);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

}  // namespace keepdav::storage
