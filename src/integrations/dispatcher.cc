#include "integrations/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "integrations/sinks/registry.h"

namespace vantage::integrations {

namespace {

using Clock = std::chrono::steady_clock;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool routes_name(const std::vector<store::OrgRoute>& routes, uint32_t org) {
  // Sorted by organisation (store.h): a binary search on the organisation alone.
  auto it = std::lower_bound(routes.begin(), routes.end(), org,
                             [](const store::OrgRoute& r, uint32_t o) { return r.org_id < o; });
  return it != routes.end() && it->org_id == org;
}

}  // namespace

// One active subscription, owned by the control thread.
struct Dispatcher::Sub {
  registry::Subscription config;
  std::string org;  // short name
  std::unique_ptr<Formatter> formatter;
  std::shared_ptr<Sender> sender;  // shared with the sender thread while a batch is in flight
  int64_t scanned = 0;             // every event up to here has been considered
  int64_t committed = 0;           // the stored cursor
  int64_t next_seq = 1;
  Clock::time_point committed_at = Clock::now();
  std::vector<store::StoredEvent> buffer;  // matches not yet in a batch
  Clock::time_point first_buffered{};
  int64_t first_buffered_ms = 0;
  std::optional<Batch> pending;  // stored, not yet delivered or dead
  bool in_flight = false;
  Clock::time_point next_attempt{};
  bool retired = false;  // removed or disabled while in flight: dropped when it comes back

  bool wants(const store::StoredEvent& ev, const std::vector<store::OrgRoute>& routes) const {
    if (ev.severity < static_cast<uint8_t>(config.min_severity)) return false;
    if (!routes_name(routes, static_cast<uint32_t>(config.org_id))) return false;
    return config.report_types.empty() ||
           std::binary_search(config.report_types.begin(), config.report_types.end(), ev.type);
  }
  bool open_for_events() const {
    return !retired && !pending && buffer.size() < static_cast<size_t>(config.max_batch);
  }
};

struct Dispatcher::Job {
  int64_t sub_id;
  std::shared_ptr<Sender> sender;
  Batch batch;
  BatchInfo info;
};

struct Dispatcher::Outcome {
  int64_t sub_id;
  Batch batch;
  SendResult result;
  int64_t millis;
};

Dispatcher::Dispatcher(DispatcherOptions options, DispatcherSources sources)
    : options_(std::move(options)), sources_(std::move(sources)) {}

Dispatcher::~Dispatcher() {
  stop();
}

Status Dispatcher::start() {
  auto reg = sources_.open_registry();
  if (!reg) return reg.error();
  auto store = sources_.open_store();
  if (!store) return store.error();
  auto state = sources_.open_state();
  if (!state) return state.error();
  registry_ = std::move(*reg);
  store_ = std::move(*store);
  state_ = std::move(*state);
  if (auto st = reload_subscriptions(true); !st) return st;
  control_ = std::thread([this] { control_loop(); });
  for (int i = 0; i < std::max(1, options_.senders); ++i)
    senders_.emplace_back([this] { sender_loop(); });
  return {};
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !control_.joinable()) return;
    stopping_ = true;
  }
  control_cv_.notify_all();
  sender_cv_.notify_all();
  if (control_.joinable()) control_.join();
  for (auto& t : senders_)
    if (t.joinable()) t.join();
  senders_.clear();
}

void Dispatcher::poke() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  control_cv_.notify_one();
}

DispatcherCounters Dispatcher::counters() const {
  DispatcherCounters c;
  c.events_delivered = events_delivered_.load();
  c.batches_delivered = batches_delivered_.load();
  c.attempts_failed = attempts_failed_.load();
  c.batches_dead = batches_dead_.load();
  c.items_rejected = items_rejected_.load();
  c.render_errors = render_errors_.load();
  c.subscriptions = active_subs_.load();
  c.invalid_subscriptions = invalid_subs_.load();
  return c;
}

std::chrono::milliseconds Dispatcher::backoff(int64_t attempt) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  double ms = static_cast<double>(options_.retry_initial.count());
  for (int64_t i = 1; i < attempt && ms < static_cast<double>(options_.retry_max.count()); ++i)
    ms *= 2;
  ms = std::min(ms, static_cast<double>(options_.retry_max.count()));
  // Jitter: receivers coming back are not hit by every subscription in the same millisecond.
  ms *= std::uniform_real_distribution<double>(0.8, 1.2)(rng);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Status Dispatcher::reload_subscriptions(bool force) {
  auto gen = registry_->generation();
  if (!gen) return gen.error();
  if (!force && loaded_ && *gen == generation_) return {};
  auto subs = registry_->list_subscriptions(std::nullopt, /*with_secrets=*/true);
  if (!subs) return subs.error();
  auto head = store_->last_event_id();
  if (!head) return head.error();
  generation_ = *gen;
  loaded_ = true;
  std::map<int64_t, const registry::Subscription*> wanted;
  for (const auto& s : *subs) {
    if (s.enabled && sink_kind(s.kind).sender) wanted[s.id] = &s;
  }
  for (auto& [id, sub] : subs_) {
    if (!wanted.count(id)) sub->retired = true;
  }
  std::erase_if(subs_, [](const auto& kv) { return kv.second->retired && !kv.second->in_flight; });
  int64_t invalid = 0;
  std::map<int64_t, std::string> org_names;
  for (const auto& [id, config] : wanted) {
    auto it = subs_.find(id);
    if (it != subs_.end() && it->second->config.updated_at == config->updated_at &&
        !it->second->retired)
      continue;  // unchanged
    if (it != subs_.end() && it->second->in_flight) {
      // Reconfigured while sending: picked up at the next reload after the answer.
      generation_ = 0;
      continue;
    }
    if (auto st = validate_subscription(*config); !st) {
      ++invalid;
      spdlog::warn("integrations: subscription {} ({}) is not delivered: {}", config->id,
                   config->name, st.message());
      if (it != subs_.end()) subs_.erase(it);
      continue;
    }
    auto org = registry_->find_org(std::to_string(config->org_id));
    if (!org) {
      ++invalid;
      continue;
    }
    auto sub = std::make_unique<Sub>();
    sub->config = *config;
    sub->org = org->short_name;
    SinkEnv env{sources_.catalogue.get(), sub->org, options_.hostname};
    const SinkKind& kind = sink_kind(config->kind);
    sub->formatter = kind.formatter(sub->config, env);
    sub->sender = std::shared_ptr<Sender>(sources_.make_sender ? sources_.make_sender(sub->config)
                                                               : kind.sender(sub->config, env));
    if (it != subs_.end()) {
      // Same subscription, new settings: keep its place in the stream and its pending batch.
      Sub& old = *it->second;
      sub->scanned = old.scanned;
      sub->committed = old.committed;
      sub->committed_at = old.committed_at;
      sub->next_seq = old.next_seq;
      sub->pending = std::move(old.pending);
      sub->next_attempt = old.next_attempt;
      sub->buffer = std::move(old.buffer);  // rendered with the new settings
      sub->first_buffered = old.first_buffered;
      sub->first_buffered_ms = old.first_buffered_ms;
      // Types or severity may have narrowed: buffered events that no longer qualify go.
      std::erase_if(sub->buffer, [&](const store::StoredEvent& e) {
        return e.severity < static_cast<uint8_t>(sub->config.min_severity) ||
               (!sub->config.report_types.empty() &&
                !std::binary_search(sub->config.report_types.begin(),
                                    sub->config.report_types.end(), e.type));
      });
      it->second = std::move(sub);
      continue;
    }
    // A subscription seen for the first time here starts at the current end of the store (a
    // new subscription is not flooded with history); one seen before resumes at its cursor.
    if (auto st = state_->start_cursor(id, *head); !st) return st;
    auto cursor = state_->cursor(id);
    if (!cursor) return cursor.error();
    sub->scanned = sub->committed = (*cursor)->after_id;
    sub->next_seq = (*cursor)->next_seq;
    auto pending = state_->pending(id);
    if (!pending) return pending.error();
    sub->pending = std::move(*pending);
    if (sub->pending) {
      int64_t wait_s = std::max<int64_t>(0, sub->pending->next_attempt - now_seconds());
      sub->next_attempt = Clock::now() + std::chrono::seconds(wait_s);
    }
    subs_[id] = std::move(sub);
  }
  active_subs_.store(static_cast<int64_t>(subs_.size()));
  invalid_subs_.store(invalid);
  return {};
}

void Dispatcher::scan() {
  auto head = store_->last_event_id();
  if (!head) {
    spdlog::warn("integrations: event store: {}", head.error().message);
    return;
  }
  // Subscriptions open for events, grouped by how far they have read: those at the same
  // place (all of them, once they are caught up) share one read of the store.
  std::map<int64_t, std::vector<Sub*>> by_position;
  for (auto& [id, sub] : subs_) {
    if (sub->scanned > *head && sub->buffer.empty()) {
      // The store's newest events were deleted (retention emptied it) and ids are handed out
      // again from below the cursor: follow them down rather than skip what comes.
      spdlog::warn(
          "integrations: subscription {}: store ids fell below its cursor ({} < {}); "
          "cursor reset",
          id, *head, sub->scanned);
      sub->scanned = sub->committed = *head;
      (void)state_->reset_cursor(id, *head);
    }
    if (sub->open_for_events() && sub->scanned < *head)
      by_position[sub->scanned].push_back(sub.get());
  }
  int64_t budget = options_.scan_budget;
  for (auto& [position, group] : by_position) {
    if (budget <= 0) break;
    store::TailQuery q;
    q.after_id = position;
    q.through_id = *head;
    q.limit = options_.scan_page;
    q.min_severity = 4;
    bool one_org = true;
    for (Sub* s : group) {
      q.min_severity =
          std::min<uint8_t>(q.min_severity, static_cast<uint8_t>(s->config.min_severity));
      one_org = one_org && s->config.org_id == group.front()->config.org_id;
    }
    // One organisation: the store filters on its routes itself.
    if (one_org) q.org_id = static_cast<uint32_t>(group.front()->config.org_id);
    std::vector<Sub*> active = group;
    while (!active.empty() && budget > 0) {
      auto page = store_->read_after(
          q, [&](const store::StoredEvent& ev, const std::vector<store::OrgRoute>& routes) {
            for (Sub* s : active) {
              if (!s->wants(ev, routes)) continue;
              if (s->buffer.empty()) {
                s->first_buffered = Clock::now();
                s->first_buffered_ms = wall_ms();
              }
              s->buffer.push_back(ev);
              if (!s->open_for_events()) s->scanned = ev.id;  // full: it stops here
            }
            std::erase_if(active, [](Sub* s) { return !s->open_for_events(); });
            return !active.empty();
          });
      if (!page) {
        spdlog::warn("integrations: event store: {}", page.error().message);
        return;
      }
      for (Sub* s : active) s->scanned = page->examined_to;
      budget -= std::max<int64_t>(page->events, 1);
      if (page->events < q.limit || page->examined_to >= *head) break;
      q.after_id = page->examined_to;
    }
  }
}

void Dispatcher::form_batches() {
  auto now = Clock::now();
  for (auto& [id, sub] : subs_) {
    if (sub->buffer.empty() || sub->pending || sub->retired) continue;
    bool full = sub->buffer.size() >= static_cast<size_t>(sub->config.max_batch);
    if (!full && now - sub->first_buffered < std::chrono::seconds(sub->config.batch_window_s))
      continue;
    BatchInfo info{id, sub->config.name, sub->org, sub->next_seq};
    std::string payload = sub->formatter->render(sub->buffer, info);
    auto batch = state_->create_batch(
        id, sub->next_seq, sub->scanned, sub->buffer.front().id, sub->buffer.back().id,
        static_cast<int64_t>(sub->buffer.size()), std::move(payload), sub->first_buffered_ms);
    if (!batch) {
      spdlog::error("integrations: subscription {}: cannot store batch: {}", id,
                    batch.error().message);
      continue;  // the buffer stays; the next turn tries again
    }
    sub->next_seq = batch->seq + 1;
    sub->committed = sub->scanned;
    sub->committed_at = now;
    sub->buffer.clear();
    sub->pending = std::move(*batch);
    sub->next_attempt = now;
  }
  int64_t errors = 0;
  for (auto& [id, sub] : subs_) errors += sub->formatter ? sub->formatter->decode_errors() : 0;
  render_errors_.store(errors);
}

void Dispatcher::commit_idle_cursors() {
  // A subscription that wanted none of the recent events moves its stored cursor now and
  // then, so that a restart does not read them all again.
  auto now = Clock::now();
  for (auto& [id, sub] : subs_) {
    if (!sub->buffer.empty() || sub->pending || sub->scanned <= sub->committed) continue;
    if (now - sub->committed_at < std::chrono::seconds(5)) continue;
    if (auto st = state_->advance_cursor(id, sub->scanned); !st) {
      spdlog::warn("integrations: subscription {}: cursor: {}", id, st.message());
      continue;
    }
    sub->committed = sub->scanned;
    sub->committed_at = now;
  }
}

void Dispatcher::dispatch_due() {
  auto now = Clock::now();
  std::vector<Job> due;
  for (auto& [id, sub] : subs_) {
    if (!sub->pending || sub->in_flight || sub->retired || now < sub->next_attempt) continue;
    sub->in_flight = true;
    due.push_back({id, sub->sender, *sub->pending,
                   BatchInfo{id, sub->config.name, sub->org, sub->pending->seq}});
  }
  if (due.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& j : due) jobs_.push_back(std::move(j));
  }
  in_flight_ += static_cast<int>(due.size());
  sender_cv_.notify_all();
}

void Dispatcher::sender_loop() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      sender_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left to send
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    auto start = Clock::now();
    SendResult r = job.sender->send(job.batch.payload, job.batch.events, job.info);
    auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    {
      std::lock_guard lock(mu_);
      outcomes_.push_back({job.sub_id, std::move(job.batch), std::move(r), millis});
    }
    control_cv_.notify_one();
  }
}

void Dispatcher::record_outcome(Sub* sub, const Outcome& o) {
  Batch b = o.batch;
  b.attempts += 1;
  AttemptRecord a;
  a.sub_id = b.sub_id;
  a.seq = b.seq;
  a.at_ms = wall_ms();
  a.attempt = b.attempts;
  a.status = o.result.status;
  a.detail = o.result.detail;
  a.events = b.events;
  a.bytes = static_cast<int64_t>(b.payload.size());
  a.millis = o.millis;
  std::chrono::milliseconds wait{0};
  if (o.result.outcome == SendResult::Outcome::kDelivered) {
    a.outcome = "delivered";
    a.latency_ms = a.at_ms - b.queued_ms;
    b.state = BatchState::kDelivered;
    b.last_error.clear();
  } else if (b.attempts >= options_.max_attempts) {
    a.outcome = "dead";
    b.state = BatchState::kDead;
    b.last_error = o.result.detail;
  } else {
    a.outcome = "retry";
    wait = backoff(b.attempts);
    b.next_attempt = now_seconds() + std::chrono::duration_cast<std::chrono::seconds>(wait).count();
    b.last_error = o.result.detail;
  }
  if (auto st = state_->record(a, b, o.result.rejected); !st) {
    // The outcome is not stored: keep the batch pending and send it again (same delivery id).
    spdlog::error("integrations: subscription {}: cannot record batch {}: {}", b.sub_id, b.seq,
                  st.message());
    if (sub) sub->next_attempt = Clock::now() + options_.retry_initial;
    return;
  }
  if (b.state == BatchState::kDelivered) {
    batches_delivered_.fetch_add(1);
    events_delivered_.fetch_add(b.events);
    items_rejected_.fetch_add(static_cast<int64_t>(o.result.rejected.size()));
  } else {
    attempts_failed_.fetch_add(1);
    if (b.state == BatchState::kDead) {
      batches_dead_.fetch_add(1);
      spdlog::warn("integrations: subscription {} batch {} ({} events) dead after {} tries: {}",
                   b.sub_id, b.seq, b.events, b.attempts, b.last_error);
    }
  }
  if (!sub) return;
  if (b.state == BatchState::kPending) {
    sub->pending = std::move(b);
    sub->next_attempt = Clock::now() + wait;
  } else {
    sub->pending.reset();
  }
}

void Dispatcher::handle_outcomes() {
  std::deque<Outcome> done;
  {
    std::lock_guard lock(mu_);
    done.swap(outcomes_);
  }
  for (auto& o : done) {
    --in_flight_;
    auto it = subs_.find(o.sub_id);
    Sub* sub = it == subs_.end() ? nullptr : it->second.get();
    if (sub) sub->in_flight = false;
    record_outcome(sub, o);
    if (sub && sub->retired) subs_.erase(it);
  }
}

void Dispatcher::control_loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      control_cv_.wait_for(lock, options_.poll_interval,
                           [&] { return stopping_ || wake_ || !outcomes_.empty(); });
      wake_ = false;
      if (stopping_) break;
    }
    handle_outcomes();
    if (auto st = reload_subscriptions(false); !st)
      spdlog::warn("integrations: registry: {}", st.message());
    scan();
    form_batches();
    dispatch_due();
    commit_idle_cursors();
    if (Clock::now() - last_prune_ > std::chrono::hours(1)) {
      last_prune_ = Clock::now();
      auto keep = std::chrono::duration_cast<std::chrono::seconds>(options_.keep_history).count();
      if (auto st = state_->prune(now_seconds() - keep); !st)
        spdlog::warn("integrations: prune: {}", st.message());
    }
  }
  // Stopping: senders finish what they hold (bounded by their timeouts); answers that come in
  // within the grace period are recorded, later ones leave their batches pending for the
  // next start -- the same delivery id is sent again then.
  {
    std::lock_guard lock(mu_);
    in_flight_ -= static_cast<int>(jobs_.size());
    for (auto& j : jobs_) {
      if (auto it = subs_.find(j.sub_id); it != subs_.end()) it->second->in_flight = false;
    }
    jobs_.clear();
  }
  auto until = Clock::now() + options_.stop_grace;
  while (in_flight_ > 0 && Clock::now() < until) {
    {
      std::unique_lock lock(mu_);
      control_cv_.wait_for(lock, std::chrono::milliseconds(100),
                           [&] { return !outcomes_.empty(); });
    }
    handle_outcomes();
  }
  commit_idle_cursors();
}

}  // namespace vantage::integrations
