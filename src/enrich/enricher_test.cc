#include "enrich/enricher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "enrich/testing/mmdb_writer.h"
#include "enrich/testing/temp_dir.h"

namespace vantage::enrich {
namespace {

using namespace std::chrono_literals;
using testing::dbip_flat_record;
using testing::MmdbWriter;
using testing::MmdbWriterOptions;
using testing::TempDir;

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}
IpPrefix pfx(std::string_view s) {
  return IpPrefix::parse(s)->prefix;
}

std::string mmdb_bytes(int ip_version, const std::string& city_for_8888) {
  MmdbWriterOptions o;
  o.ip_version = ip_version;
  o.database_type = ip_version == 4 ? "city ipv4" : "city ipv6";
  MmdbWriter w(o);
  if (ip_version == 4) {
    EXPECT_TRUE(w.insert(pfx("8.8.8.0/24"), dbip_flat_record("US", "California", city_for_8888)));
    EXPECT_TRUE(w.insert(pfx("10.0.0.0/8"), dbip_flat_record("XX", "Private", "Nowhere")));
    EXPECT_TRUE(w.insert(pfx("1.1.1.0/24"), dbip_flat_record("AU", "", "")));
  } else {
    EXPECT_TRUE(w.insert(pfx("2001:200::/32"), dbip_flat_record("JP", "Kanagawa", "Fujisawa")));
  }
  auto bytes = w.serialize();
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

struct Files {
  TempDir dir;
  EnrichmentPaths paths;
  Files() {
    paths.asn_v4 = dir.write("asn-ipv4.csv",
                             "1.1.1.0,1.1.1.255,13335,\"Cloudflare, Inc.\"\n"
                             "8.8.8.0,8.8.8.255,15169,Google LLC\n"
                             "10.0.0.0,10.255.255.255,64512,Should never show\n");
    paths.asn_v6 = dir.write(
        "asn-ipv6.csv", "2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n");
    paths.geo_v4 = dir.write("city-v4.mmdb", mmdb_bytes(4, "Mountain View"));
    paths.geo_v6 = dir.write("city-v6.mmdb", mmdb_bytes(6, ""));
    paths.sector = dir.write("sectors.csv", "AS15169,519130,Internet\n1.1.1.0/24,,DNS\n");
  }
};

TEST(Enricher, FillsEveryField) {
  Files f;
  auto e = Enricher::create(f.paths);
  ASSERT_TRUE(e.ok()) << e.error().message;
  auto view = (*e)->view();
  Enrichment out;
  view.enrich(ip("8.8.8.8"), out);
  EXPECT_EQ(out.asn, 15169u);
  EXPECT_EQ(out.as_name, "Google LLC");
  EXPECT_STREQ(out.geo, "US");
  EXPECT_EQ(out.region, "California");
  EXPECT_EQ(out.city, "Mountain View");
  EXPECT_EQ(out.naics, 519130u);
  EXPECT_EQ(out.sector, "Internet");
  EXPECT_TRUE(out.hostname.empty());

  view.enrich(ip("1.1.1.1"), out);
  EXPECT_EQ(out.asn, 13335u);
  EXPECT_STREQ(out.geo, "AU");
  EXPECT_TRUE(out.city.empty());
  EXPECT_EQ(out.naics, 0u);
  EXPECT_EQ(out.sector, "DNS");

  view.enrich(ip("2001:200::1"), out);
  EXPECT_EQ(out.asn, 2500u);
  EXPECT_STREQ(out.geo, "JP");
  EXPECT_EQ(out.region, "Kanagawa");
  EXPECT_EQ(out.city, "Fujisawa");
  EXPECT_TRUE(out.sector.empty());

  // Unrouted: no row, no geo, and the previous values must not leak through.
  view.enrich(ip("9.9.9.9"), out);
  EXPECT_EQ(out.asn, 0u);
  EXPECT_TRUE(out.as_name.empty());
  EXPECT_STREQ(out.geo, "");
  EXPECT_TRUE(out.region.empty());
}

TEST(Enricher, ReservedAddressesAreEmptyWhateverTheDataSays) {
  Files f;
  auto e = Enricher::create(f.paths);
  ASSERT_TRUE(e.ok()) << e.error().message;
  Enrichment out;
  for (const char* a : {"10.1.2.3", "127.0.0.1", "::1", "fe80::1", "2001:db8::1"}) {
    (*e)->view().enrich(ip(a), out);
    EXPECT_EQ(out.asn, 0u) << a;
    EXPECT_STREQ(out.geo, "") << a;
    EXPECT_TRUE(out.city.empty()) << a;
  }
}

TEST(Enricher, MissingOptionalPartsAndBadFiles) {
  Files f;
  EnrichmentPaths only_asn;
  only_asn.asn_v4 = f.paths.asn_v4;
  auto e = Enricher::create(only_asn);
  ASSERT_TRUE(e.ok());
  Enrichment out;
  (*e)->view().enrich(ip("8.8.8.8"), out);
  EXPECT_EQ(out.asn, 15169u);
  EXPECT_STREQ(out.geo, "");

  EnrichmentPaths bad = f.paths;
  bad.geo_v6 = f.paths.geo_v4;  // an IPv4 database where the IPv6 one belongs
  auto b = Enricher::create(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("ip_version is 4"), std::string::npos);

  bad = f.paths;
  bad.asn_v4 = f.dir.file("missing.csv");
  EXPECT_FALSE(Enricher::create(bad).ok());
}

TEST(Enricher, HotReloadSwapsAndKeepsOldSnapshotsAlive) {
  Files f;
  auto created = Enricher::create(f.paths);
  ASSERT_TRUE(created.ok()) << created.error().message;
  Enricher& e = **created;
  EXPECT_EQ(e.generation(), 1u);

  auto old_view = e.view();
  Enrichment before;
  old_view.enrich(ip("8.8.8.8"), before);
  ASSERT_EQ(before.asn, 15169u);

  // Nothing changed: no reload.
  auto r = e.reload_if_changed();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);

  // New ASN and geo data arrive (written elsewhere, renamed into place).
  f.dir.write("asn-ipv4.csv", "8.8.8.0,8.8.8.255,64500,New Owner\n");
  f.dir.write("city-v4.mmdb", mmdb_bytes(4, "Reloaded City"));
  r = e.reload_if_changed();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(*r);
  EXPECT_EQ(e.generation(), 2u);

  Enrichment now;
  e.view().enrich(ip("8.8.8.8"), now);
  EXPECT_EQ(now.asn, 64500u);
  EXPECT_EQ(now.as_name, "New Owner");
  EXPECT_EQ(now.city, "Reloaded City");

  // The old view still answers from the old snapshot, and the views it handed out earlier
  // still point at live memory.
  EXPECT_EQ(before.as_name, "Google LLC");
  EXPECT_EQ(before.city, "Mountain View");
  Enrichment again;
  old_view.enrich(ip("8.8.8.8"), again);
  EXPECT_EQ(again.asn, 15169u);
  EXPECT_EQ(again.city, "Mountain View");
}

TEST(Enricher, CorruptUpdateKeepsServingThePreviousSnapshot) {
  Files f;
  auto created = Enricher::create(f.paths);
  ASSERT_TRUE(created.ok());
  Enricher& e = **created;

  // A truncated CSV: error with file and line, old data still served, no retry until the
  // file changes again.
  f.dir.write("asn-ipv4.csv", "8.8.8.0,8.8.8.255,64500,New Owner\n8.8.9.0,8.8");
  auto r = e.reload_if_changed();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("asn-ipv4.csv"), std::string::npos);
  EXPECT_NE(e.last_error().find("asn-ipv4.csv"), std::string::npos);
  EXPECT_EQ(e.generation(), 1u);
  EXPECT_EQ(e.reload_failures(), 1u);
  Enrichment out;
  e.view().enrich(ip("8.8.8.8"), out);
  EXPECT_EQ(out.asn, 15169u);
  r = e.reload_if_changed();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);

  // A corrupt MMDB likewise.
  f.dir.write("asn-ipv4.csv", "8.8.8.0,8.8.8.255,64500,New Owner\n");
  f.dir.write("city-v4.mmdb", "definitely not a MaxMind database");
  r = e.reload_if_changed();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("city-v4.mmdb"), std::string::npos);
  e.view().enrich(ip("8.8.8.8"), out);
  EXPECT_EQ(out.asn, 15169u);
  EXPECT_EQ(out.city, "Mountain View");

  // Fixed: the next poll picks up the complete new set.
  f.dir.write("city-v4.mmdb", mmdb_bytes(4, "Fixed City"));
  r = e.reload_if_changed();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(*r);
  e.view().enrich(ip("8.8.8.8"), out);
  EXPECT_EQ(out.asn, 64500u);
  EXPECT_EQ(out.city, "Fixed City");
  EXPECT_TRUE(e.last_error().empty());
}

TEST(Enricher, WatcherReloadsWhileReadersRun) {
  Files f;
  EnricherOptions opts;
  opts.poll_interval = 5ms;
  auto created = Enricher::create(f.paths, opts);
  ASSERT_TRUE(created.ok());
  Enricher& e = **created;

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0}, done{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      Enrichment out;
      while (!stop.load()) {
        auto view = e.view();
        for (int i = 0; i < 100; ++i) {
          view.enrich(ip("8.8.8.8"), out);
          // Every answer is one whole snapshot's: old (Google) or new (AS64500).
          bool old_ok = out.asn == 15169 && out.as_name == "Google LLC";
          bool new_ok = out.asn == 64500 && out.as_name == "New Owner";
          if (!old_ok && !new_ok) ++bad;
          ++done;
        }
      }
    });
  }
  e.start_watching();
  std::this_thread::sleep_for(20ms);
  f.dir.write("asn-ipv4.csv", "8.8.8.0,8.8.8.255,64500,New Owner\n");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (e.generation() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  stop = true;
  for (auto& t : readers) t.join();
  e.stop_watching();
  EXPECT_EQ(e.generation(), 2u);
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(done.load(), 0u);
  Enrichment out;
  e.view().enrich(ip("8.8.8.8"), out);
  EXPECT_EQ(out.asn, 64500u);
}

TEST(Enricher, ReverseDnsFillsHostnameOnceResolved) {
  Files f;
  EnricherOptions opts;
  opts.reverse_dns = true;
  opts.dns.resolve = [](const IpAddress& a) -> std::optional<std::string> {
    if (a == ip("8.8.8.8")) return std::string("dns.google");
    return std::nullopt;
  };
  auto created = Enricher::create(f.paths, opts);
  ASSERT_TRUE(created.ok());
  Enricher& e = **created;
  Enrichment out;
  e.view().enrich(ip("8.8.8.8"), out);
  EXPECT_TRUE(out.hostname.empty());  // not known yet; queued
  ASSERT_TRUE(e.reverse_dns()->drain(5s));
  e.view().enrich(ip("8.8.8.8"), out);
  EXPECT_EQ(out.hostname, "dns.google");
  e.view().enrich(ip("1.1.1.1"), out);
  EXPECT_TRUE(out.hostname.empty());
}

}  // namespace
}  // namespace vantage::enrich
