#include "server/access_log.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace keepdav::server {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keepdav-accesslog-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

AccessRecord Sample() {
  AccessRecord r;
  r.client = "192.0.2.7";
  r.user = "alice";
  r.start_us = 1764688847123456;  // 2025-12-02T15:20:47.123456Z
  r.method = "PUT";
  r.target = "/notes/a.md";
  r.version = "HTTP/1.1";
  r.status = 201;
  r.body_bytes = 0;
  r.duration_us = 5123;
  return r;
}

TEST(AccessLogFormatTest, CombinedLogFormatPlusMicroseconds) {
  AccessRecord r = Sample();
  std::string referer = "https://app.keeweb.info/";
  std::string agent = "rclone/v1.60.1";
  r.referer = &referer;
  r.user_agent = &agent;
  std::string line;
  AccessLog::Format(r, &line);
  EXPECT_EQ(line,
            "192.0.2.7 - alice [02/Dec/2025:15:20:47 +0000] \"PUT /notes/a.md HTTP/1.1\" 201 - "
            "\"https://app.keeweb.info/\" \"rclone/v1.60.1\" 5123\n");
}

TEST(AccessLogFormatTest, AbsentFieldsAreDashes) {
  AccessRecord r = Sample();
  r.user = "";
  r.status = 200;
  r.body_bytes = 4096;
  std::string line;
  AccessLog::Format(r, &line);
  EXPECT_EQ(line,
            "192.0.2.7 - - [02/Dec/2025:15:20:47 +0000] \"PUT /notes/a.md HTTP/1.1\" 200 4096 "
            "\"-\" \"-\" 5123\n");
}

// Apache's ap_escape_logitem: a hostile request cannot forge a line or a field.
TEST(AccessLogFormatTest, HostileBytesAreEscapedAsApacheDoes) {
  AccessRecord r = Sample();
  std::string agent = "evil\"agent\\ \n192.0.2.1 - root [x] \"GET / HTTP/1.1\" 200";
  std::string referer("a\x01\x7f\xc3\xa9\tb\r\x1b[31m", 13);
  r.user = "bob\"\n";
  std::string target("/a\"b\0c", 6);
  r.target = target;
  r.referer = &referer;
  r.user_agent = &agent;
  std::string line;
  AccessLog::Format(r, &line);
  EXPECT_EQ(
      line,
      "192.0.2.7 - bob\\\"\\n [02/Dec/2025:15:20:47 +0000] \"PUT /a\\\"b\\x00c HTTP/1.1\" 201 - "
      "\"a\\x01\\x7f\\xc3\\xa9\\tb\\r\\x1b[31m\" "
      "\"evil\\\"agent\\\\ \\n192.0.2.1 - root [x] \\\"GET / HTTP/1.1\\\" 200\" 5123\n");
  // One line only: the newline inside the fields did not end it.
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST_F(AccessLogTest, AppendsToAnExistingFile) {
  std::string path = dir_ + "/access.log";
  std::ofstream(path) << "old line\n";
  auto log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  (*log)->Write(Sample());
  std::vector<std::string> lines = Lines(Slurp(path));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "old line");
  EXPECT_EQ(lines[1].substr(0, 16), "192.0.2.7 - alic");
}

TEST_F(AccessLogTest, AnUnopenableFileIsAnErrorNamingIt) {
  auto log = AccessLog::Open(dir_ + "/missing-dir/access.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("missing-dir/access.log"), std::string::npos);
  EXPECT_NE(log.status().message().find("No such file"), std::string::npos);
}

// logrotate: rename the file, reopen, and the next line lands in a new file of the same name.
TEST_F(AccessLogTest, ReopenAfterRenameWritesToTheNewFile) {
  std::string path = dir_ + "/access.log";
  auto log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok());
  AccessRecord r = Sample();
  r.target = "/before";
  (*log)->Write(r);
  ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
  r.target = "/between";
  (*log)->Write(r);  // still the renamed file, as Apache until its reload
  ASSERT_TRUE((*log)->Reopen().ok());
  r.target = "/after";
  (*log)->Write(r);
  std::string rotated = Slurp(path + ".1");
  std::string fresh = Slurp(path);
  EXPECT_NE(rotated.find("/before"), std::string::npos);
  EXPECT_NE(rotated.find("/between"), std::string::npos);
  EXPECT_EQ(rotated.find("/after"), std::string::npos);
  EXPECT_EQ(Lines(fresh).size(), 1u);
  EXPECT_NE(fresh.find("/after"), std::string::npos);
}

TEST_F(AccessLogTest, AFailedReopenKeepsTheOldFile) {
  std::string sub = dir_ + "/logs";
  std::filesystem::create_directory(sub);
  std::string path = sub + "/access.log";
  auto log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok());
  std::filesystem::rename(sub, dir_ + "/moved");  // the path's directory is gone
  storage::Status reopened = (*log)->Reopen();
  EXPECT_FALSE(reopened.ok());
  EXPECT_NE(reopened.message().find(path), std::string::npos);
  (*log)->Write(Sample());
  EXPECT_EQ(Lines(Slurp(dir_ + "/moved/access.log")).size(), 1u);
}

// One write(2) per line on O_APPEND: lines from many threads, reopened meanwhile, never mix.
TEST_F(AccessLogTest, ConcurrentWritersAndReopensNeverInterleaveLines) {
  std::string path = dir_ + "/access.log";
  auto log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok());
  constexpr int kThreads = 8;
  constexpr int kLines = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string agent(200 + t * 50, static_cast<char>('a' + t));
      std::string target = "/thread" + std::to_string(t);
      for (int i = 0; i < kLines; ++i) {
        AccessRecord r = Sample();
        r.target = target;
        r.user_agent = &agent;
        r.duration_us = i;
        (*log)->Write(r);
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    std::rename(path.c_str(), (path + "." + std::to_string(i)).c_str());
    ASSERT_TRUE((*log)->Reopen().ok());
  }
  for (auto& th : threads) th.join();
  size_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    for (const std::string& line : Lines(Slurp(entry.path().string()))) {
      ++total;
      // Each line is exactly one thread's: its target and its agent letter, whole.
      size_t at = line.find("/thread");
      ASSERT_NE(at, std::string::npos) << line;
      int t = line[at + 7] - '0';
      ASSERT_GE(t, 0);
      ASSERT_LT(t, kThreads);
      std::string agent = "\"" + std::string(200 + t * 50, static_cast<char>('a' + t)) + "\"";
      EXPECT_NE(line.find(agent), std::string::npos) << line.substr(0, 120);
    }
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kLines));
}

}  // namespace
}  // namespace keepdav::server
