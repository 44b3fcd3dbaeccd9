// Parsers of what receivers and upstreams answer.

#include "integrations/answers.h"

#include <gtest/gtest.h>

namespace vantage::integrations {
namespace {

TEST(Answers, BulkVerdict) {
  auto ok = parse_bulk_answer(R"({"took":1,"errors":false,"items":[{"create":{"status":201}}]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->retryable, 0);
  EXPECT_TRUE(ok->rejected.empty());
  auto mixed = parse_bulk_answer(
      R"({"errors":true,"items":[{"create":{"_id":"o:1","status":409}},
         {"create":{"_id":"o:2","status":429}},{"create":{"_id":"o:3","status":503}},
         {"create":{"_id":"org:17","status":400,"error":{"type":"mapper_parsing_exception"}}},
         {"create":{"_id":"no-colon","status":400}}, {}, [], {"create":"x"}]})");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->retryable, 2);
  ASSERT_EQ(mixed->rejected.size(), 2u);
  EXPECT_EQ(mixed->rejected[0].event_id, 17);
  EXPECT_NE(mixed->rejected[0].reason.find("mapper_parsing_exception"), std::string::npos);
  EXPECT_EQ(mixed->rejected[1].event_id, 0);
  EXPECT_FALSE(parse_bulk_answer("<html>502</html>").ok());
  EXPECT_FALSE(parse_bulk_answer(R"({"errors":true})").ok());
}

TEST(Answers, ReportList) {
  auto r = parse_report_list(
      R"([{"id":"abc?def","file":"2026-01-15-scan_http-x-asn.csv","type":"scan_http",
           "report":"x","timestamp":"2026-01-15","url":"https://example"},
          {"id":"test:scan_http","file":"2010-02-10-scan_http-test.csv","report":"test"},
          {"id":"","file":"f"}, {"id":"a\u0001b","file":"f"}])");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, "abc?def");
  EXPECT_EQ((*r)[0].type, "scan_http");
  EXPECT_FALSE(parse_report_list(R"({"error":"invalid apikey"})").ok());
  EXPECT_FALSE(parse_report_list(R"([{"file":"f"}])").ok());
  EXPECT_FALSE(parse_report_list(R"([{"id":7,"file":"f"}])").ok());
}

TEST(Answers, BasicCredentials) {
  auto c = parse_basic_credentials(" Basic a2V5OnNlYzpyZXQ= ");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->first, "key");
  EXPECT_EQ(c->second, "sec:ret");  // the password may hold ':'
  EXPECT_FALSE(parse_basic_credentials("Bearer abc").has_value());
  EXPECT_FALSE(parse_basic_credentials("Basic !!!!").has_value());
  EXPECT_FALSE(parse_basic_credentials("Basic a2V5").has_value());  // "key": no ':'
}

}  // namespace
}  // namespace vantage::integrations
