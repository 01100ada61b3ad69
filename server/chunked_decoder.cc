#include "server/chunked_decoder.h"

#include <algorithm>

namespace keepdav::server {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

long ChunkedDecoder::Read(char* dst, size_t max) {
  for (;;) {
    switch (state_) {
      case State::kDone:
        return 0;
      case State::kFailed:
        return -1;
      case State::kSize:
        if (!ReadSizeLine()) return -1;
        break;
      case State::kData: {
        long n = source_.Read(dst, static_cast<size_t>(std::min<uint64_t>(max, chunk_left_)));
        if (n <= 0) return Fail("the body ended inside a chunk");
        chunk_left_ -= static_cast<uint64_t>(n);
        if (chunk_left_ == 0) state_ = State::kDataEnd;
        return n;
      }
      case State::kDataEnd: {
        std::string line;
        if (!ReadLine(&line, 2) || !line.empty()) {
          return Fail(line.empty() ? "the body ended after a chunk's data"
                                   : "chunk data longer than its size");
        }
        state_ = State::kSize;
        break;
      }
      case State::kTrailer:
        if (!ReadTrailer()) return -1;
        state_ = State::kDone;
        return 0;
    }
  }
}

bool ChunkedDecoder::ReadLine(std::string* line, size_t max) {
  line->clear();
  for (;;) {
    int c = source_.Get();
    if (c < 0) return false;
    if (c == '\n') {
      if (!line->empty() && line->back() == '\r') line->pop_back();
      return true;
    }
    if (line->size() >= max) return false;
    line->push_back(static_cast<char>(c));
  }
}

// chunk-size [ chunk-ext ] CRLF, chunk-size = 1*HEXDIG.
bool ChunkedDecoder::ReadSizeLine() {
  std::string line;
  if (!ReadLine(&line, kMaxLine)) {
    Fail(line.size() >= kMaxLine ? "chunk-size line too long"
                                 : "the body ended before its last chunk");
    return false;
  }
  uint64_t size = 0;
  size_t i = 0;
  for (; i < line.size() && HexValue(line[i]) >= 0; ++i) {
    if (size >> 60) {
      Fail("chunk size too large");
      return false;
    }
    size = size * 16 + static_cast<uint64_t>(HexValue(line[i]));
  }
  if (i == 0 || (i < line.size() && line[i] != ';' && line[i] != ' ' && line[i] != '\t')) {
    Fail("malformed chunk-size line");
    return false;
  }
  chunk_left_ = size;
  state_ = size == 0 ? State::kTrailer : State::kData;
  return true;
}

// trailer-section = *( field-line CRLF ), then the final CRLF. Trailer fields are read and
// dropped: nothing keepdav does depends on them.
bool ChunkedDecoder::ReadTrailer() {
  size_t total = 0;
  std::string line;
  for (;;) {
    if (!ReadLine(&line, kMaxLine)) {
      Fail("the body ended inside the trailer");
      return false;
    }
    if (line.empty()) return true;
    total += line.size() + 2;
    if (total > kMaxTrailer) {
      Fail("trailer section too large");
      return false;
    }
  }
}

long ChunkedDecoder::Fail(const std::string& why) {
  state_ = State::kFailed;
  error_ = why;
  return -1;
}

}  // namespace keepdav::server
