// The store contract against real ClickHouse servers (two shards started by
// clickhouse_store_test.sh through scripts/cluster.sh), with the embedded SQLite store as the
// reference: the same batches go to both -- to ClickHouse twice, and some half-written first,
// as a redelivering bus would -- and every read must answer alike.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "common/strings.h"
#include "store/store.h"
#include "store/store_test_orders.h"

namespace vantage::store {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class ClickHouseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("CLICKHOUSE_URL").empty()) GTEST_SKIP() << "CLICKHOUSE_URL is not set";
    static int counter = 0;
    options_.url = env("CLICKHOUSE_URL");
    std::string shards = env("CLICKHOUSE_SHARD_URLS");
    for (auto u : split(shards, ',')) options_.shard_urls.emplace_back(u);
    options_.database =
        "t" + std::to_string(std::random_device{}() % 1000000) + "_" + std::to_string(++counter);
    auto s = open_clickhouse_store(options_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ch_ = std::move(*s);
    dir_ = std::filesystem::temp_directory_path() / ("vantage-chref-" + options_.database);
    std::filesystem::create_directories(dir_);
    SqliteStoreOptions so;
    so.spool_flush_events = 1;
    auto r = open_sqlite_store((dir_ / "events.sqlite").string(), so);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ref_ = std::move(*r);
  }
  void TearDown() override {
    ref_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Random batches over a few days: repeated keys, routes to a few organisations (growing on
  // repeats), tags in mixed case, quarantined records and one checkpoint per batch.
  std::vector<IngestBatch> random_batches(int batches, int per_batch, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<IngestBatch> out;
    uint64_t occurrence = 1000;
    for (int b = 0; b < batches; ++b) {
      IngestBatch batch;
      for (int i = 0; i < per_batch; ++i) {
        EventRecord e;
        e.day = 20000 + static_cast<DayNumber>(rng() % 3);
        uint64_t k = rng() % 150;
        e.event_key = k * 7919 + 13;
        e.type = k % 3 ? "scan_http" : "honeypot_ssh";
        e.occurrence_id = ++occurrence;
        e.timestamp = int64_t{e.day} * 86400 + static_cast<int64_t>(rng() % 600);
        e.ip = "192.0.2." + std::to_string(k);
        e.asn = 64500 + static_cast<uint32_t>(k % 4);
        e.geo = k % 2 ? "NL" : "DE";
        e.region = k % 4 ? "North" : "South";
        e.severity = static_cast<uint8_t>(k % 5);
        e.tag = k % 5 == 0 ? "" : (k % 2 ? "Http, vuln" : "ssh,brute,SSH");
        e.row = "row\t" + std::to_string(k) + "\n\\x" + std::string(1, '\0') + "'end";
        e.routes.push_back({static_cast<uint32_t>(k % 7), MatchFilter::kCidr});
        if (rng() % 4 == 0)
          e.routes.push_back({static_cast<uint32_t>(rng() % 9), MatchFilter::kAsn});
        batch.events.push_back(std::move(e));
      }
      batch.quarantined.push_back({"file-" + std::to_string(b), b + 1, "ip", "bad ip", "x\ty"});
      SourceCheckpoint c;
      c.source_key = "src-" + std::to_string(b % 2);
      c.source_name = "input " + std::to_string(b % 2);
      c.offset = (b + 1) * 100;
      c.line = (b + 1) * 10;
      c.accepted = per_batch;
      batch.checkpoint = c;
      out.push_back(std::move(batch));
    }
    return out;
  }

  // Writes each batch once to the reference and, to ClickHouse, a prefix first (a delivery
  // cut short) and then the whole batch twice.
  void write_both(const std::vector<IngestBatch>& batches) {
    for (const auto& b : batches) {
      auto r = ref_->write(b);
      ASSERT_TRUE(r.ok()) << r.error().message;
      IngestBatch half;
      half.events.assign(b.events.begin(), b.events.begin() + b.events.size() / 2);
      {
        auto w = ch_->write(half);
        ASSERT_TRUE(w.ok()) << w.error().message;
      }
      for (int i = 0; i < 2; ++i) {
        auto c = ch_->write(b);
        ASSERT_TRUE(c.ok()) << c.error().message;
        EXPECT_EQ(c->inserted, r->inserted);
        EXPECT_EQ(c->deduplicated, r->deduplicated);
        EXPECT_EQ(c->routed, r->routed);
      }
    }
    ASSERT_TRUE(ref_->settle().ok());
  }

  static std::string describe(const StoredEvent& e) {
    return std::to_string(e.day) + "|" + e.type + "|" + std::to_string(e.event_key) + "|" +
           std::to_string(e.first_seen) + "|" + std::to_string(e.last_seen) + "|" +
           std::to_string(e.count) + "|" + e.ip + "|" + std::to_string(e.asn) + "|" + e.geo + "|" +
           e.region + "|" + std::to_string(e.severity) + "|" + e.tag + "|" + e.row + "|" +
           (e.new_since_previous_day ? "new" : "old");
  }

  std::vector<std::string> report(EventStore& s, const ReportKey& k) {
    std::vector<std::string> rows;
    auto st = s.scan_report(k, [&](const StoredEvent& e) {
      rows.push_back(describe(e));
      return true;
    });
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.message());
    return rows;
  }

  // scan_reports over `keys`: "org/type/filter|row" per row, in the order handed over, with a
  // check that each row comes with the very key object it belongs to.
  static std::vector<std::string> bulk(EventStore& s, const std::vector<ReportKey>& keys,
                                       size_t stop_after = SIZE_MAX) {
    std::vector<std::string> rows;
    auto st = s.scan_reports(keys, [&](const ReportKey& k, const StoredEvent& e) {
      EXPECT_TRUE(&k >= keys.data() && &k < keys.data() + keys.size());
      rows.push_back(std::to_string(k.org_id) + "/" + k.type + "/" + match_filter_name(k.filter) +
                     "|" + describe(e));
      return rows.size() < stop_after;
    });
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.message());
    return rows;
  }

  static std::vector<std::string> flat(const Result<std::vector<StatsRow>>& r) {
    std::vector<std::string> out;
    if (!r) return {"error: " + r.error().message};
    for (const auto& row : *r)
      out.push_back(join(row.keys, "/") + "=" + std::to_string(row.events));
    return out;
  }

  void expect_same_reads(bool checkpoint_counters = true) {
    for (DayNumber day = 20000; day < 20003; ++day) {
      auto a = ref_->report_keys(day, std::nullopt);
      auto b = ch_->report_keys(day, std::nullopt);
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->size(), b->size()) << "day " << day;
      for (size_t i = 0; i < a->size(); ++i) {
        const auto &x = (*a)[i], &y = (*b)[i];
        EXPECT_EQ(std::tie(x.org_id, x.type, x.filter, x.rows),
                  std::tie(y.org_id, y.type, y.filter, y.rows));
        EXPECT_EQ(report(*ref_, x), report(*ch_, y)) << "org " << x.org_id << " " << x.type;
      }
    }
    std::vector<StatsQuery> queries;
    for (std::vector<std::string> g : {std::vector<std::string>{},
                                       {"day"},
                                       {"type", "severity"},
                                       {"geo", "region"},
                                       {"asn"},
                                       {"day", "tag"},
                                       {"geo", "tag"}}) {
      StatsQuery q;
      q.first_day = 20000;
      q.last_day = 20002;
      q.group_by = g;
      queries.push_back(q);
      q.org_id = 3;
      queries.push_back(q);
    }
    StatsQuery f;
    f.first_day = 20001;
    f.last_day = 20002;
    f.tag = "vuln";
    f.group_by = {"type"};
    queries.push_back(f);
    f.tag.clear();
    f.min_severity = 2;
    f.types = {"scan_http"};
    queries.push_back(f);
    for (const auto& q : queries) {
      EXPECT_EQ(flat(ref_->stats(q)), flat(ch_->stats(q)))
          << "group by " << join(q.group_by, ",") << (q.org_id ? " org" : "");
    }
    EventQuery eq;
    eq.first_day = 20000;
    eq.last_day = 20002;
    eq.org_id = 2;
    eq.limit = 40;
    eq.offset = 3;
    for (bool desc : {false, true}) {
      eq.descending = desc;
      auto a = ref_->query(eq);
      auto b = ch_->query(eq);
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->size(), b->size());
      for (size_t i = 0; i < a->size(); ++i) {
        StoredEvent x = (*a)[i], y = (*b)[i];
        x.new_since_previous_day = y.new_since_previous_day = true;
        EXPECT_EQ(describe(x), describe(y));
      }
    }
    auto qa = ref_->quarantine_count();
    auto qb = ch_->quarantine_count();
    ASSERT_TRUE(qa.ok() && qb.ok());
    EXPECT_EQ(*qa, *qb);
    auto ca = ref_->checkpoints();
    auto cb = ch_->checkpoints();
    ASSERT_TRUE(ca.ok() && cb.ok());
    ASSERT_EQ(ca->size(), cb->size());
    for (size_t i = 0; i < ca->size(); ++i) {
      const auto &x = (*ca)[i], &y = (*cb)[i];
      EXPECT_EQ(std::tie(x.source_key, x.offset, x.line), std::tie(y.source_key, y.offset, y.line));
      if (checkpoint_counters) {
        EXPECT_EQ(std::tie(x.deduplicated, x.routed), std::tie(y.deduplicated, y.routed));
      }
    }
  }

  // Every event through read_after in pages of `page`: (day, key, routes) in id order.
  std::vector<std::string> tail(EventStore& s, int64_t page, std::optional<uint32_t> org) {
    std::vector<std::string> out;
    TailQuery q;
    q.limit = page;
    q.org_id = org;
    for (int guard = 0; guard < 1000; ++guard) {
      auto p = s.read_after(q, [&](const StoredEvent& e, const std::vector<OrgRoute>& routes) {
        std::string r = std::to_string(e.day) + ":" + std::to_string(e.event_key);
        for (const auto& o : routes) r += "," + std::to_string(o.org_id);
        out.push_back(r);
        return true;
      });
      EXPECT_TRUE(p.ok());
      if (!p.ok() || p->examined_to == q.after_id) break;
      q.after_id = p->examined_to;
    }
    return out;
  }

  ClickHouseStoreOptions options_;
  std::unique_ptr<EventStore> ch_, ref_;
  std::filesystem::path dir_;
};

TEST_F(ClickHouseStoreTest, RedeliveredBatchesReadLikeOneDelivery) {
  write_both(random_batches(6, 200, 7));
  expect_same_reads();
}

// The pipeline merges queued batches: one write of 70,000 occurrences (its dedup queries list
// every occurrence id) must go through like a small one -- ClickHouse's default AST limit
// refused it.
TEST_F(ClickHouseStoreTest, LargeBatchIsWrittenAndDeduplicated) {
  write_both(random_batches(1, 70000, 11));
  expect_same_reads();
}

// The bulk read must give every report's rows grouped and ordered exactly like one
// scan_report per key, whatever the chunking: tiny chunks (a few organisations per query), one
// chunk for the whole day, subsets of the keys (organisations left out inside a chunk's
// range), one organisation alone, and a caller that stops early.
TEST_F(ClickHouseStoreTest, BulkReportScanMatchesPerReportScans) {
  write_both(random_batches(8, 250, 31));
  std::mt19937 rng(31);
  for (int64_t chunk : {int64_t{1}, int64_t{37}, int64_t{1000000}}) {
    ClickHouseStoreOptions o = options_;
    o.report_chunk_rows = chunk;
    auto opened = open_clickhouse_store(o);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EventStore& ch = **opened;
    for (DayNumber day = 20000; day < 20003; ++day) {
      auto keys = ref_->report_keys(day, std::nullopt);
      ASSERT_TRUE(keys.ok());
      ASSERT_GT(keys->size(), 3u);
      std::vector<std::string> one_by_one;
      for (const auto& k : *keys) {
        for (auto& r : report(*ref_, k))
          one_by_one.push_back(std::to_string(k.org_id) + "/" + k.type + "/" +
                               match_filter_name(k.filter) + "|" + r);
      }
      EXPECT_EQ(bulk(*ref_, *keys), one_by_one) << "day " << day;
      EXPECT_EQ(bulk(ch, *keys), one_by_one) << "day " << day << ", chunk " << chunk;
      for (int trial = 0; trial < 3; ++trial) {
        std::vector<ReportKey> some;
        for (const auto& k : *keys)
          if (rng() % 3) some.push_back(k);
        EXPECT_EQ(bulk(ch, some), bulk(*ref_, some)) << "day " << day << ", subset " << trial;
      }
      std::vector<ReportKey> one_org;
      for (const auto& k : *keys)
        if (k.org_id == (*keys)[keys->size() / 2].org_id) one_org.push_back(k);
      EXPECT_EQ(bulk(ch, one_org), bulk(*ref_, one_org));
      auto stopped = bulk(ch, *keys, 5);
      EXPECT_EQ(stopped.size(), 5u);
      EXPECT_EQ(stopped, std::vector<std::string>(one_by_one.begin(), one_by_one.begin() + 5));
    }
    // Keys out of report order, or of two days, are refused (both stores).
    auto a = ch.report_keys(20000, std::nullopt);
    auto b = ch.report_keys(20001, std::nullopt);
    ASSERT_TRUE(a.ok() && b.ok() && a->size() > 1 && !b->empty());
    std::vector<ReportKey> reversed(a->rbegin(), a->rend());
    std::vector<ReportKey> two_days = {a->front(), b->back()};
    auto no_row = [](const ReportKey&, const StoredEvent&) { return true; };
    for (EventStore* s : {&ch, ref_.get()}) {
      for (const auto* bad : {&reversed, &two_days}) {
        auto st = s->scan_reports(*bad, no_row);
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
      }
    }
  }
}

// The same occurrences, in other orders and with batches delivered again out of order (a
// redelivery after newer messages, a delivery cut short), give the reports and query answers
// of the embedded store, byte for byte.
TEST_F(ClickHouseStoreTest, ReportsDoNotDependOnArrivalOrderOrRedelivery) {
  auto occurrences = testing::order_test_occurrences(5, /*with_unknown_ids=*/true);
  for (const auto& b : testing::order_test_batches(occurrences, 0, 1000)) {
    auto w = ref_->write(b);
    ASSERT_TRUE(w.ok()) << w.error().message;
  }
  ASSERT_TRUE(ref_->settle().ok());
  std::string expected = testing::order_test_dump(*ref_);
  ASSERT_NE(expected.find("report "), std::string::npos);
  for (auto [seed, per_batch] : {std::pair<uint32_t, size_t>{1, 40}, {2, 7}}) {
    ClickHouseStoreOptions o = options_;
    o.database += "_order" + std::to_string(seed);
    auto s = open_clickhouse_store(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto& store = **s;
    auto batches = testing::order_test_batches(occurrences, seed, per_batch);
    for (size_t i = 0; i < batches.size(); ++i) {
      if (i == 1) {  // cut short first (its known occurrences: see below)
        IngestBatch half;
        for (size_t j = 0; j < batches[i].events.size() / 2; ++j) {
          if (batches[i].events[j].occurrence_id) half.events.push_back(batches[i].events[j]);
        }
        ASSERT_TRUE(store.write(half).ok());
      }
      auto w = store.write(batches[i]);
      ASSERT_TRUE(w.ok()) << w.error().message;
    }
    // Batch 0 again, after everything newer. Occurrences without an id are distinct by
    // definition (a bus never has them: the pipeline gives every record one), so they stay out.
    IngestBatch again;
    for (const auto& e : batches[0].events) {
      if (e.occurrence_id) again.events.push_back(e);
    }
    ASSERT_TRUE(store.write(again).ok());
    EXPECT_EQ(testing::order_test_dump(store), expected)
        << "seed " << seed << ", batches of " << per_batch;
  }
}

TEST_F(ClickHouseStoreTest, ReadAfterHandsOutEachEventOnceInInsertionOrder) {
  write_both(random_batches(3, 150, 11));
  EXPECT_EQ(tail(*ref_, 17, std::nullopt), tail(*ch_, 17, std::nullopt));
  EXPECT_EQ(tail(*ref_, 5, 4u), tail(*ch_, 5, 4u));
  auto last = ch_->last_event_id();
  ASSERT_TRUE(last.ok());
  EXPECT_GT(*last, 0);
  // Ids grow: a new event written later gets a greater id than every stored one.
  IngestBatch b;
  EventRecord e;
  e.day = 20005;
  e.type = "scan_http";
  e.event_key = 424242;
  e.occurrence_id = 99999999;
  e.timestamp = 20005 * 86400;
  b.events.push_back(e);
  {
    auto w = ch_->write(b);
    ASSERT_TRUE(w.ok()) << w.error().message;
  }
  TailQuery q;
  q.after_id = *last;
  int64_t seen = 0;
  auto p = ch_->read_after(q, [&](const StoredEvent& ev, const std::vector<OrgRoute>&) {
    EXPECT_EQ(ev.event_key, 424242u);
    EXPECT_GT(ev.id, *last);
    ++seen;
    return true;
  });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(seen, 1);
}

// Bus workers writing one database at once: messages stored out of stream order, by two
// writers, one of them twice (a redelivery to the other worker). Rows are numbered from their
// place on the bus, and read_after shows only what lies below the acknowledgement floor -- so a
// cursor that follows the writers sees every event exactly once, and the reports equal the
// embedded store's.
TEST_F(ClickHouseStoreTest, ParallelBusWritersKeepIdsUniqueAndTheCursorComplete) {
  auto messages = random_batches(8, 120, 31);
  for (size_t i = 0; i < messages.size(); ++i) {
    int64_t line = 1;
    for (auto& e : messages[i].events) e.line = ++line;  // line 1: a CSV header, say
    messages[i].bus_sequence = i + 1;
    messages[i].checkpoint->source_key = "bus:m" + std::to_string(i);
    messages[i].checkpoint->line = line;
    messages[i].quarantined[0].line = line + 1;
    auto r = ref_->write(messages[i]);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  ASSERT_TRUE(ref_->settle().ok());
  auto other = open_clickhouse_store(options_);
  ASSERT_TRUE(other.ok()) << other.error().message;
  EventStore* writers[2] = {ch_.get(), other->get()};
  auto reader = open_clickhouse_store(options_);
  ASSERT_TRUE(reader.ok()) << reader.error().message;

  std::map<std::string, int> seen;  // day:key -> times handed out
  std::set<int64_t> ids;
  int64_t cursor = 0;
  auto follow = [&] {
    for (int guard = 0; guard < 100; ++guard) {
      TailQuery q;
      q.after_id = cursor;
      q.limit = 50;
      auto p = (*reader)->read_after(q, [&](const StoredEvent& e, const std::vector<OrgRoute>&) {
        ++seen[std::to_string(e.day) + ":" + std::to_string(e.event_key)];
        EXPECT_TRUE(ids.insert(e.id).second) << "id " << e.id << " handed out twice";
        return true;
      });
      ASSERT_TRUE(p.ok()) << p.error().message;
      if (p->examined_to == cursor) return;
      cursor = p->examined_to;
    }
  };
  // (message, writer) in the order the writes finish; the floor follows the acknowledgements.
  std::vector<std::pair<size_t, int>> order = {{1, 1}, {0, 0}, {3, 1}, {2, 0}, {4, 1},
                                               {6, 0}, {4, 0}, {7, 1}, {5, 0}};
  std::set<size_t> done;
  for (auto [m, w] : order) {
    if (m == 5) {  // cut short once, by the other writer, before its full delivery
      IngestBatch half = messages[m];
      half.events.resize(half.events.size() / 2);
      half.checkpoint->line = half.events.back().line;
      ASSERT_TRUE(writers[1 - w]->write(half).ok());
      follow();
    }
    auto r = writers[w]->write(messages[m]);
    ASSERT_TRUE(r.ok()) << r.error().message;
    done.insert(m);
    uint64_t floor = 0;
    while (done.count(floor)) ++floor;
    ASSERT_TRUE(writers[w]->bus_committed(floor).ok());
    follow();
    // Nothing of a message above the floor is out yet.
    auto last = (*reader)->last_event_id();
    ASSERT_TRUE(last.ok());
    EXPECT_LE(*last, cursor);
  }
  follow();
  std::set<std::string> expected;
  auto all = tail(*ref_, 1000, std::nullopt);
  for (const auto& r : all) expected.insert(r.substr(0, r.find(',')));
  EXPECT_EQ(seen.size(), expected.size());
  for (const auto& [k, n] : seen) {
    EXPECT_EQ(n, 1) << k;
    EXPECT_TRUE(expected.count(k)) << k;
  }
  // Per-message counters (inserted/deduplicated) follow the order the writes happened in.
  expect_same_reads(/*checkpoint_counters=*/false);
}

TEST_F(ClickHouseStoreTest, RetentionDropsEventsAndKeepsStatistics) {
  write_both(random_batches(4, 150, 23));
  auto a = ref_->drop_events_before(20002);
  auto b = ch_->drop_events_before(20002);
  ASSERT_TRUE(a.ok() && b.ok()) << (b.ok() ? "" : b.error().message);
  EXPECT_EQ(*a, *b);
  auto again = ch_->drop_events_before(20002);  // a repeat changes nothing
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  expect_same_reads();
}

TEST_F(ClickHouseStoreTest, QuarantineKeepsEachRecordOnce) {
  IngestBatch b;
  b.quarantined.push_back({"stdin", 3, "timestamp", "missing", std::string(5000, 'x')});
  b.quarantined.push_back({"stdin", 4, "ip", "bad\tip", "1.2.3"});
  {
    auto w = ch_->write(b);
    ASSERT_TRUE(w.ok()) << w.error().message;
  }
  {
    auto w = ch_->write(b);
    ASSERT_TRUE(w.ok()) << w.error().message;
  }
  auto n = ch_->quarantine_count();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  auto q = ch_->quarantine(10);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].line, 4);  // newest first
  EXPECT_EQ((*q)[0].reason, "bad\tip");
  EXPECT_EQ((*q)[1].raw.size(), 4096u);  // truncated like the embedded store
}

// Two bus messages of one file carry the same source name and count their lines from 1: alike
// records of two inputs (two source keys) are two records, a redelivery of either is not.
TEST_F(ClickHouseStoreTest, AlikeQuarantineRecordsOfTwoInputsAreBothKept) {
  for (const char* key : {"bus:file:k:1", "bus:file:k:2", "bus:file:k:1"}) {
    IngestBatch b;
    b.quarantined.push_back({"feed.jsonl", 97, "ip", "missing", "{\"ip\":\"\"}"});
    SourceCheckpoint cp;
    cp.source_key = key;
    cp.source_name = "feed.jsonl";
    cp.done = true;
    b.checkpoint = cp;
    auto w = ch_->write(b);
    ASSERT_TRUE(w.ok()) << w.error().message;
  }
  auto n = ch_->quarantine_count();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
}

TEST_F(ClickHouseStoreTest, CheckpointsKeepTheLatestVersion) {
  for (int64_t off : {10, 20, 30}) {
    IngestBatch b;
    SourceCheckpoint c;
    c.source_key = "k";
    c.source_name = "file";
    c.offset = off;
    c.done = off == 30;
    b.checkpoint = c;
    {
      auto w = ch_->write(b);
      ASSERT_TRUE(w.ok()) << w.error().message;
    }
  }
  auto c = ch_->checkpoint("k");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->offset, 30);
  EXPECT_TRUE((*c)->done);
  auto none = ch_->checkpoint("other");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(ClickHouseStoreTest, UnreachableServerIsAClearError) {
  ClickHouseStoreOptions o;
  o.url = "http://127.0.0.1:1";
  o.retries = 1;
  o.retry_backoff_ms = 10;
  auto s = open_clickhouse_store(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("http://127.0.0.1:1"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace vantage::store
