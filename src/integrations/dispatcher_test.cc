// The delivery state and the dispatcher over a real SQLite store and registry, with a
// recording Sender: order, filters, retries and dead letters, exactly once across restarts,
// and (randomised) that no subscription ever receives another organisation's events.

#include "integrations/dispatcher.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "core/event.h"
#include "integrations/delivery_state.h"
#include "registry/sqlite/sqlite_registry.h"

namespace vantage::integrations {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What the receivers got: per subscription, the delivery ids and event ids in arrival order.
struct Received {
  std::mutex mu;
  std::condition_variable cv;
  std::map<int64_t, std::vector<std::string>> deliveries;
  std::map<int64_t, std::vector<int64_t>> events;
  std::map<int64_t, int> fail_next;  // this many sends of the subscription fail
  int64_t total = 0;
};

// Reads the event ids back out of a webhook body (JSON Lines: "id" of each line).
std::vector<int64_t> ids_of(std::string_view payload) {
  std::vector<int64_t> ids;
  size_t pos = 0;
  while ((pos = payload.find("\"id\":", pos)) != std::string_view::npos) {
    pos += 5;
    ids.push_back(std::stoll(std::string(payload.substr(pos, 20))));
  }
  return ids;
}

class RecordingSender : public Sender {
 public:
  RecordingSender(Received& r, int64_t sub) : r_(r), sub_(sub) {}
  SendResult send(std::string_view payload, int64_t, const BatchInfo& batch) override {
    std::lock_guard lock(r_.mu);
    if (r_.fail_next[sub_] > 0) {
      --r_.fail_next[sub_];
      return SendResult::retry(503, "HTTP 503: injected");
    }
    r_.deliveries[sub_].push_back(batch.delivery_id());
    for (int64_t id : ids_of(payload)) r_.events[sub_].push_back(id);
    r_.total += static_cast<int64_t>(ids_of(payload).size());
    r_.cv.notify_all();
    return SendResult::delivered(200);
  }

 private:
  Received& r_;
  int64_t sub_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("vantage-dispatch-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    setenv("VANTAGE_SERVER_KEY", std::string(64, 'a').c_str(), 1);
    auto reg = registry::SqliteRegistry::open_in_data_dir(dir_.string());
    ASSERT_TRUE(reg.ok()) << reg.error().message;
    registry_ = std::move(*reg);
    auto st = store::open_sqlite_store((dir_ / "events.sqlite").string());
    ASSERT_TRUE(st.ok()) << st.error().message;
    store_ = std::move(*st);
  }
  void TearDown() override {
    dispatcher_.reset();
    store_.reset();
    registry_.reset();
    fs::remove_all(dir_);
    unsetenv("VANTAGE_SERVER_KEY");
  }

  registry::OrgId org(const std::string& name) {
    registry::NewOrganisation o;
    o.name = name;
    o.short_name = name;
    auto r = registry_->add_org(o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r->id;
  }

  int64_t subscribe(registry::OrgId org_id, const std::string& name,
                    registry::Severity min = registry::Severity::kHigh,
                    std::vector<std::string> types = {}, int64_t max_batch = 500) {
    registry::NewSubscription n;
    n.name = name;
    n.kind = registry::SubscriptionKind::kWebhook;
    n.address = "http://127.0.0.1:9/hook";
    n.secret = "s";
    n.min_severity = min;
    n.report_types = std::move(types);
    n.batch_window_s = 0;
    n.max_batch = max_batch;
    auto r = registry_->add_subscription(org_id, n);
    EXPECT_TRUE(r.ok()) << r.error().message;
    // As `vantage subscription add` does: the cursor starts at the store's end now, so the
    // subscription gets what is stored after its creation even while it is disabled.
    auto state = DeliveryState::open((dir_ / "integrations.sqlite").string());
    EXPECT_TRUE(state.ok() && (*state)->start_cursor(r->id, *store_->last_event_id()).ok());
    return r->id;
  }

  // Writes events (one per element: its routes' organisations, its severity, its type).
  struct Ev {
    std::vector<registry::OrgId> orgs;
    uint8_t severity = 4;
    std::string type = "scan_http";
  };
  std::vector<int64_t> write(const std::vector<Ev>& evs) {
    store::IngestBatch b;
    for (const auto& e : evs) {
      store::EventRecord r;
      r.day = 20468;
      r.type = e.type;
      r.event_key = ++key_;
      r.timestamp = 20468 * 86400 + 60;
      r.ip = "192.0.2.1";
      r.severity = e.severity;
      const core::ReportType* t = core::Catalogue::builtin().find(e.type);
      core::Event ev(t);
      ev.set_timestamp(r.timestamp);
      ev.set_ip(*IpAddress::parse("192.0.2.1"));
      ev.encode(r.row);
      for (auto o : e.orgs)
        r.routes.push_back({static_cast<uint32_t>(o), store::MatchFilter::kCidr});
      b.events.push_back(std::move(r));
    }
    auto before = store_->last_event_id();
    EXPECT_TRUE(store_->write(b).ok());
    auto after = store_->last_event_id();
    std::vector<int64_t> ids;
    for (int64_t id = *before + 1; id <= *after; ++id) ids.push_back(id);
    return ids;
  }

  void start(int64_t max_attempts = 3) {
    DispatcherOptions o;
    o.poll_interval = 20ms;
    o.max_attempts = max_attempts;
    o.retry_initial = 20ms;
    o.retry_max = 50ms;
    o.stop_grace = 2000ms;
    std::string dir = dir_.string();
    DispatcherSources s;
    s.open_registry = [dir]() -> Result<std::unique_ptr<registry::Registry>> {
      auto r = registry::SqliteRegistry::open_in_data_dir(dir);
      if (!r) return r.error();
      return std::unique_ptr<registry::Registry>(std::move(*r));
    };
    s.open_store = [dir] { return store::open_sqlite_store(dir + "/events.sqlite"); };
    s.open_state = [dir] { return DeliveryState::open(dir + "/integrations.sqlite"); };
    s.catalogue = std::shared_ptr<const core::Catalogue>(&core::Catalogue::builtin(),
                                                         [](const core::Catalogue*) {});
    s.make_sender = [this](const registry::Subscription& sub) {
      return std::make_unique<RecordingSender>(received_, sub.id);
    };
    dispatcher_ = std::make_unique<Dispatcher>(o, s);
    auto st = dispatcher_->start();
    ASSERT_TRUE(st.ok()) << st.message();
  }

  // Waits until `n` events in all arrived (or 10 s passed).
  bool wait_total(int64_t n) {
    std::unique_lock lock(received_.mu);
    return received_.cv.wait_for(lock, 10s, [&] { return received_.total >= n; });
  }

  fs::path dir_;
  std::unique_ptr<registry::SqliteRegistry> registry_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<Dispatcher> dispatcher_;
  Received received_;
  uint64_t key_ = 0;
};

TEST_F(DispatcherTest, DeliversMatchingEventsInOrder) {
  auto a = org("org_a"), b = org("org_b");
  write({{{a}}});  // before the subscription: not pushed (no history)
  int64_t sa = subscribe(a, "a_hook", registry::Severity::kHigh, {}, 3);
  int64_t sb = subscribe(b, "b_hook", registry::Severity::kMedium, {"scan_http"});
  start();
  auto ids = write({{{a}, 4},
                    {{a, b}, 3},
                    {{b}, 2},
                    {{b}, 1},              // below b's threshold
                    {{a}, 2},              // below a's threshold
                    {{b}, 4, "scan_ftp"},  // not b's type
                    {{a}, 4, "scan_ftp"},
                    {{a}, 3},
                    {{a}, 4}});
  ASSERT_TRUE(wait_total(7));
  dispatcher_->stop();
  std::lock_guard lock(received_.mu);
  EXPECT_EQ(received_.events[sa], (std::vector<int64_t>{ids[0], ids[1], ids[6], ids[7], ids[8]}));
  EXPECT_EQ(received_.events[sb], (std::vector<int64_t>{ids[1], ids[2]}));
  // max_batch 3: five events in at least two batches, numbered from 1 in order.
  ASSERT_GE(received_.deliveries[sa].size(), 2u);
  EXPECT_EQ(received_.deliveries[sa][0], std::to_string(sa) + "-1");
  EXPECT_EQ(received_.deliveries[sa][1], std::to_string(sa) + "-2");
}

TEST_F(DispatcherTest, RetriesThenDeadLettersAndGoesOn) {
  auto a = org("org_a");
  int64_t sa = subscribe(a, "hook");
  {
    std::lock_guard lock(received_.mu);
    received_.fail_next[sa] = 3;  // max_attempts 3: the first batch dies
  }
  start(3);
  auto first = write({{{a}}, {{a}}});
  // Wait for the death of the first batch, then send more.
  for (int i = 0; i < 200 && dispatcher_->counters().batches_dead == 0; ++i)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(dispatcher_->counters().batches_dead, 1);
  auto second = write({{{a}}});
  ASSERT_TRUE(wait_total(1));
  dispatcher_->stop();
  {
    std::lock_guard lock(received_.mu);
    EXPECT_EQ(received_.events[sa], (std::vector<int64_t>{second[0]}));
  }
  auto state = DeliveryState::open((dir_ / "integrations.sqlite").string());
  ASSERT_TRUE(state.ok());
  auto dead = (*state)->dead_letters(sa, true, 10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].first_event, first[0]);
  EXPECT_EQ((*dead)[0].last_event, first[1]);
  EXPECT_EQ((*dead)[0].attempts, 3);
  EXPECT_EQ(ids_of((*dead)[0].payload), first);  // the body is kept for the operator
  auto log = (*state)->attempts(sa, 10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 4u);  // retry, retry, dead, delivered (newest first)
  EXPECT_EQ((*log)[0].outcome, "delivered");
  EXPECT_EQ((*log)[1].outcome, "dead");
  EXPECT_EQ((*log)[1].status, 503);
  EXPECT_EQ((*log)[3].outcome, "retry");
}

TEST_F(DispatcherTest, ExactlyOnceAcrossRestarts) {
  auto a = org("org_a");
  int64_t sa = subscribe(a, "hook", registry::Severity::kInfo, {}, 7);
  std::vector<int64_t> all;
  std::mt19937 rng(7);
  for (int round = 0; round < 6; ++round) {
    {
      std::lock_guard lock(received_.mu);
      received_.fail_next[sa] = static_cast<int>(rng() % 3);  // some pending at the stop
    }
    start(1000);
    for (int w = 0; w < 5; ++w) {
      std::vector<Ev> evs(1 + rng() % 9, Ev{{a}, static_cast<uint8_t>(rng() % 5)});
      for (int64_t id : write(evs)) all.push_back(id);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 30));
    }
    dispatcher_->stop();  // stopped with work left at random points
    dispatcher_.reset();
  }
  start(1000);
  ASSERT_TRUE(wait_total(static_cast<int64_t>(all.size())));
  dispatcher_->stop();
  std::lock_guard lock(received_.mu);
  EXPECT_EQ(received_.events[sa], all) << "every event once, in order";
  std::set<std::string> ids(received_.deliveries[sa].begin(), received_.deliveries[sa].end());
  EXPECT_EQ(ids.size(), received_.deliveries[sa].size()) << "no delivery id twice";
}

TEST_F(DispatcherTest, RandomisedIsolation) {
  std::mt19937 rng(20260115);
  std::vector<registry::OrgId> orgs;
  for (int i = 0; i < 6; ++i) orgs.push_back(org("org_" + std::to_string(i)));
  struct SubInfo {
    int64_t id;
    registry::OrgId org;
    uint8_t min;
    std::vector<std::string> types;
  };
  std::vector<SubInfo> subs;
  const std::vector<std::string> kTypes = {"scan_http", "scan_ftp", "scan_rdp"};
  for (int i = 0; i < 10; ++i) {
    registry::OrgId o = orgs[rng() % orgs.size()];
    auto min = static_cast<uint8_t>(rng() % 5);
    std::vector<std::string> types;
    if (rng() % 2) types = {kTypes[rng() % kTypes.size()]};
    subs.push_back(
        {subscribe(o, "s" + std::to_string(i), static_cast<registry::Severity>(min), types), o, min,
         types});
  }
  start();
  std::map<int64_t, std::vector<int64_t>> want;
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Ev> evs;
    for (int k = 0; k < 25; ++k) {
      Ev e;
      for (auto o : orgs)
        if (rng() % 4 == 0) e.orgs.push_back(o);
      e.severity = static_cast<uint8_t>(rng() % 5);
      e.type = kTypes[rng() % kTypes.size()];
      evs.push_back(e);
    }
    auto ids = write(evs);
    for (size_t k = 0; k < evs.size(); ++k) {
      for (const auto& s : subs) {
        bool routed = std::find(evs[k].orgs.begin(), evs[k].orgs.end(), s.org) != evs[k].orgs.end();
        bool typed = s.types.empty() || s.types[0] == evs[k].type;
        if (routed && typed && evs[k].severity >= s.min) want[s.id].push_back(ids[k]);
      }
    }
  }
  int64_t total = 0;
  for (auto& [id, v] : want) total += static_cast<int64_t>(v.size());
  ASSERT_TRUE(wait_total(total));
  std::this_thread::sleep_for(200ms);  // anything extra would arrive now
  dispatcher_->stop();
  std::lock_guard lock(received_.mu);
  for (const auto& s : subs)
    EXPECT_EQ(received_.events[s.id], want[s.id]) << "subscription " << s.id;
  EXPECT_EQ(received_.total, total);
}

TEST_F(DispatcherTest, DisabledAndRemovedSubscriptionsStop) {
  auto a = org("org_a");
  int64_t sa = subscribe(a, "hook", registry::Severity::kInfo);
  start();
  write({{{a}}});
  ASSERT_TRUE(wait_total(1));
  registry::SubscriptionUpdate off;
  off.enabled = false;
  ASSERT_TRUE(registry_->update_subscription(sa, off).ok());
  std::this_thread::sleep_for(100ms);
  auto while_off = write({{{a}}});
  std::this_thread::sleep_for(200ms);
  {
    std::lock_guard lock(received_.mu);
    EXPECT_EQ(received_.total, 1);
  }
  registry::SubscriptionUpdate on;
  on.enabled = true;
  ASSERT_TRUE(registry_->update_subscription(sa, on).ok());
  ASSERT_TRUE(wait_total(2));  // re-enabled: it resumes where it stopped
  {
    std::lock_guard lock(received_.mu);
    EXPECT_EQ(received_.events[sa].back(), while_off[0]);
  }
  ASSERT_TRUE(registry_->remove_subscription(sa).ok());
  std::this_thread::sleep_for(100ms);
  write({{{a}}});
  std::this_thread::sleep_for(200ms);
  dispatcher_->stop();
  std::lock_guard lock(received_.mu);
  EXPECT_EQ(received_.total, 2);
}

// Switching deliveries over while one subscription waits for a retry: the one disabled keeps
// its pending batch for later, the one enabled starts at once.
TEST_F(DispatcherTest, SwitchingSubscriptionsWhileOneRetries) {
  auto a = org("org_a"), b = org("org_b");
  int64_t sa = subscribe(a, "a", registry::Severity::kInfo);
  int64_t sb = subscribe(b, "b", registry::Severity::kInfo);
  registry::SubscriptionUpdate off;
  off.enabled = false;
  ASSERT_TRUE(registry_->update_subscription(sb, off).ok());
  {
    std::lock_guard lock(received_.mu);
    received_.fail_next[sa] = 1000;  // a's receiver is down
  }
  start(1000);
  write({{{a}}, {{b}}});
  std::this_thread::sleep_for(200ms);  // a has a pending batch, retrying
  ASSERT_TRUE(registry_->update_subscription(sa, off).ok());
  std::this_thread::sleep_for(100ms);
  registry::SubscriptionUpdate on;
  on.enabled = true;
  ASSERT_TRUE(registry_->update_subscription(sb, on).ok());
  EXPECT_TRUE(wait_total(1)) << "b was not delivered after a was disabled";
  dispatcher_->stop();
  std::lock_guard lock(received_.mu);
  EXPECT_EQ(received_.events[sb].size(), 1u);
  EXPECT_TRUE(received_.events[sa].empty());
}

TEST(DeliveryStateTest, CursorBatchesAndSummary) {
  fs::path dir =
      fs::temp_directory_path() / ("vantage-state-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  auto st = DeliveryState::open((dir / "s.sqlite").string());
  ASSERT_TRUE(st.ok()) << st.error().message;
  DeliveryState& s = **st;
  ASSERT_TRUE(s.start_cursor(1, 10).ok());
  ASSERT_TRUE(s.start_cursor(1, 99).ok());  // kept: it exists
  EXPECT_EQ((*s.cursor(1))->after_id, 10);
  ASSERT_TRUE(s.advance_cursor(1, 5).ok());  // never backwards ...
  EXPECT_EQ((*s.cursor(1))->after_id, 10);
  ASSERT_TRUE(s.reset_cursor(1, 5).ok());  // ... unless reset
  EXPECT_EQ((*s.cursor(1))->after_id, 5);
  EXPECT_FALSE(s.create_batch(1, 2, 20, 6, 20, 3, "x", 0).ok());  // seq 1 is next
  auto b = s.create_batch(1, 1, 20, 6, 20, 3, "body", 1000);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ((*s.cursor(1))->after_id, 20);
  EXPECT_EQ((*s.cursor(1))->next_seq, 2);
  auto p = s.pending(1);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->payload, "body");
  Batch done = **p;
  done.attempts = 1;
  done.state = BatchState::kDelivered;
  AttemptRecord a;
  a.sub_id = 1;
  a.seq = 1;
  a.outcome = "delivered";
  a.events = 3;
  ASSERT_TRUE(s.record(a, done, {{7, "mapping"}}).ok());
  EXPECT_FALSE(s.pending(1)->has_value());
  auto sum = s.summary();
  ASSERT_TRUE(sum.ok());
  ASSERT_EQ(sum->size(), 1u);
  EXPECT_EQ((*sum)[0].delivered_events, 3);
  EXPECT_EQ((*sum)[0].rejected_items, 1);
  EXPECT_EQ((*sum)[0].cursor, 20);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vantage::integrations
