#include "server/option_table.h"

#include <gtest/gtest.h>

#include <set>

namespace keepdav::server {
namespace {

TEST(OptionTableTest, NamesAreUniqueAndEveryOptionCanBeFound) {
  std::set<std::string> names;
  for (const OptionDefinition& option : OptionTable()) {
    EXPECT_TRUE(names.insert(option.name).second) << option.name;
    EXPECT_EQ(FindOption(option.name), &option);
    EXPECT_FALSE(option.description.empty()) << option.name;
  }
  EXPECT_EQ(FindOption("read_only"), nullptr);
}

TEST(OptionTableTest, DefaultsAreTheFieldsOfADefaultConstructedConfig) {
  const ServerConfig defaults;
  EXPECT_EQ(DefaultText(*FindOption("port")), std::to_string(defaults.port));
  EXPECT_EQ(DefaultText(*FindOption("bind")), defaults.bind);
  EXPECT_EQ(DefaultText(*FindOption("max-request-head")),
            std::to_string(defaults.max_request_head));
  EXPECT_EQ(DefaultText(*FindOption("max-locks")), std::to_string(defaults.dav.locks.max_locks));
  EXPECT_EQ(DefaultText(*FindOption("read-only")), "off");
  EXPECT_EQ(DefaultText(*FindOption("fsync")), "false");
  EXPECT_EQ(DefaultText(*FindOption("processing-first-ms")), "the interval");
  EXPECT_EQ(DefaultText(*FindOption("processing-clients")), "built in");
  EXPECT_EQ(DefaultText(*FindOption("root")), "");
}

TEST(OptionTableTest, AppliedDefaultsLeaveTheConfigUnchanged) {
  // Every option applied with the value --help shows as its default (where that is a value)
  // gives back a default-constructed config: the printed defaults are the real ones.
  KeepdavOptions options;
  for (const OptionDefinition& option : OptionTable()) {
    std::string text = DefaultText(option);
    if (text.empty() || text == "the interval" || text == "built in" || text[0] == '$') continue;
    if (text == "off") text = "false";
    ASSERT_TRUE(option.apply(text, &options).ok()) << option.name << "=" << text;
  }
  const KeepdavOptions defaults;
  EXPECT_EQ(options.server.port, defaults.server.port);
  EXPECT_EQ(options.server.max_request_head, defaults.server.max_request_head);
  EXPECT_EQ(options.server.dav.xml.max_body_bytes, defaults.server.dav.xml.max_body_bytes);
  EXPECT_EQ(options.server.processing.interval_ms, defaults.server.processing.interval_ms);
  EXPECT_EQ(options.log_level, defaults.log_level);
}

TEST(OptionTableTest, NumbersOutOfRangeNameTheOptionAndTheRange) {
  KeepdavOptions options;
  const OptionDefinition& port = *FindOption("port");
  for (const char* bad : {"70000", "-1", "65536", "", "8o80"}) {
    storage::Status s = port.apply(bad, &options);
    EXPECT_EQ(s.code(), storage::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("--port must be an integer from 0 to 65535"), std::string::npos)
        << s.message();
  }
  EXPECT_TRUE(port.apply("0", &options).ok());
  EXPECT_TRUE(port.apply("65535", &options).ok());
  EXPECT_EQ(options.server.port, 65535);
  EXPECT_TRUE(port.apply("0x1F90", &options).ok());  // Poco's getInt took hex too
  EXPECT_EQ(options.server.port, 8080);
}

TEST(OptionTableTest, EmptyClientRulesKeepTheBuiltInList) {
  KeepdavOptions options;
  const OptionDefinition& clients = *FindOption("processing-clients");
  ASSERT_TRUE(clients.apply("", &options).ok());
  EXPECT_EQ(DefaultText(clients), "built in");
  EXPECT_EQ(options.server.processing.client_rules,
            KeepdavOptions().server.processing.client_rules);
  ASSERT_TRUE(clients.apply("curl=-1,*=0", &options).ok());
  EXPECT_EQ(options.server.processing.client_rules, "curl=-1,*=0");
}

TEST(OptionTableTest, NearestOptionForATypo) {
  EXPECT_EQ(NearestOption("read_only").name, "read-only");
  EXPECT_EQ(NearestOption("post").name, "port");
  EXPECT_EQ(NearestOption("max-lock").name, "max-locks");
}

}  // namespace
}  // namespace keepdav::server
