#include "server/processing_policy.h"

#include <gtest/gtest.h>

namespace keepdav::server {
namespace {

ProcessingPolicy Make(const std::string& mode,
                      const std::string& rules = ProcessingPolicy::DefaultClientRules(),
                      int max = -1) {
  auto p = ProcessingPolicy::Create(mode, rules, max);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.value();
}

TEST(ProcessingPolicyTest, AutoFollowsTheMeasuredClientLimits) {
  ProcessingPolicy p = Make("auto");
  EXPECT_EQ(p.Allowed("python-requests/2.31.0", false), 0);
  EXPECT_EQ(p.Allowed("Python-urllib/3.11", false), 0);
  EXPECT_EQ(p.Allowed("Go-http-client/1.1", false), 5);
  EXPECT_EQ(p.Allowed("rclone/v1.60.1-DEV", false), 5);
  EXPECT_EQ(p.Allowed("cadaver/0.23.3 neon/0.32.5", false), 120);
  EXPECT_EQ(p.Allowed("davfs2/1.6.1 neon/0.32.5", false), 120);
  EXPECT_EQ(p.Allowed("litmus/0.13 neon/0.32.5", false), 120);
  EXPECT_EQ(p.Allowed("curl/7.88.1", false), ProcessingPolicy::kUnlimited);
  EXPECT_EQ(p.Allowed("node", false), ProcessingPolicy::kUnlimited);
  EXPECT_EQ(p.Allowed("undici", false), ProcessingPolicy::kUnlimited);
  EXPECT_EQ(p.Allowed("", false), 0);
  EXPECT_EQ(p.Allowed("Microsoft-WebDAV-MiniRedir/10.0.19045", false), 0);
}

TEST(ProcessingPolicyTest, NeverAnInterimResponseToHttp10) {
  EXPECT_EQ(Make("auto").Allowed("curl/7.88.1", true), 0);
  EXPECT_EQ(Make("always").Allowed("curl/7.88.1", true), 0);
}

TEST(ProcessingPolicyTest, AlwaysAndNever) {
  EXPECT_EQ(Make("always").Allowed("python-requests/2", false), ProcessingPolicy::kUnlimited);
  EXPECT_EQ(Make("never").Allowed("curl/7.88.1", false), 0);
}

TEST(ProcessingPolicyTest, GlobalCapLimitsEveryClient) {
  ProcessingPolicy p = Make("auto", ProcessingPolicy::DefaultClientRules(), 3);
  EXPECT_EQ(p.Allowed("curl/7.88.1", false), 3);
  EXPECT_EQ(p.Allowed("Go-http-client/1.1", false), 3);
  EXPECT_EQ(p.Allowed("python-requests/2", false), 0);
  EXPECT_EQ(Make("always", "", 7).Allowed("x", false), 7);
}

TEST(ProcessingPolicyTest, FirstMatchingRuleWinsCaseInsensitively) {
  ProcessingPolicy p = Make("auto", " Neon = 2 , cadaver=9, *=1");
  EXPECT_EQ(p.Allowed("cadaver/0.23 NEON/0.32", false), 2);
  EXPECT_EQ(p.Allowed("other", false), 1);
}

TEST(ProcessingPolicyTest, RejectsBadSettings) {
  EXPECT_FALSE(ProcessingPolicy::Create("sometimes", "", -1).ok());
  EXPECT_FALSE(ProcessingPolicy::Create("auto", "curl", -1).ok());
  EXPECT_FALSE(ProcessingPolicy::Create("auto", "curl=x", -1).ok());
  EXPECT_FALSE(ProcessingPolicy::Create("auto", "=3", -1).ok());
  EXPECT_FALSE(ProcessingPolicy::Create("auto", "curl=-2", -1).ok());
}

}  // namespace
}  // namespace keepdav::server
