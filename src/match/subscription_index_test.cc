// This file replaces global operator new/delete with malloc/free to count allocations;
// g++ 12 then reports every inlined new/delete pair as "mismatched" (a false positive).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "match/subscription_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <thread>

#include "registry/sqlite/sqlite_registry.h"

// Counts heap allocations while enabled, to prove the lookup path allocates nothing.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace vantage::match {
namespace {

IpPrefix P(const char* s) {
  return IpPrefix::parse(s)->prefix;
}
IpAddress A(const char* s) {
  return *IpAddress::parse(s);
}

std::vector<std::pair<std::string, std::string>> names(const SubscriptionIndex& ix,
                                                       std::span<const Match> ms) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& m : ms) out.emplace_back(ix.org(m.org).short_name, reason_names(m.why));
  return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OrgSpec isp{1, "ISP"};
    isp.cidrs = {P("10.0.0.0/8"), P("2001:db8::/32")};
    isp.asns = {64500};
    OrgSpec uni{2, "UNI"};
    uni.cidrs = {P("10.1.0.0/16")};
    uni.domains = {"example.org"};
    uni.ignores = {P("10.1.2.0/24")};
    OrgSpec dept{3, "DEPT"};
    dept.cidrs = {P("10.1.1.0/24"), P("2001:db8:1::/48")};
    dept.asns = {64500};
    dept.min_severity = Severity::kHigh;
    OrgSpec shared{4, "SHARED"};
    shared.cidrs = {P("10.1.1.0/24")};  // same prefix as DEPT
    shared.opt_outs = {"scan_ssh"};
    OrgSpec national{5, "NCSC"};
    national.countries = {"NL"};
    national.domains = {"nl"};
    OrgSpec edge{6, "EDGE"};
    edge.cidrs = {P("255.255.255.255/32"), P("0.0.0.0/32"),
                  P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")};
    index_ = SubscriptionIndex::build({isp, uni, dept, shared, national, edge}, 7);
  }
  Pairs match(EventKeys k, CidrMode mode = CidrMode::kAllCovering) {
    MatchBuffer buf(*index_);
    return names(*index_, index_->match(k, buf, mode));
  }
  std::shared_ptr<const SubscriptionIndex> index_;
};

TEST_F(IndexTest, NestedPrefixesEveryCoveringOrg) {
  EventKeys k;
  k.ip = A("10.1.1.7");
  k.severity = Severity::kCritical;
  EXPECT_EQ(match(k),
            (Pairs{{"ISP", "cidr"}, {"UNI", "cidr"}, {"DEPT", "cidr"}, {"SHARED", "cidr"}}));
  // Most specific: both holders of the /24.
  EXPECT_EQ(match(k, CidrMode::kMostSpecific), (Pairs{{"DEPT", "cidr"}, {"SHARED", "cidr"}}));
  k.ip = A("10.2.0.1");
  EXPECT_EQ(match(k), (Pairs{{"ISP", "cidr"}}));
  k.ip = A("11.0.0.0");
  EXPECT_TRUE(match(k).empty());
  k.ip = A("9.255.255.255");
  EXPECT_TRUE(match(k).empty());
  k.ip = A("2001:db8:1::5");
  EXPECT_EQ(match(k), (Pairs{{"ISP", "cidr"}, {"DEPT", "cidr"}}));
  k.ip = A("2001:db9::");
  EXPECT_TRUE(match(k).empty());
}

TEST_F(IndexTest, IgnoreListDropsEveryReasonAndFallsBackForMostSpecific) {
  EventKeys k;
  k.ip = A("10.1.2.3");
  k.hostname = "www.example.org";
  EXPECT_EQ(match(k), (Pairs{{"ISP", "cidr"}}));
  EXPECT_EQ(match(k, CidrMode::kMostSpecific), (Pairs{{"ISP", "cidr"}}));
  EXPECT_EQ(index_->orgs_ignoring(A("10.1.2.3")).size(), 1u);
  k.ip = A("10.1.3.3");
  EXPECT_EQ(match(k), (Pairs{{"ISP", "cidr"}, {"UNI", "cidr,domain"}}));
}

TEST_F(IndexTest, AsnDomainGeoAndFilters) {
  EventKeys k;
  k.asn = 64500;
  EXPECT_EQ(match(k), (Pairs{{"ISP", "asn"}}));  // DEPT wants high and above
  k.severity = Severity::kHigh;
  EXPECT_EQ(match(k), (Pairs{{"ISP", "asn"}, {"DEPT", "asn"}}));
  k = {};
  k.hostname = "Mail.Example.ORG.";
  EXPECT_EQ(match(k), (Pairs{{"UNI", "domain"}}));
  k.hostname = "notexample.org";  // label-wise, not character-wise
  EXPECT_TRUE(match(k).empty());
  k.hostname = "example.nl";
  k.country = "nl";
  EXPECT_EQ(match(k), (Pairs{{"NCSC", "geo,domain"}}));
  k = {};
  k.ip = A("10.1.1.1");
  k.report_type = "scan_ssh";
  EXPECT_EQ(match(k), (Pairs{{"ISP", "cidr"}, {"UNI", "cidr"}}));
  k.report_type = "scan_rdp";
  EXPECT_EQ(match(k), (Pairs{{"ISP", "cidr"}, {"UNI", "cidr"}, {"SHARED", "cidr"}}));
}

TEST_F(IndexTest, AddressSpaceEdges) {
  EventKeys k;
  for (const char* a : {"255.255.255.255", "0.0.0.0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    k.ip = A(a);
    EXPECT_EQ(match(k), (Pairs{{"EDGE", "cidr"}})) << a;
  }
  k.ip = A("255.255.255.254");
  EXPECT_TRUE(match(k).empty());
  k.ip = A("::");
  EXPECT_TRUE(match(k).empty());
  auto everything = SubscriptionIndex::build(
      {OrgSpec{1, "ALL", Severity::kInfo, {}, {P("0.0.0.0/0"), P("::/0")}}});
  for (const char* a : {"0.0.0.0", "255.255.255.255", "::", "ffff::1"}) {
    EXPECT_EQ(everything->orgs_for_ip(A(a)).size(), 1u) << a;
  }
  auto empty = SubscriptionIndex::build({});
  EXPECT_TRUE(empty->orgs_for_ip(A("1.2.3.4")).empty());
  EXPECT_TRUE(empty->orgs_for_ip(A("2001::1")).empty());
  MatchBuffer buf(*empty);
  EventKeys all_keys;
  all_keys.ip = A("1.2.3.4");
  all_keys.asn = 1;
  all_keys.hostname = "a.b";
  all_keys.country = "NL";
  EXPECT_TRUE(empty->match(all_keys, buf).empty());
}

TEST_F(IndexTest, LookupsDoNotAllocate) {
  MatchBuffer buf(*index_);
  EventKeys k;
  k.hostname = "deep.sub.example.org";
  k.country = "NL";
  k.asn = 64500;
  k.report_type = "scan_ssh";
  k.severity = Severity::kCritical;
  size_t total = 0;
  g_allocations = 0;
  g_counting = true;
  for (uint32_t i = 0; i < 100000; ++i) {
    k.ip = (i & 1) ? IpAddress::from_v4(0x0A000000u + i * 7919u)
                   : IpAddress::from_v6(0x20010db800000000ull | i, i);
    total += index_->match(k, buf).size();
    total += index_->orgs_for_ip(*k.ip).size();
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_GT(total, 0u);
}

TEST_F(IndexTest, StatsAndGeneration) {
  EXPECT_EQ(index_->generation(), 7u);
  EXPECT_EQ(index_->stats().organisations, 6u);
  EXPECT_EQ(index_->stats().prefixes_v4, 6u);
  EXPECT_EQ(index_->stats().prefixes_v6, 3u);
  EXPECT_GT(index_->stats().memory_bytes, 0u);
  EXPECT_EQ(index_->dense_index(3), 2u);
  EXPECT_FALSE(index_->dense_index(99).has_value());
}

TEST(IndexHolder, ReadersSeeWholeIndexesWhilePublished) {
  // Index g holds g organisations all claiming 10.0.0.0/8, so a reader can check that the
  // index it holds is internally consistent while a writer keeps swapping indexes.
  auto make = [](uint32_t g) {
    std::vector<OrgSpec> orgs;
    for (uint32_t i = 0; i < g; ++i) {
      OrgSpec o{i + 1, "O" + std::to_string(i)};
      o.cidrs = {P("10.0.0.0/8")};
      orgs.push_back(o);
    }
    return SubscriptionIndex::build(orgs, g);
  };
  IndexHolder holder;
  holder.publish(make(1));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto ix = holder.current();
        if (ix->orgs_for_ip(A("10.1.2.3")).size() != ix->generation()) ++bad;
      }
    });
  }
  for (uint32_t g = 2; g <= 60; ++g) holder.publish(make(g));
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(holder.current()->generation(), 60u);
}

TEST(IndexHolder, RebuildsWhenTheRegistryChanges) {
  char tmpl[] = "/tmp/vantage_match_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    auto opened = registry::SqliteRegistry::open(
        dir + "/r.sqlite", *registry::SecretBox::from_key(std::string(32, 'k')));
    ASSERT_TRUE(opened.ok());
    auto reg = std::move(*opened);
    auto org = *reg->add_org({"Example", "EXAMPLE"});
    auto res = *reg->add_resource(org.id, registry::ResourceKind::kCidr, "192.0.2.0/24");
    IndexHolder holder;
    EXPECT_EQ(holder.current(), nullptr);
    ASSERT_TRUE(*holder.refresh(*reg));
    auto first = holder.current();
    EXPECT_EQ(first->orgs_for_ip(A("192.0.2.1")).size(), 1u);
    EXPECT_FALSE(*holder.refresh(*reg));  // unchanged: same object kept
    EXPECT_EQ(holder.current(), first);
    ASSERT_TRUE(reg->set_approval(res.resource.id, registry::Approval::kRejected).ok());
    ASSERT_TRUE(*holder.refresh(*reg));
    EXPECT_TRUE(holder.current()->orgs_for_ip(A("192.0.2.1")).empty());
    // The old snapshot is still intact for readers that hold it.
    EXPECT_EQ(first->orgs_for_ip(A("192.0.2.1")).size(), 1u);
    ASSERT_TRUE(reg->set_approval(res.resource.id, registry::Approval::kPending).ok());
    BuildOptions strict;
    strict.require_approval = true;
    ASSERT_TRUE(*holder.refresh(*reg, strict));
    EXPECT_TRUE(holder.current()->orgs_for_ip(A("192.0.2.1")).empty());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vantage::match
