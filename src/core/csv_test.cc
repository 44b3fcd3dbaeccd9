#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/csv_reader.h"
#include "core/csv_writer.h"

namespace vantage::core {
namespace {

const ReportType& blocklist() {
  return *Catalogue::builtin().find("blocklist");
}

const std::string kHeader =
    R"("timestamp","severity","ip","hostname","source","reason","asn","geo","region","city","naics","sector","tag")"
    "\n";

// Reads every record, returning events and the error messages in order.
struct ReadAll {
  std::vector<Event> events;
  std::vector<CsvError> errors;
};
ReadAll read_all(CsvReader& reader) {
  ReadAll out;
  Event e;
  for (;;) {
    auto r = reader.next(e);
    if (r == CsvReader::Next::kEnd) break;
    if (r == CsvReader::Next::kError) {
      out.errors.push_back(reader.error());
    } else {
      out.events.push_back(e);
    }
  }
  return out;
}

ReadAll read_text(const std::string& text, CsvReaderOptions opt = {}) {
  if (opt.source_name.empty()) opt.source_name = "test.csv";
  CsvReader reader = CsvReader::from_buffer(text, blocklist(), opt);
  return read_all(reader);
}

std::string write_all(const std::vector<Event>& events) {
  std::string out;
  CsvWriter w(blocklist(), string_sink(&out));
  for (const Event& e : events) EXPECT_TRUE(w.write(e).ok());
  EXPECT_TRUE(w.finish().ok());
  return out;
}

TEST(CsvWriterTest, WritesShadowserverConventions) {
  const ReportType& t = blocklist();
  Event e(&t);
  e.set_timestamp(1641772902);  // 2022-01-10 00:01:42
  e.set_severity(Severity::kLow);
  e.set_ip(*IpAddress::parse("88.84.0.0"));
  e.set_string(t.column_index("reason"), "said \"hi\", then\r\nleft\x01");
  e.set_asn(2116);
  e.set_geo("NO");
  e.set_region("TROMS OG FINNMARK");
  e.set_sector("");  // empty string, not null
  e.set_tag("ssl,vpn");
  std::string out;
  CsvWriter w(t, string_sink(&out));
  ASSERT_TRUE(w.write(e).ok());
  Event nulls(&t);
  nulls.set_timestamp(0);
  ASSERT_TRUE(w.write(nulls).ok());
  ASSERT_TRUE(w.finish().ok());
  EXPECT_EQ(
      out,
      kHeader +
          R"("2022-01-10 00:01:42","low","88.84.0.0",,,"said ""hi"", thenleft",2116,"NO","TROMS OG FINNMARK",,,"","ssl,vpn")"
          "\n"
          R"("1970-01-01 00:00:00",,,,,,,,,,,,)"
          "\n");
  EXPECT_EQ(w.rows(), 2);
  EXPECT_EQ(w.bytes(), static_cast<int64_t>(out.size()));
}

// The quoting fast path looks at 8 bytes at a time; every special byte at every offset of
// a longer value must still be handled exactly like the plain byte-by-byte rule.
TEST(CsvWriterTest, QuotingMatchesTheByteRuleAtEveryOffset) {
  auto reference = [](std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
      auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        out += "\"\"";
      } else if (c == '\t') {
        out += ' ';
      } else if (u >= 0x20 && u != 0x7F) {
        out += c;
      }
    }
    return out + "\"";
  };
  const std::string base = "abcdefgh\xC3\xBCijklmnopqrstuvwxyz0123456789";
  for (char special : {'"', '\t', '\n', '\r', '\x01', '\x1F', '\x7F', ' ', '\xFF'}) {
    for (size_t at = 0; at <= base.size(); ++at) {
      std::string v = base;
      v.insert(at, 1, special);
      std::string got;
      append_csv_quoted(v, got);
      EXPECT_EQ(got, reference(v)) << static_cast<int>(special) << " at " << at;
    }
  }
}

TEST(CsvWriterTest, IntegersAndFloatsAreBareBooleansQuoted) {
  const ReportType& t = *Catalogue::builtin().find("scan_ntp");
  Event e(&t);
  ASSERT_EQ(e.set_text(t.column_index("rootdelay"), "0.125"), ValueError::kNone);
  ASSERT_EQ(e.set_text(t.column_index("port"), "123"), ValueError::kNone);
  ASSERT_EQ(e.set_text(t.column_index("ip"), "2001:db8::1"), ValueError::kNone);
  std::string row;
  append_csv_record(e, row);
  EXPECT_NE(row.find(",123,"), std::string::npos) << row;
  EXPECT_NE(row.find(",0.125"), std::string::npos) << row;
  EXPECT_NE(row.find(",\"2001:db8::1\","), std::string::npos) << row;
  const ReportType& freak = *Catalogue::builtin().find("scan_ssl_freak");
  Event f(&freak);
  ASSERT_EQ(f.set_text(freak.column_index("freak_vulnerable"), "true"), ValueError::kNone);
  row.clear();
  append_csv_record(f, row);
  EXPECT_NE(row.find(",\"Y\","), std::string::npos) << row;
}

TEST(CsvWriterTest, StreamsInChunksAndRejectsOtherTypes) {
  std::vector<size_t> chunks;
  std::string all;
  CsvWriter w(
      blocklist(),
      [&](std::string_view b) -> Status {
        chunks.push_back(b.size());
        all.append(b);
        return {};
      },
      1024);
  Event e(&blocklist());
  e.set_timestamp(1);
  e.set_region(std::string(100, 'x'));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(w.write(e).ok());
  EXPECT_GT(chunks.size(), 5u);  // flushed along the way, not all at the end
  for (size_t c : chunks) EXPECT_LT(c, 1024u + 200u);
  ASSERT_TRUE(w.finish().ok());
  EXPECT_EQ(static_cast<int64_t>(all.size()), w.bytes());
  Event other(Catalogue::builtin().find("scan_http"));
  EXPECT_FALSE(w.write(other).ok());
}

TEST(CsvWriterTest, SinkErrorsStopTheWriter) {
  int calls = 0;
  CsvWriter w(blocklist(), [&](std::string_view) -> Status {
    ++calls;
    return Error::io("disk full");
  });
  Event e(&blocklist());
  ASSERT_TRUE(w.write(e).ok());  // buffered
  Status s = w.finish();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "disk full");
  EXPECT_FALSE(w.write(e).ok());
  EXPECT_EQ(calls, 1);
}

TEST(CsvWriterTest, FileAndStreamSinks) {
  Event e(&blocklist());
  e.set_timestamp(86400);
  std::string expect = kHeader + "\"1970-01-02 00:00:00\",,,,,,,,,,,,\n";
  std::ostringstream os;
  {
    CsvWriter w(blocklist(), stream_sink(&os));
    ASSERT_TRUE(w.write(e).ok());
    ASSERT_TRUE(w.finish().ok());
  }
  EXPECT_EQ(os.str(), expect);
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    CsvWriter w(blocklist(), file_sink(f));
    ASSERT_TRUE(w.write(e).ok());
    ASSERT_TRUE(w.finish().ok());
  }
  std::rewind(f);
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n), expect);
}

TEST(CsvReaderTest, RoundTripsWhatTheWriterWrites) {
  const std::string text =
      kHeader +
      R"("2022-01-10 00:01:42","low","88.84.0.0","h.example","src","a ""quoted"", reason",2116,"NO","TROMS OG FINNMARK","TROMVIK",517311,"","ssl,vpn")"
      "\n"
      R"("2022-01-10 00:01:43",,"2001:db8::1",,,,,,,,,,)"
      "\n";
  auto r = read_text(text);
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message();
  ASSERT_EQ(r.events.size(), 2u);
  const Event& e = r.events[0];
  EXPECT_EQ(e.ip()->to_string(), "88.84.0.0");
  EXPECT_EQ(e.asn(), 2116u);
  EXPECT_EQ(e.naics(), 517311u);
  EXPECT_EQ(e.string_at(blocklist().column_index("reason")), "a \"quoted\", reason");
  EXPECT_FALSE(e.is_null(blocklist().column_index("sector")));
  EXPECT_TRUE(r.events[1].is_null(blocklist().column_index("sector")));
  EXPECT_EQ(write_all(r.events), text);
}

TEST(CsvReaderTest, ReadsByHeaderNameKeepsExtrasAndNullsMissing) {
  const std::string text =
      "\"ip\",\"sic\",\"timestamp\",\"tag\"\n"
      "\"192.0.2.1\",\"1234\",\"2024-01-01 00:00:00\",\"x\"\n";
  CsvReader reader = CsvReader::from_buffer(text, blocklist());
  Event e;
  ASSERT_EQ(reader.next(e), CsvReader::Next::kRow) << reader.error().message();
  EXPECT_EQ(e.ip()->to_string(), "192.0.2.1");
  EXPECT_EQ(e.tag(), "x");
  EXPECT_EQ(*e.timestamp(), 1704067200);
  EXPECT_TRUE(e.is_null(blocklist().column_index("asn")));
  ASSERT_EQ(reader.extra_columns(), std::vector<std::string>{"sic"});
  EXPECT_EQ(reader.extra_value(0), "1234");
  EXPECT_EQ(reader.missing_columns().size(), blocklist().columns.size() - 3);
  EXPECT_EQ(reader.next(e), CsvReader::Next::kEnd);
  EXPECT_EQ(reader.next(e), CsvReader::Next::kEnd);
}

TEST(CsvReaderTest, QuotedNewlinesCrlfBlankLinesAndNoFinalLf) {
  const std::string text =
      "\"timestamp\",\"reason\",\"asn\"\r\n"
      "\"2024-01-01 00:00:00\",\"two\nlines\",1\r\n"
      "\r\n"
      "\n"
      "\"2024-01-01 00:00:01\",\"x\",2\n"
      "\"2024-01-01 00:00:02\",\"bad\",notanumber\n"
      "\"2024-01-01 00:00:03\",,3";
  auto r = read_text(text);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].string_at(blocklist().column_index("reason")), "twolines")
      << "line breaks inside values are stripped like every control character";
  EXPECT_EQ(r.events[2].asn(), 3u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 7);  // the quoted newline and the blank lines are counted
  EXPECT_EQ(r.errors[0].column, "asn");
  EXPECT_EQ(r.errors[0].kind, CsvErrorKind::kBadInteger);
}

struct BadCase {
  const char* name;
  std::string row;
  CsvErrorKind kind;
  const char* column;
};

// Each bad record gives one error naming file, line, column and reason; the good records
// around it are still read.
TEST(CsvReaderTest, EveryBadRecordIsReportedAndSkipped) {
  const std::string good = "\"2024-01-01 00:00:00\",\"high\",\"192.0.2.1\",,,,1,,,,,,\n";
  const std::vector<BadCase> cases = {
      {"columns", "\"2024-01-01 00:00:00\",\"high\"\n", CsvErrorKind::kColumnCount, ""},
      {"utf8", "\"2024-01-01 00:00:00\",,,\"\xC3\x28\",,,,,,,,,\n", CsvErrorKind::kBadUtf8,
       "hostname"},
      {"timestamp", "\"2024-13-01 00:00:00\",,,,,,,,,,,,\n", CsvErrorKind::kBadTimestamp,
       "timestamp"},
      {"integer", "\"2024-01-01 00:00:00\",,,,,,12x,,,,,,\n", CsvErrorKind::kBadInteger, "asn"},
      {"ip", "\"2024-01-01 00:00:00\",,\"1.2.3\",,,,,,,,,,\n", CsvErrorKind::kBadIp, "ip"},
      {"oversized", "\"2024-01-01 00:00:00\",,,\"" + std::string(300, 'a') + "\",,,,,,,,,\n",
       CsvErrorKind::kOversizedField, "hostname"},
      {"quoting", "\"2024-01-01 00:00:00\",,,\"a\"b,,,,,,,,,\n", CsvErrorKind::kBadQuoting,
       "hostname"},
  };
  for (const BadCase& c : cases) {
    CsvReaderOptions opt;
    opt.source_name = "2024-01-01-blocklist-org-asn.csv";
    opt.max_field_bytes = 256;
    auto r = read_text(kHeader + good + c.row + good, opt);
    ASSERT_EQ(r.errors.size(), 1u) << c.name;
    EXPECT_EQ(r.events.size(), 2u) << c.name;
    const CsvError& e = r.errors[0];
    EXPECT_EQ(e.kind, c.kind) << c.name << ": " << e.message();
    EXPECT_EQ(e.line, 3) << c.name;
    EXPECT_EQ(e.column, c.column) << c.name;
    EXPECT_EQ(e.source, "2024-01-01-blocklist-org-asn.csv");
    EXPECT_NE(e.message().find("2024-01-01-blocklist-org-asn.csv:3: "), std::string::npos)
        << e.message();
    EXPECT_NE(e.message().find(csv_error_kind_name(c.kind)), std::string::npos) << e.message();
  }
}

TEST(CsvReaderTest, BadFloatAndBadBooleanNameTheirColumns) {
  const Catalogue& cat = Catalogue::builtin();
  struct Case {
    const char* type;
    const char* column;
    const char* value;
    CsvErrorKind kind;
  };
  for (const Case& c :
       {Case{"scan_ntp", "rootdelay", "0.1.2", CsvErrorKind::kBadFloat},
        Case{"scan_ntp", "rootdelay", "inf", CsvErrorKind::kBadFloat},
        Case{"scan_ssl_freak", "freak_vulnerable", "perhaps", CsvErrorKind::kBadBoolean}}) {
    const std::string text = std::string("\"timestamp\",\"") + c.column +
                             "\"\n\"2024-01-01 00:00:00\"," + c.value + "\n";
    CsvReader reader = CsvReader::from_buffer(text, *cat.find(c.type));
    Event e;
    ASSERT_EQ(reader.next(e), CsvReader::Next::kError) << c.value;
    EXPECT_EQ(reader.error().kind, c.kind) << reader.error().message();
    EXPECT_EQ(reader.error().column, c.column);
    EXPECT_EQ(reader.error().line, 2);
    EXPECT_EQ(reader.next(e), CsvReader::Next::kEnd);
  }
}

TEST(CsvReaderTest, CountsWhatItSkipped) {
  const std::string text = kHeader + "\"2024-01-01 00:00:00\",,,,,,,,,,,,\n" +
                           "\"x\",,,,,,,,,,,,\n" + "\"2024-01-01 00:00:00\",,,,,,1,,,,,,\n" +
                           "1,2\n";
  CsvReader reader = CsvReader::from_buffer(text, blocklist());
  auto r = read_all(reader);
  EXPECT_EQ(reader.stats().records, 4);
  EXPECT_EQ(reader.stats().rows, 2);
  EXPECT_EQ(reader.stats().skipped, 2);
  EXPECT_EQ(reader.stats().errors[static_cast<int>(CsvErrorKind::kBadTimestamp)], 1);
  EXPECT_EQ(reader.stats().errors[static_cast<int>(CsvErrorKind::kColumnCount)], 1);
  EXPECT_EQ(reader.stats().bytes, static_cast<int64_t>(text.size()));
}

TEST(CsvReaderTest, HeaderProblemsAreFatal) {
  auto empty = read_text("");
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_EQ(empty.errors[0].kind, CsvErrorKind::kMissingHeader);
  auto data_first = read_text("\"2024-01-01 00:00:00\",\"x\"\n\"2024-01-01 00:00:00\",\"x\"\n");
  ASSERT_EQ(data_first.errors.size(), 1u);
  EXPECT_EQ(data_first.errors[0].kind, CsvErrorKind::kMissingHeader);
  EXPECT_TRUE(data_first.events.empty());
  auto dup = read_text("\"ip\",\"ip\"\n\"1.1.1.1\",\"1.1.1.1\"\n");
  ASSERT_EQ(dup.errors.size(), 1u);
  EXPECT_EQ(dup.errors[0].kind, CsvErrorKind::kBadHeader);
  auto unterminated = read_text(kHeader + "\"2024-01-01 00:00:00\",\"oops,,,,,,,,,,,\n");
  ASSERT_EQ(unterminated.errors.size(), 1u);
  EXPECT_EQ(unterminated.errors[0].kind, CsvErrorKind::kBadQuoting);
  EXPECT_EQ(unterminated.errors[0].line, 2);
}

TEST(CsvReaderTest, ChunkedFileReadingMatchesBufferReading) {
  std::string text = kHeader;
  for (int i = 0; i < 300; ++i) {
    text += "\"2024-01-01 00:00:0" + std::to_string(i % 10) + "\",\"low\",\"10.0.0." +
            std::to_string(i % 250) + "\",\"h" + std::to_string(i) +
            "\",\"multi\nline \"\"q\"\"\",\"r\"," +
            (i % 7 == 0 ? std::string("bad") : std::to_string(i + 1)) + ",\"NL\",,,,,\n";
  }
  auto from_buffer = read_text(text);
  ASSERT_FALSE(from_buffer.errors.empty());
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), f), text.size());
  std::rewind(f);
  CsvReaderOptions opt;
  opt.chunk_bytes = 64;  // records straddle chunk boundaries all the time
  opt.source_name = "test.csv";
  CsvReader reader = CsvReader::from_file(f, blocklist(), opt);
  auto from_file = read_all(reader);
  std::fclose(f);
  ASSERT_EQ(from_file.events.size(), from_buffer.events.size());
  for (size_t i = 0; i < from_file.events.size(); ++i) {
    EXPECT_EQ(from_file.events[i], from_buffer.events[i]) << i;
  }
  ASSERT_EQ(from_file.errors.size(), from_buffer.errors.size());
  for (size_t i = 0; i < from_file.errors.size(); ++i) {
    EXPECT_EQ(from_file.errors[i].message(), from_buffer.errors[i].message());
  }
  EXPECT_EQ(reader.stats().bytes, static_cast<int64_t>(text.size()));
}

TEST(CsvReaderTest, OversizedRecordInAFileIsSkippedInBoundedMemory) {
  std::string text = kHeader + "\"2024-01-01 00:00:00\",,,\"" + std::string(100000, 'z') +
                     "\",,,,,,,,,\n" + "\"2024-01-01 00:00:00\",,,,,,7,,,,,,\n";
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), f), text.size());
  std::rewind(f);
  CsvReaderOptions opt;
  opt.chunk_bytes = 1024;
  opt.max_field_bytes = 4096;
  opt.max_record_bytes = 8192;
  CsvReader reader = CsvReader::from_file(f, blocklist(), opt);
  auto r = read_all(reader);
  std::fclose(f);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].kind, CsvErrorKind::kOversizedField);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].asn(), 7u);
}

TEST(CsvReaderTest, OpenFileDetectsTheTypeFromTheName) {
  auto dir = std::filesystem::temp_directory_path() / "vantage_csv_reader_test";
  std::filesystem::create_directories(dir);
  auto path = dir / "2024-07-04-blocklist-123-sample-asn.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << kHeader << "\"2024-07-04 10:00:00\",,\"192.0.2.9\",,,,,,,,,,\n";
  }
  auto reader = CsvReader::open_file(path.string(), Catalogue::builtin());
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->type().name, "blocklist");
  Event e;
  ASSERT_EQ(reader->next(e), CsvReader::Next::kRow);
  EXPECT_EQ(e.ip()->to_string(), "192.0.2.9");

  auto unknown =
      CsvReader::open_file((dir / "2024-07-04-nosuchtype-x.csv").string(), Catalogue::builtin());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown report type"), std::string::npos);
  auto missing =
      CsvReader::open_file((dir / "2024-07-04-blocklist-gone.csv").string(), Catalogue::builtin());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
  std::filesystem::remove_all(dir);
}

TEST(ReportFileNameTest, FollowsTheOfficialRegex) {
  auto a = parse_report_filename("2020-04-03-scan_ics-sample-asn-delayed.csv");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->date, "2020-04-03");
  EXPECT_EQ(a->type, "scan_ics");
  EXPECT_EQ(a->identifier, "sample-asn-delayed");
  auto b = parse_report_filename("/var/reports/2024-07-04-dns_openresolver-123-sample-asn.csv");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->type, "dns_openresolver");
  EXPECT_EQ(b->identifier, "123-sample-asn");
  EXPECT_FALSE(parse_report_filename("2024-07-04-scan_http.csv"));  // no identifier
  EXPECT_FALSE(parse_report_filename("2024-7-04-scan_http-x.csv"));
  EXPECT_FALSE(parse_report_filename("2024-07-04-scan_http-x.txt"));
  EXPECT_FALSE(parse_report_filename("2024-07-04--x.csv"));

  const Catalogue& cat = Catalogue::builtin();
  EXPECT_EQ(detect_report_type("2020-08-02-scan_smb-anarres-geo.csv", cat)->name, "scan_smb");
  // api_utils' example glues the org onto the type; the longest known prefix wins.
  EXPECT_EQ(detect_report_type("2022-08-31-scan_stun_example_com-asn.csv", cat)->name, "scan_stun");
  EXPECT_EQ(detect_report_type("2024-01-04-device_id-company-ip.csv", cat)->name, "device_id");
  EXPECT_EQ(detect_report_type("2024-01-04-nothing-company-ip.csv", cat), nullptr);
}

}  // namespace
}  // namespace vantage::core
