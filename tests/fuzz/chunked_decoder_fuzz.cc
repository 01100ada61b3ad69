// Fuzz target: server/chunked_decoder.h.
//
// The first input byte picks the mode and the most the source hands over per read (a socket's
// short reads), the second the largest piece a Read asks for.
//   Round trip (even first byte): the rest of the input is a body; it is chunk-encoded with chunk
//     sizes, hex case, chunk extensions, bare-LF line ends and trailer fields chosen from the
//     input, followed by a pipelined request. Decoding must give the body back byte for byte, end
//     with done(), and leave the source exactly at the pipelined request.
//   Raw decode (odd first byte): the rest is fed to the decoder as it is. Each Read returns at
//     most what was asked, the decoded total never exceeds the input, 0 and -1 are final, -1
//     always carries a reason, and the answer does not depend on the piece sizes (decoding again
//     with pieces and reads of 1 byte gives the same bytes and the same ending).
#include <algorithm>
#include <string>
#include <string_view>

#include "server/chunked_decoder.h"
#include "tests/fuzz/fuzz_check.h"

namespace keepdav::fuzz {
namespace {

using server::ChunkedDecoder;

class StringSource : public ChunkedDecoder::Source {
 public:
  // `max_read`: the most one Read hands over, as a socket gives what has arrived.
  StringSource(std::string_view bytes, size_t max_read) : bytes_(bytes), max_read_(max_read) {}
  int Get() override {
    return pos_ < bytes_.size() ? static_cast<unsigned char>(bytes_[pos_++]) : -1;
  }
  long Read(char* dst, size_t max) override {
    size_t n = std::min({max, max_read_, bytes_.size() - pos_});
    std::copy_n(bytes_.data() + pos_, n, dst);
    pos_ += n;
    return n == 0 ? 0 : static_cast<long>(n);
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t max_read_;
  size_t pos_ = 0;
};

struct Decoded {
  std::string body;
  long last = 0;  // 0: the end of the body; -1: an error
  std::string error;
  size_t consumed = 0;
};

Decoded Decode(std::string_view encoded, size_t piece, size_t max_read) {
  StringSource source(encoded, max_read);
  ChunkedDecoder decoder(source);
  Decoded out;
  std::string buf(piece, '\0');
  for (;;) {
    long n = decoder.Read(buf.data(), piece);
    if (!FUZZ_CHECK(n >= -1 && n <= static_cast<long>(piece),
                    "Read returned " + std::to_string(n) + " for " + std::to_string(piece))) {
      out.last = -1;
      break;
    }
    if (n <= 0) {
      out.last = n;
      break;
    }
    out.body.append(buf.data(), static_cast<size_t>(n));
    if (!FUZZ_CHECK(out.body.size() <= encoded.size(), "decoded more than the input")) break;
  }
  out.error = decoder.error();
  out.consumed = source.pos();
  // The ending is final.
  FUZZ_CHECK(decoder.Read(buf.data(), piece) == out.last, "a second Read changed the ending");
  FUZZ_CHECK(decoder.done() == (out.last == 0), "done() disagrees with the ending");
  FUZZ_CHECK((out.last == -1) == !out.error.empty(), "error() empty on -1, or set on success");
  return out;
}

// A deterministic stream of choices drawn from the fuzz input.
class Choices {
 public:
  explicit Choices(std::string_view bytes) : bytes_(bytes) {}
  unsigned Next() {
    if (bytes_.empty()) return 0;
    return static_cast<unsigned char>(bytes_[pos_++ % bytes_.size()]);
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

std::string Hex(size_t n, bool upper, unsigned leading_zeros) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[n % 16]);
    n /= 16;
  } while (n);
  return std::string(leading_zeros, '0') + out;
}

std::string Encode(std::string_view body, Choices& choose) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    unsigned c = choose.Next();
    size_t len = std::min<size_t>(body.size() - pos, 1 + (c % 64) * (c & 0x80 ? 37 : 1));
    const char* eol = c & 0x40 ? "\n" : "\r\n";
    out += Hex(len, c & 0x20, c & 0x10 ? 2 : 0);
    if (c & 0x08) out += ";ext=\"v\"";
    if (c & 0x04) out += " ; name";
    out += eol;
    out.append(body.substr(pos, len));
    out += "\r\n";
    pos += len;
  }
  unsigned c = choose.Next();
  out += c & 0x01 ? "0;last" : "0";
  out += "\r\n";
  for (unsigned t = 0; t < (c >> 1) % 4; ++t) out += "X-Trailer-" + std::to_string(t) + ": v\r\n";
  out += c & 0x40 ? "\n" : "\r\n";
  return out;
}

}  // namespace
}  // namespace keepdav::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keepdav::fuzz;
  if (size < 2) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  bool round_trip = (data[0] & 1) == 0;
  size_t piece = 1 + data[1] % 97;
  size_t max_read = 1 + (data[0] >> 1) % 61;
  std::string_view rest = input.substr(2);

  if (round_trip) {
    Choices choose(rest);
    const std::string pipelined = "GET /next HTTP/1.1\r\n\r\n";
    std::string encoded = Encode(rest, choose);
    size_t body_end = encoded.size();
    encoded += pipelined;
    Decoded d = Decode(encoded, piece, max_read);
    FUZZ_CHECK(d.last == 0, "a valid encoding failed: " + d.error + " in " + Printable(encoded));
    FUZZ_CHECK(d.body == rest, "decoded " + Printable(d.body) + " from " + Printable(encoded));
    FUZZ_CHECK(d.consumed == body_end, "stopped at " + std::to_string(d.consumed) + " not " +
                                           std::to_string(body_end) + " in " + Printable(encoded));
    return 0;
  }

  Decoded d = Decode(rest, piece, max_read);
  FUZZ_CHECK(d.consumed <= rest.size(), "consumed past the input");
  if (piece != 1 || max_read != 1) {
    Decoded one = Decode(rest, 1, 1);
    FUZZ_CHECK(one.last == d.last && one.body == d.body && one.consumed == d.consumed,
               "the piece size changed the answer for " + Printable(rest));
  }
  return 0;
}
