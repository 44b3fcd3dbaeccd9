#pragma once
// The DNS sinkhole's query counts, kept durable from the moment a query is counted until its
// period's report rows are in the event journal: every query is counted exactly once in one
// event4_sinkhole_dns row per (protocol, resolver, query type, name, period) -- also across
// kill -9 (docs/sinkholes.md, "Counting queries exactly once").
//
//   * A writer (a loop thread answering DNS) adds one line per query to its pending text and,
//     once per received batch and before the batch's answers are sent, commit()s it with one
//     write() to its own append-only log, <dir>/<period start>/w<writer>-<run>-<seq>.log. So
//     an answered query is counted (the kernel has the bytes; only a machine crash loses
//     them), and a query whose count was never written was never answered.
//   * maintain() (one background thread, about every second) closes logs that are large,
//     old, or of a past period; folds closed logs into the period's aggregate when they grow
//     past merge_bytes and past the aggregate's own size (so the rewrites stay proportional)
//     (aggregate written to a temporary, fsynced, renamed; it names the logs it holds, which
//     are then deleted: a log is either named by the aggregate or replayed, never both); and,
//     once a period has ended (plus a grace second), folds the rest, writes the period's rows
//     to <period>/rows.jsonl (atomically), hands them to `emit`, writes <period>/emitted and
//     removes the period. Emission is deterministic: after a crash before `emitted` exists the
//     same rows.jsonl is emitted again, byte for byte, which the pipeline recognises.
//   * A restart in the middle of a period continues it: logs and aggregates of the running
//     period stay and are folded at its end; periods that ended while the sinkhole was down
//     are emitted by the first maintain().
//
// Line format (tab-separated, text so an operator can read it): a batch header "@<unix time>"
// then one "<proto>\t<ip>\t<port>\t<qtype>\t<family>\t<qname>" line per query. Names are in
// presentation form (dns::append_presentation: no tab, no newline).
//
// Thread-safety: add()/commit() for writer w from one thread at a time; maintain() from one
// thread; stats() from any.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "common/time.h"

namespace vantage::sinkhole {

struct CountStoreOptions {
  std::string dir;
  int writers = 1;
  int64_t period_s = 86400;  // must divide 86400 (periods start at midnight UTC)
  int64_t rotate_bytes = 16 << 20;
  std::chrono::seconds rotate_age{60};
  int64_t merge_bytes = 64 << 20;  // closed logs of a running period folded beyond this
                                   // (and beyond the aggregate's size)
  int64_t grace_s = 1;
};

// One row of a period: the aggregate of its key's queries.
struct DnsRow {
  std::string proto, ip, qtype, qname;
  std::string family;  // as logged ("-": not a sinkholed name)
  int64_t count = 0;
  int64_t first_seen = 0;   // unix time of the first query
  uint16_t first_port = 0;  // the resolver's source port then
};

struct CountStoreStats {
  int64_t counted = 0;  // queries whose count was written
  int64_t lost = 0;     // queries whose count could not be written (disk full)
  int64_t periods_emitted = 0;
  int64_t rows_emitted = 0;
  int64_t merges = 0;
  int64_t torn_lines = 0;  // incomplete last lines of logs a crash left (never answered)
  int64_t pending_periods = 0;
  std::string last_error;
};

class CountStore {
 public:
  static Result<std::unique_ptr<CountStore>> open(CountStoreOptions options);
  ~CountStore();
  CountStore(const CountStore&) = delete;
  CountStore& operator=(const CountStore&) = delete;

  void add(int writer, std::string_view proto, const IpAddress& ip, uint16_t port,
           std::string_view qtype, std::string_view family, std::string_view qname);
  // Writes writer's pending lines (one write()). On failure they are counted as lost.
  Status commit(int writer);

  // Formats a period's rows as JSON Lines (sorted, so the same rows give the same bytes).
  using RowFormatter =
      std::function<void(int64_t period_start, const std::vector<DnsRow>& rows, std::string& out)>;
  // Hands a period's formatted rows to the journal; an error keeps the period for next time.
  using Emitter = std::function<Status(std::string_view jsonl, int64_t rows)>;
  Status maintain(UnixSeconds now, const RowFormatter& format, const Emitter& emit);

  CountStoreStats stats() const;
  int64_t period_s() const { return options_.period_s; }

  // The rows of a period as folded so far (tests, `--dns-counts`).
  Result<std::vector<DnsRow>> read_period(int64_t period_start);

 private:
  struct Writer;
  explicit CountStore(CountStoreOptions options);
  Status fold(int64_t period_start, const std::vector<std::string>& logs, bool final,
              std::vector<DnsRow>* rows);
  CountStoreOptions options_;
  int dir_fd_ = -1;
  std::string run_;  // distinguishes this process's logs from earlier runs'
  std::vector<std::unique_ptr<Writer>> writers_;
  std::atomic<int64_t> min_period_{0};  // writers never go back before it (clock steps)
  mutable std::mutex stats_mu_;
  CountStoreStats stats_;
};

}  // namespace vantage::sinkhole
