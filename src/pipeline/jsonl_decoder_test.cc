#include "pipeline/jsonl_decoder.h"

#include <gtest/gtest.h>

namespace vantage::pipeline {
namespace {

const core::Catalogue& cat() {
  return core::Catalogue::builtin();
}

TEST(JsonlDecoder, DecodesBothShapes) {
  JsonlDecoder d(cat(), nullptr);
  core::Event e;
  DecodeError err;
  ASSERT_TRUE(d.decode(
      R"({"type":"scan_http","fields":{"timestamp":"2024-01-04 10:00:00","ip":"192.0.2.7","port":8080,"tag":"http"}})",
      e, err))
      << err.reason;
  EXPECT_EQ(e.type()->name, "scan_http");
  EXPECT_EQ(e.ip()->to_string(), "192.0.2.7");
  EXPECT_EQ(e.port(), 8080);
  ASSERT_TRUE(d.decode(
      R"({"type":"scan_ssh","timestamp":"2024-01-04T10:00:00Z","ip":"2001:db8::1","port":"22","asn":null})",
      e, err))
      << err.reason;
  EXPECT_EQ(e.type()->name, "scan_ssh");
  EXPECT_EQ(e.port(), 22);
  EXPECT_FALSE(e.asn().has_value());
}

TEST(JsonlDecoder, ForcedTypeAllowsRecordsWithoutType) {
  JsonlDecoder d(cat(), cat().find("scan_http"));
  core::Event e;
  DecodeError err;
  ASSERT_TRUE(d.decode(R"({"timestamp":"2024-01-04 10:00:00","ip":"192.0.2.7"})", e, err));
  EXPECT_FALSE(d.decode(R"({"type":"scan_ssh","timestamp":"2024-01-04 10:00:00"})", e, err));
  EXPECT_EQ(err.field, "type");
}

TEST(JsonlDecoder, NamesTheFieldAndReason) {
  JsonlDecoder d(cat(), nullptr, 256);
  core::Event e;
  DecodeError err;
  struct Case {
    const char* line;
    const char* field;
  } cases[] = {
      {R"({"type":"scan_http","ip":"300.1.1.1"})", "ip"},
      {R"({"type":"scan_http","port":"eighty"})", "port"},
      {R"({"type":"scan_http","timestamp":"yesterday"})", "timestamp"},
      {R"({"type":"scan_http","no_such_column":1})", "no_such_column"},
      {R"({"type":"scan_http","tag":["a"]})", "tag"},
      {R"({"type":"no_such_type"})", "type"},
      {R"({"ip":"192.0.2.1"})", "type"},
      {R"({"type":"scan_http","fields":{},"extra":1})", "extra"},
      {R"({"type":"scan_http","tag":"\u00ff"})", ""},  // valid: escaped code point
  };
  for (const auto& c : cases) {
    bool ok = d.decode(c.line, e, err);
    if (std::string(c.field).empty()) {
      EXPECT_TRUE(ok) << c.line;
    } else {
      EXPECT_FALSE(ok) << c.line;
      EXPECT_EQ(err.field, c.field) << c.line;
      EXPECT_FALSE(err.reason.empty());
    }
  }
  EXPECT_FALSE(d.decode("not json", e, err));
  EXPECT_EQ(err.field, "");
  EXPECT_FALSE(d.decode("[1,2]", e, err));
  EXPECT_FALSE(d.decode(std::string(300, ' '), e, err));  // over the record limit
  EXPECT_FALSE(d.decode("{\"type\":\"scan_http\",\"tag\":\"\xff\xfe\"}", e, err));
}

}  // namespace
}  // namespace vantage::pipeline
