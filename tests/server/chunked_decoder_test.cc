#include "server/chunked_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace keepdav::server {
namespace {

// Serves `data`, handing out at most `piece` bytes per Read, and counts what was consumed.
class StringSource : public ChunkedDecoder::Source {
 public:
  explicit StringSource(std::string data, size_t piece = 1 << 20)
      : data_(std::move(data)), piece_(piece) {}
  int Get() override {
    return pos_ < data_.size() ? static_cast<unsigned char>(data_[pos_++]) : -1;
  }
  long Read(char* dst, size_t max) override {
    size_t n = std::min({max, piece_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, n, dst);
    pos_ += n;
    return static_cast<long>(n);
  }
  std::string rest() const { return data_.substr(pos_); }

 private:
  std::string data_;
  size_t piece_;
  size_t pos_ = 0;
};

struct Decoded {
  std::string body;
  long last = 0;  // 0: ended cleanly, -1: failed
  std::string error;
};

Decoded DecodeAll(ChunkedDecoder::Source& source, size_t read_size = 7) {
  ChunkedDecoder decoder(source);
  Decoded out;
  char buf[64];
  for (int guard = 0; guard < 100000; ++guard) {
    long n = decoder.Read(buf, std::min(read_size, sizeof buf));
    if (n <= 0) {
      out.last = n;
      out.error = decoder.error();
      EXPECT_EQ(decoder.Read(buf, sizeof buf), n) << "the outcome must be sticky";
      return out;
    }
    out.body.append(buf, static_cast<size_t>(n));
  }
  ADD_FAILURE() << "decoder did not finish";
  return out;
}

struct Case {
  const char* name;
  std::string encoded;
  long last;
  std::string body;  // when last == 0
};

TEST(ChunkedDecoderTest, Table) {
  static const char kBinary[] = "4\r\n\r\n\0\n\r\n0\r\n\r\n";
  std::vector<Case> cases = {
      {"rfc example", "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", 0, "Wikipedia"},
      {"empty body", "0\r\n\r\n", 0, ""},
      {"upper and lower hex", "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", 0,
       "0123456789abcdefghij"},
      {"leading zeros", "0004\r\nabcd\r\n000\r\n\r\n", 0, "abcd"},
      {"extensions ignored", "3;name=value;x\r\nabc\r\n0;end\r\n\r\n", 0, "abc"},
      {"bare LF accepted", "3\nabc\n0\n\n", 0, "abc"},
      {"trailer fields dropped", "2\r\nhi\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n", 0, "hi"},
      {"binary data with CRLF inside", std::string(kBinary, sizeof kBinary - 1), 0,
       std::string("\r\n\0\n", 4)},
      // Cut off: each of these is what a connection that closed early leaves behind.
      {"nothing at all", "", -1, ""},
      {"closed on a chunk boundary", "4\r\nWiki\r\n", -1, ""},
      {"closed inside the size line", "4\r\nWiki\r\n5", -1, ""},
      {"closed inside data", "9\r\nWiki", -1, ""},
      {"closed before the data's CRLF", "4\r\nWiki", -1, ""},
      {"closed after the last chunk", "4\r\nWiki\r\n0\r\n", -1, ""},
      {"closed inside the trailer", "0\r\nX: 1\r\n", -1, ""},
      // Malformed.
      {"no size", "\r\nabc\r\n0\r\n\r\n", -1, ""},
      {"not hex", "g\r\nabc\r\n0\r\n\r\n", -1, ""},
      {"negative", "-1\r\n", -1, ""},
      {"sign", "+3\r\nabc\r\n0\r\n\r\n", -1, ""},
      {"data longer than size", "2\r\nabc\r\n0\r\n\r\n", -1, ""},
      {"size overflows 64 bits", "10000000000000000\r\n", -1, ""},
      {"size line too long", "1;" + std::string(ChunkedDecoder::kMaxLine, 'x') + "\r\na\r\n", -1,
       ""},
  };
  std::string big_trailer = "0\r\n";
  while (big_trailer.size() < ChunkedDecoder::kMaxTrailer + 100) {
    big_trailer += "X-Long: " + std::string(1000, 'v') + "\r\n";
  }
  cases.push_back({"trailer too large", big_trailer + "\r\n", -1, ""});
  for (const Case& c : cases) {
    const std::string& encoded = c.encoded;
    for (size_t read_size : {1, 3, 64}) {
      StringSource source(encoded, 2);
      Decoded d = DecodeAll(source, read_size);
      EXPECT_EQ(d.last, c.last) << c.name << " read_size " << read_size;
      if (c.last == 0) {
        EXPECT_EQ(d.body, c.body) << c.name;
      } else {
        EXPECT_FALSE(d.error.empty()) << c.name;
      }
    }
  }
}

// Nothing past the body is consumed: a pipelined request behind it stays for the next parse.
TEST(ChunkedDecoderTest, StopsExactlyAtTheEndOfTheBody) {
  StringSource source("5\r\nhello\r\n0\r\nTrailer: x\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  Decoded d = DecodeAll(source, 64);
  EXPECT_EQ(d.last, 0);
  EXPECT_EQ(d.body, "hello");
  EXPECT_EQ(source.rest(), "GET / HTTP/1.1\r\n\r\n");
}

// Data reads never ask the source for more than the current chunk holds.
TEST(ChunkedDecoderTest, ReadsNoMoreThanTheChunk) {
  StringSource source("3\r\nabc\r\n0\r\n\r\nNEXT");
  ChunkedDecoder decoder(source);
  char buf[100];
  EXPECT_EQ(decoder.Read(buf, sizeof buf), 3);
  EXPECT_EQ(source.rest(), "\r\n0\r\n\r\nNEXT");
  EXPECT_EQ(decoder.Read(buf, sizeof buf), 0);
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(source.rest(), "NEXT");
}

TEST(ChunkedDecoderTest, LargeChunksInManyPieces) {
  std::string body;
  std::string encoded;
  for (size_t size : {1u, 4095u, 4096u, 65537u, 300000u}) {
    std::string chunk(size, '\0');
    for (size_t i = 0; i < size; ++i) chunk[i] = static_cast<char>((i * 131 + size) & 0xff);
    char line[32];
    std::snprintf(line, sizeof line, "%zx\r\n", size);
    encoded += line + chunk + "\r\n";
    body += chunk;
  }
  encoded += "0\r\n\r\n";
  StringSource source(encoded, 1000);
  Decoded d = DecodeAll(source, 64);
  EXPECT_EQ(d.last, 0);
  EXPECT_EQ(d.body, body);
}

}  // namespace
}  // namespace keepdav::server
