#include "config/config.h"

#include <gtest/gtest.h>

namespace vantage::config {
namespace {

TEST(Config, EveryDefaultParses) {
  // parse("") applies every declared default through the same validation as user input.
  auto c = parse("", {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->data_dir, "var");
  EXPECT_EQ(c->batch_size, 8192);
  EXPECT_FALSE(c->reverse_dns);
  EXPECT_EQ(c->scan_ports.size(), 2u);
  EXPECT_EQ(c->mail_mode, "per-report");
}

TEST(Config, ReadsTomlAndEnvironmentOverrides) {
  auto c = parse(
      "[paths]\ndata_dir = \"/srv/vantage\"\n[scan]\ntargets = [\"127.0.0.0/8\"]\n"
      "[pipeline]\nbatch_size = 100\n",
      {"VANTAGE_PIPELINE_BATCH_SIZE=200", "VANTAGE_SCAN_PORTS=22,443", "OTHER=1"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->data_dir, "/srv/vantage");
  EXPECT_EQ(c->batch_size, 200);
  ASSERT_EQ(c->scan_targets.size(), 1u);
  EXPECT_EQ(c->scan_ports, (std::vector<std::string>{"22", "443"}));
}

TEST(Config, RejectsInvalidSettingsByName) {
  auto unknown = parse("[pipeline]\nbatch_sise = 1\n", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("pipeline.batch_sise"), std::string::npos);
  auto range = parse("[pipeline]\nbatch_size = 0\n", {});
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().message.find("pipeline.batch_size"), std::string::npos);
  auto type = parse("[enrich]\nreverse_dns = \"yes please\"\n", {});
  ASSERT_FALSE(type.ok());
  auto choice = parse("[smtp]\nmode = \"sometimes\"\n", {});
  ASSERT_FALSE(choice.ok());
  EXPECT_NE(choice.error().message.find("smtp.mode"), std::string::npos);
  auto env = parse("", {"VANTAGE_API_THREADS=lots"});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().message.find("VANTAGE_API_THREADS"), std::string::npos);
  auto syntax = parse("[api\n", {});
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message.find("line 1"), std::string::npos);
}

TEST(Config, ShowMasksSecretsAndDocsListEverySetting) {
  auto c = parse("[smtp]\npassword = \"hunter2\"\n", {});
  ASSERT_TRUE(c.ok());
  std::string shown = show(*c);
  EXPECT_EQ(shown.find("hunter2"), std::string::npos);
  EXPECT_NE(shown.find("password = \"********\""), std::string::npos);
  std::string doc = reference_markdown();
  for (const auto& s : settings()) {
    EXPECT_NE(doc.find("`" + s.name + "`"), std::string::npos) << s.name;
    EXPECT_NE(shown.find(s.name.substr(s.name.find('.') + 1) + " = "), std::string::npos);
  }
}

}  // namespace
}  // namespace vantage::config
