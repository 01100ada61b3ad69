// Small helpers shared by the storage tests: parsing a ResourcePath that must be valid, and
// writing or reading a file behind the storage layer's back, and reading an open ReadableFile.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "storage/file_system.h"
#include "storage/resource_path.h"

namespace keepdav::storage::test_support {

// The path `s`, which the test expects to be valid (a failed expectation otherwise).
inline ResourcePath P(std::string_view s) {
  Result<ResourcePath> r = ResourcePath::Parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? r.value() : ResourcePath();
}

inline void WriteFile(const std::filesystem::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The whole of `f`, read in small pieces on purpose (several ReadAt calls per file).
inline std::string ReadAll(ReadableFile& f) {
  std::string out;
  char buf[7];
  for (;;) {
    Result<size_t> n = f.ReadAt(out.size(), buf, sizeof(buf));
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) return out;
    out.append(buf, *n);
  }
}

}  // namespace keepdav::storage::test_support
