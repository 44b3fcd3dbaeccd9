#include "pipeline/ingest.h"

#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "common/bounded_queue.h"
#include "common/hash.h"
#include "common/strings.h"
#include "core/csv_reader.h"
#include "core/csv_writer.h"
#include "pipeline/jsonl_decoder.h"
#include "pipeline/line_reader.h"
#include "pipeline/progress.h"
#include "pipeline/source_identity.h"

namespace vantage::pipeline {

InputFormat format_for_name(std::string_view name) {
  auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends(".jsonl") || ends(".ndjson") || ends(".json")) return InputFormat::kJsonl;
  return InputFormat::kCsv;
}

// Where the bytes come from. Exactly one of `path`, `file`, `buffer` is used.
struct Ingestor::Input {
  std::string name;
  std::string key;  // empty: not resumable (stdin)
  int64_t total_bytes = 0;
  std::string path;
  std::FILE* file = nullptr;
  std::optional<std::string_view> buffer;
};

namespace {

// What the reader hands to the processing stage.
struct DecodedBatch {
  std::vector<core::Event> events;
  std::vector<int64_t> lines;  // line of each event, for quarantine records
  size_t count = 0;            // events in use (the vector keeps spare Events for reuse)
  std::vector<store::QuarantineRecord> rejected;
  int64_t records_end = 0;  // records consumed once this batch is committed
  int64_t bytes_end = 0;
  bool last = false;
  uint64_t sequence = 0;  // position in the input: results are written in this order
};

// A batch after the processing stage, waiting for its turn to be written.
struct ProcessedBatch {
  std::unique_ptr<DecodedBatch> decoded;  // back to the reader once sequenced
  store::IngestBatch out;
  int64_t accepted = 0;
  int64_t rejected = 0;  // by the decoder and by the processing stage
  int64_t allowlisted = 0;
};

// One decoder over either format; next() returns true with an event, or false at the end.
class RecordSource {
 public:
  enum class Next { kEvent, kError, kEnd };

  static Result<std::unique_ptr<RecordSource>> open(const core::Catalogue& catalogue,
                                                    const std::string& name,
                                                    const std::string& path, std::FILE* file,
                                                    std::optional<std::string_view> buffer,
                                                    const IngestOptions& options) {
    auto src = std::unique_ptr<RecordSource>(new RecordSource());
    src->name_ = name;
    InputFormat format = options.format;
    if (format == InputFormat::kAuto) format = format_for_name(name);
    core::CsvReaderOptions csv_options;
    csv_options.source_name = name;
    csv_options.max_field_bytes = std::min(options.max_record_bytes, csv_options.max_field_bytes);
    csv_options.max_record_bytes = options.max_record_bytes;
    if (format == InputFormat::kCsv) {
      const core::ReportType* type = options.type;
      if (!type) type = core::detect_report_type(name, catalogue);
      if (!path.empty()) {
        auto r = core::CsvReader::open_file(path, catalogue, csv_options, type);
        if (!r) return r.error();
        src->csv_.emplace(std::move(*r));
      } else if (!type) {
        return Error::invalid(name + ": the report type cannot be told from the name; give --type");
      } else if (buffer) {
        src->csv_.emplace(core::CsvReader::from_buffer(*buffer, *type, csv_options));
      } else {
        src->csv_.emplace(core::CsvReader::from_file(file, *type, csv_options));
      }
      return src;
    }
    if (!path.empty()) {
      src->owned_ = std::fopen(path.c_str(), "rb");
      if (!src->owned_) return Error::io(path + ": cannot open");
      file = src->owned_;
    }
    if (buffer) {
      src->lines_.emplace(*buffer, options.max_record_bytes);
    } else {
      src->lines_.emplace(file, options.max_record_bytes);
    }
    src->jsonl_.emplace(catalogue, options.type, options.max_record_bytes);
    return src;
  }

  ~RecordSource() {
    if (owned_) std::fclose(owned_);
  }

  Next next(core::Event& event, int64_t& line, store::QuarantineRecord& error) {
    if (csv_) {
      switch (csv_->next(event)) {
        case core::CsvReader::Next::kRow:
          line = csv_line_;
          ++csv_line_;
          return Next::kEvent;
        case core::CsvReader::Next::kError: {
          const core::CsvError& e = csv_->error();
          line = e.line;
          error = {name_, e.line, e.column,
                   std::string(core::csv_error_kind_name(e.kind)) +
                       (e.detail.empty() ? "" : ": " + e.detail),
                   e.detail};
          return Next::kError;
        }
        case core::CsvReader::Next::kEnd: return Next::kEnd;
      }
    }
    while (true) {
      std::string_view text;
      auto r = lines_->next(text);
      line = lines_->line_number();
      if (r == LineReader::Next::kEnd) return Next::kEnd;
      if (r == LineReader::Next::kIoError) {
        error = {name_, line, "", "read error", ""};
        io_failed_ = true;
        return Next::kError;
      }
      if (r == LineReader::Next::kOversized) {
        error = {name_, line, "", "oversized record (more than the record size limit)", ""};
        return Next::kError;
      }
      if (trim(text).empty()) continue;  // blank lines are not records
      DecodeError de;
      if (jsonl_->decode(text, event, de)) return Next::kEvent;
      error = {name_, line, de.field, de.reason, std::string(text.substr(0, 4096))};
      return Next::kError;
    }
  }

  int64_t bytes() const { return csv_ ? csv_->stats().bytes : lines_->bytes_consumed(); }
  bool io_failed() const { return io_failed_; }

 private:
  RecordSource() = default;
  std::string name_;
  std::optional<core::CsvReader> csv_;
  int64_t csv_line_ = 2;  // CsvReader reports lines in errors; rows are counted from 2
  std::optional<LineReader> lines_;
  std::optional<JsonlDecoder> jsonl_;
  std::FILE* owned_ = nullptr;
  bool io_failed_ = false;
};

// Names the calling thread (at most 15 characters), so that top -H and perf tell the
// pipeline's stages apart.
void name_this_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace

Ingestor::Ingestor(const core::Catalogue& catalogue, ProcessorInputs inputs,
                   store::EventStore& store)
    : catalogue_(catalogue), inputs_(inputs), store_(store) {}

Result<IngestSummary> Ingestor::ingest_file(const std::string& path, const IngestOptions& options) {
  auto id = identify_file(path);
  if (!id) return id.error();
  Input input;
  input.name = path;
  // The forced type is part of the identity: re-ingesting with a corrected --type is new work.
  input.key = id->key + (options.type ? ":" + options.type->name : "");
  input.total_bytes = id->size;
  input.path = path;
  return run(input, options);
}

Result<IngestSummary> Ingestor::ingest_stream(std::FILE* file, const std::string& name,
                                              const IngestOptions& options) {
  Input input;
  input.name = name;
  input.file = file;
  return run(input, options);
}

Result<IngestSummary> Ingestor::ingest_buffer(std::string_view data, const std::string& name,
                                              const IngestOptions& options) {
  Input input;
  input.name = name;
  Hash64 h;
  h.add(data);
  Hash64 h2(0x51ed270b27ab1e5dull);
  h2.add(data);
  // Two independent 64-bit hashes: a collision would need both to collide.
  char key[64];
  std::snprintf(key, sizeof key, "buf:%016llx%016llx", static_cast<unsigned long long>(h.finish()),
                static_cast<unsigned long long>(h2.finish()));
  input.key = (options.source_key.empty() ? std::string(key) : options.source_key) +
              (options.type ? ":" + options.type->name : "");
  input.total_bytes = static_cast<int64_t>(data.size());
  input.buffer = data;
  return run(input, options);
}

size_t processing_threads_for(size_t configured) {
  if (configured) return configured;
  unsigned cores = std::thread::hardware_concurrency();
  // The reader and the writer keep a core each; the rest process.
  size_t derived = cores > 2 ? cores - 2 : 1;
  return std::min(derived, kMaxDerivedProcessingThreads);
}

Result<IngestSummary> Ingestor::run(Input& input, const IngestOptions& options) {
  auto started = std::chrono::steady_clock::now();
  IngestSummary summary;
  summary.source = input.name;

  store::SourceCheckpoint base;
  if (!input.key.empty()) {
    auto previous = store_.checkpoint(input.key);
    if (!previous) return previous.error();
    if (*previous) {
      base = **previous;
      if (base.done) {
        summary.already_done = true;
        summary.complete = true;
        return summary;
      }
    }
  } else {
    base.source_key = "stream:" + input.name + ":" +
                      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  }
  base.source_key = input.key.empty() ? base.source_key : input.key;
  base.source_name = input.name;
  summary.resumed_from = base.line;

  auto source =
      RecordSource::open(catalogue_, input.name, input.path, input.file, input.buffer, options);
  if (!source) return source.error();

  const size_t batch_size = options.batch_size ? options.batch_size : 1;
  const size_t threads = processing_threads_for(options.processing_threads);
  // Every decoded batch in flight -- queued, being processed, or waiting for its turn in the
  // reorder stage -- is one of these; the reader waits for a spare one, so memory stays bounded
  // whatever the number of processing threads.
  const size_t pool = options.queue_depth + 1 + threads;
  BoundedQueue<std::unique_ptr<DecodedBatch>> decoded(options.queue_depth);
  BoundedQueue<std::unique_ptr<DecodedBatch>> spare(pool);
  BoundedQueue<store::IngestBatch> to_write(options.queue_depth);
  // Written batches go back to the processing stage, which reuses their records' buffers: the
  // writer is the pipeline's narrowest stage, and freeing a batch's strings cost it time.
  BoundedQueue<store::IngestBatch> written(options.queue_depth + 1 + threads);
  for (size_t i = 0; i < pool; ++i) {
    auto b = std::make_unique<DecodedBatch>();
    b->events.resize(batch_size);
    b->lines.resize(batch_size);
    spare.push(std::move(b));
  }
  auto stopping = [&] { return options.stop && options.stop->load(std::memory_order_relaxed); };
  // Set by the writer when a write fails: the batches still in flight are not processed.
  std::atomic<bool> write_failed{false};

  // ---- reader ----
  std::thread reader([&] {
    name_this_thread("ingest-read");
    RecordSource& src = **source;
    int64_t records = 0;
    store::QuarantineRecord err;
    core::Event scratch;
    int64_t line = 0;
    // Skip what a previous run committed; the decoder is deterministic, so the same records
    // come back in the same order.
    while (records < base.line) {
      auto r = src.next(scratch, line, err);
      if (r == RecordSource::Next::kEnd) break;
      ++records;
    }
    bool done = false;
    uint64_t sequence = 0;
    while (!done) {
      auto maybe = spare.pop();
      if (!maybe) break;
      auto batch = std::move(*maybe);
      batch->sequence = sequence++;
      batch->count = 0;
      batch->rejected.clear();
      while (batch->count < batch_size) {
        auto r = src.next(batch->events[batch->count], line, err);
        if (r == RecordSource::Next::kEnd) {
          done = true;
          break;
        }
        ++records;
        if (r == RecordSource::Next::kEvent) {
          batch->lines[batch->count] = line;
          ++batch->count;
        } else {
          batch->rejected.push_back(err);
          if (src.io_failed()) {
            done = true;
            break;
          }
        }
        if (batch->rejected.size() >= batch_size) break;
      }
      batch->records_end = records;
      batch->bytes_end = src.bytes();
      batch->last = done && !src.io_failed();
      if (!decoded.push(std::move(batch))) break;
      if (stopping()) break;
    }
    decoded.close();
  });

  // ---- writer ----
  Status write_status;
  Progress progress(input.name, input.total_bytes, options.progress);
  int64_t inserted = 0, deduplicated = 0, routed = 0, progress_events = 0;
  std::thread writer([&] {
    name_this_thread("ingest-write");
    while (auto batch = to_write.pop()) {
      if (!write_status.ok()) continue;  // drain after a failure
      // Group commit: when the store is the bottleneck, batches wait in the queue; write all
      // that are ready in one transaction. Checkpoints are cumulative, so the merged batch
      // carries the last one and a crash still resumes exactly after what was committed.
      // Bounded by the queue (already in memory), so memory use does not grow.
      for (size_t merged = 1; merged < options.queue_depth && to_write.size() > 0; ++merged) {
        auto next = to_write.pop();  // this thread is the only consumer: it does not block
        if (!next) break;
        batch->events.insert(batch->events.end(), std::make_move_iterator(next->events.begin()),
                             std::make_move_iterator(next->events.end()));
        batch->quarantined.insert(batch->quarantined.end(),
                                  std::make_move_iterator(next->quarantined.begin()),
                                  std::make_move_iterator(next->quarantined.end()));
        batch->checkpoint = std::move(next->checkpoint);
      }
      // Only this thread knows the outcome of earlier batches: it completes the checkpoint
      // with the totals before this batch, and the store adds this batch's own.
      batch->checkpoint->deduplicated = base.deduplicated + deduplicated;
      batch->checkpoint->routed = base.routed + routed;
      auto outcome = store_.write(*batch);
      if (!outcome) {
        write_status = outcome.error();
        write_failed.store(true, std::memory_order_relaxed);
        decoded.close();
        spare.close();
        continue;
      }
      inserted += outcome->inserted;
      deduplicated += outcome->deduplicated;
      routed += outcome->routed;
      progress_events += static_cast<int64_t>(batch->events.size());
      progress.tick(batch->checkpoint->offset, progress_events);
      (void)written.try_push(*batch);  // when full, it is freed here
    }
  });

  // ---- processing: one batch on one thread, with that thread's Processor ----
  // Occurrence ids: the source's identity and the record's line, the same on every re-read
  // and whichever thread processes the record.
  Hash64 source_hash;
  source_hash.add(base.source_key);
  auto process = [&](Processor& processor, std::unique_ptr<DecodedBatch> batch, std::string& field,
                     std::string& reason) {
    ProcessedBatch done;
    if (options.parse_only || write_failed.load(std::memory_order_relaxed)) {
      done.accepted = static_cast<int64_t>(batch->count);
      done.rejected = static_cast<int64_t>(batch->rejected.size());
      done.decoded = std::move(batch);
      return done;
    }
    store::IngestBatch& out = done.out;
    if (auto reused = written.try_pop()) out = std::move(*reused);
    out.quarantined = std::move(batch->rejected);
    batch->rejected = {};
    out.checkpoint.reset();
    out.bus_sequence = options.bus_sequence;
    done.rejected = static_cast<int64_t>(out.quarantined.size());
    // out.events[0, used) are this batch's; records past `used` are buffers to write over.
    size_t used = 0;
    for (size_t i = 0; i < batch->count; ++i) {
      if (used == out.events.size()) out.events.emplace_back();
      switch (processor.process(batch->events[i], out.events[used], field, reason)) {
        case Outcome::kAccepted: {
          Hash64 occurrence = source_hash;
          occurrence.add_u64(static_cast<uint64_t>(batch->lines[i]));
          out.events[used].occurrence_id = occurrence.finish();
          out.events[used].line = batch->lines[i];
          ++used;
          ++done.accepted;
          break;
        }
        case Outcome::kAllowlisted: ++done.allowlisted; break;
        case Outcome::kRejected: {
          std::string raw;
          core::append_csv_record(batch->events[i], raw);
          out.quarantined.push_back({input.name, batch->lines[i], field, reason, raw});
          ++done.rejected;
          break;
        }
      }
    }
    out.events.resize(used);
    done.decoded = std::move(batch);
    return done;
  };

  // ---- sequencing: batches in input order, the cumulative counters and the checkpoint ----
  // Only here, one batch after the other in input order, so the checkpoints are cumulative
  // and monotonic and the store sees exactly what one processing thread would have sent.
  store::SourceCheckpoint cp = base;
  int64_t last_bytes = 0;
  bool finished = false;
  auto sequence = [&](ProcessedBatch& done) {
    DecodedBatch& batch = *done.decoded;
    summary.accepted += done.accepted;
    summary.rejected += done.rejected;
    summary.allowlisted += done.allowlisted;
    summary.records = batch.records_end - base.line;
    finished = batch.last;
    last_bytes = batch.bytes_end;
    bool queued = true;
    if (!options.parse_only) {
      cp.line = batch.records_end;
      cp.offset = batch.bytes_end;
      cp.done = batch.last;
      cp.accepted = base.accepted + summary.accepted;
      cp.rejected = base.rejected + summary.rejected;
      cp.allowlisted = base.allowlisted + summary.allowlisted;
      done.out.checkpoint = cp;
      queued = to_write.push(std::move(done.out));
    }
    batch.count = 0;
    spare.push(std::move(done.decoded));  // back to the reader (freed once it stopped)
    return queued;
  };

  if (threads == 1) {
    // One processing thread: this one, batch after batch, already in order.
    Processor processor(inputs_);
    std::string field, reason;
    while (auto maybe = decoded.pop()) {
      if (!options.parse_only) processor.begin_batch();
      ProcessedBatch done = process(processor, std::move(*maybe), field, reason);
      if (!sequence(done)) break;
    }
  } else {
    // Never blocks a worker: every batch in it came from the pool.
    BoundedQueue<ProcessedBatch> processed(pool);
    std::mutex take_mu;
    std::atomic<size_t> running{threads};
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        name_this_thread("ingest-proc" + std::to_string(t + 1));
        Processor processor(inputs_);
        std::string field, reason;
        while (true) {
          std::unique_ptr<DecodedBatch> batch;
          {
            // Taking a batch and pinning the enrichment and registry snapshots for it happen
            // together, so the snapshots a batch sees never go back in time from one batch
            // to the next, as with one thread.
            std::lock_guard lock(take_mu);
            auto maybe = decoded.pop();
            if (!maybe) break;
            batch = std::move(*maybe);
            if (!options.parse_only) processor.begin_batch();
          }
          processed.push(process(processor, std::move(batch), field, reason));
        }
        if (running.fetch_sub(1) == 1) processed.close();
      });
    }
    // The reorder stage: at most `pool` batches wait here, the pool being all there is.
    std::map<uint64_t, ProcessedBatch> waiting;
    uint64_t next = 0;
    bool draining = false;
    while (auto maybe = processed.pop()) {
      if (draining) continue;
      uint64_t at = maybe->decoded->sequence;
      waiting.emplace(at, std::move(*maybe));
      for (auto it = waiting.find(next); it != waiting.end(); it = waiting.find(next)) {
        bool queued = sequence(it->second);
        waiting.erase(it);
        ++next;
        if (!queued) {
          draining = true;
          decoded.close();
          spare.close();
          break;
        }
      }
    }
    for (auto& w : workers) w.join();
  }
  to_write.close();
  writer.join();
  spare.close();
  decoded.close();
  reader.join();
  progress.finish(last_bytes, progress_events);
  if (!write_status.ok()) return write_status.error();
  if ((*source)->io_failed()) return Error::io(input.name + ": read error; resumable later");
  summary.inserted = inserted;
  summary.deduplicated = deduplicated;
  summary.routed = routed;
  summary.complete = finished;
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace vantage::pipeline
