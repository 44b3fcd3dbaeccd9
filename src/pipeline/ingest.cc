#include "pipeline/ingest.h"

#include <sys/stat.h>

#include <chrono>
#include <memory>
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
  BoundedQueue<std::unique_ptr<DecodedBatch>> decoded(options.queue_depth);
  BoundedQueue<std::unique_ptr<DecodedBatch>> spare(options.queue_depth + 2);
  BoundedQueue<store::IngestBatch> to_write(options.queue_depth);
  // Written batches go back to the processing stage, which reuses their records' buffers: the
  // writer is the pipeline's narrowest stage, and freeing a batch's strings cost it time.
  BoundedQueue<store::IngestBatch> written(options.queue_depth + 2);
  for (size_t i = 0; i < options.queue_depth + 2; ++i) {
    auto b = std::make_unique<DecodedBatch>();
    b->events.resize(batch_size);
    b->lines.resize(batch_size);
    spare.push(std::move(b));
  }
  auto stopping = [&] { return options.stop && options.stop->load(std::memory_order_relaxed); };

  // ---- reader ----
  std::thread reader([&] {
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
    while (!done) {
      auto maybe = spare.pop();
      if (!maybe) break;
      auto batch = std::move(*maybe);
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

  // ---- processing (this thread) ----
  Processor processor(inputs_);
  store::SourceCheckpoint cp = base;
  // Occurrence ids: the source's identity and the record's line, the same on every re-read.
  Hash64 source_hash;
  source_hash.add(base.source_key);
  std::string field, reason;
  int64_t last_bytes = 0;
  bool finished = false;
  while (auto maybe = decoded.pop()) {
    auto batch = std::move(*maybe);
    if (options.parse_only) {
      summary.accepted += static_cast<int64_t>(batch->count);
      summary.rejected += static_cast<int64_t>(batch->rejected.size());
      summary.records = batch->records_end - base.line;
      finished = batch->last;
      last_bytes = batch->bytes_end;
      batch->count = 0;
      spare.push(std::move(batch));
      continue;
    }
    processor.begin_batch();
    store::IngestBatch out;
    if (auto reused = written.try_pop()) out = std::move(*reused);
    out.quarantined = std::move(batch->rejected);
    batch->rejected = {};
    out.checkpoint.reset();
    out.bus_sequence = options.bus_sequence;
    summary.rejected += static_cast<int64_t>(out.quarantined.size());
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
          ++summary.accepted;
          break;
        }
        case Outcome::kAllowlisted: ++summary.allowlisted; break;
        case Outcome::kRejected: {
          std::string raw;
          core::append_csv_record(batch->events[i], raw);
          out.quarantined.push_back({input.name, batch->lines[i], field, reason, raw});
          ++summary.rejected;
          break;
        }
      }
    }
    out.events.resize(used);
    summary.records = batch->records_end - base.line;
    cp.line = batch->records_end;
    cp.offset = batch->bytes_end;
    cp.done = batch->last;
    cp.accepted = base.accepted + summary.accepted;
    cp.rejected = base.rejected + summary.rejected;
    cp.allowlisted = base.allowlisted + summary.allowlisted;
    out.checkpoint = cp;
    finished = batch->last;
    last_bytes = batch->bytes_end;
    batch->count = 0;
    spare.push(std::move(batch));
    if (!to_write.push(std::move(out))) break;
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
