// Small helpers shared by the storage tests: parsing a ResourcePath that must be valid, and
// writing or reading a file behind the storage layer's back.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

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

}  // namespace keepdav::storage::test_support
