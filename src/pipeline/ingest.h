#pragma once
// The ingest engine: one pass per event from an input to the store.
//
//   reader thread     decode (CSV by header name, or JSON Lines) into batches of Events;
//                     records that do not decode become quarantine records
//        | bounded queue (back-pressure: the reader blocks, memory stays bounded)
//   N processing      validate -> enrich -> classify -> dedup key -> route, one Processor per
//   threads           thread, a whole batch at a time (N = 1: the calling thread itself)
//        | reorder (calling thread): batches leave in input order, numbered by the reader;
//        |   the cumulative counters and the checkpoint are computed here, in that order
//        | bounded queue
//   writer thread     one store transaction per batch: events, spool, rollups, quarantine
//                     and the source checkpoint together
//
// Whatever N, the store receives the same records in the same order with the same
// checkpoints (occurrence ids come from the input's identity and the line), so N changes
// only the speed. Memory stays bounded: every batch in flight (queued, being processed or
// waiting to be reordered) is one of queue_depth + 1 + N pooled batches.
//
// Exactly once: an input is identified by its content (source_identity.h); its checkpoint
// counts the records consumed and commits with the batch that consumed them. A restart
// skips what was committed, so after kill -9 at any point every record lands once. An input
// already ingested completely is recognised and skipped. Standard input has no identity to
// resume from: it is ingested once, batch by batch.
//
// Thread-safety: an Ingestor runs one ingest at a time; the store must not be written by
// anyone else meanwhile (the pipeline's single-writer rule).

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/result.h"
#include "core/catalogue.h"
#include "pipeline/processor.h"
#include "store/store.h"

namespace vantage::pipeline {

enum class InputFormat { kAuto, kCsv, kJsonl };
// From the file name: .jsonl/.ndjson/.json -> JSON Lines, otherwise CSV.
InputFormat format_for_name(std::string_view name);

// Processing threads derived from the cores when none are configured: the cores less the
// reader's and the writer's, at least 1, at most this (the single writer caps the gain).
inline constexpr size_t kMaxDerivedProcessingThreads = 8;
// `configured` when non-zero, else derived from std::thread::hardware_concurrency().
size_t processing_threads_for(size_t configured);

struct IngestOptions {
  const core::ReportType* type = nullptr;  // forced type; else from the file name / records
  InputFormat format = InputFormat::kAuto;
  size_t batch_size = 8192;
  size_t queue_depth = 8;
  // Threads of the processing stage (validate .. route); 0: processing_threads_for(0).
  size_t processing_threads = 0;
  size_t max_record_bytes = size_t{1} << 20;
  bool progress = false;
  // Decode only: nothing is enriched, routed or stored (the benchmark's parsing floor).
  bool parse_only = false;
  // Stop early (the input is left partially ingested, resumable). Checked between batches.
  const std::atomic<bool>* stop = nullptr;
  // ingest_buffer only: the input's identity instead of the hash of its bytes. The cluster
  // worker passes the bus message id, stable across redelivery, so a redelivered message gets
  // the same checkpoint and the same occurrence ids (two publishes of equal bytes are two
  // inputs there; the bus, not the content, says what is a retry).
  std::string source_key;
  // The cluster worker: the bus message's stream sequence, handed to the store with every
  // batch (IngestBatch::bus_sequence). 0: not from the bus.
  uint64_t bus_sequence = 0;
};

struct IngestSummary {
  std::string source;
  bool already_done = false;  // the same content was ingested before: nothing done
  int64_t resumed_from = 0;   // records skipped because a previous run committed them
  int64_t records = 0;        // records read in this run
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t allowlisted = 0;
  int64_t inserted = 0;
  int64_t deduplicated = 0;
  int64_t routed = 0;
  bool complete = false;
  double seconds = 0;
};

class Ingestor {
 public:
  Ingestor(const core::Catalogue& catalogue, ProcessorInputs inputs, store::EventStore& store);

  Result<IngestSummary> ingest_file(const std::string& path, const IngestOptions& options);
  // `name` labels errors and quarantine records ("stdin").
  Result<IngestSummary> ingest_stream(std::FILE* file, const std::string& name,
                                      const IngestOptions& options);
  // An in-memory body (the push endpoint): identified by its content hash (or by
  // options.source_key), so a client that retries after a lost acknowledgement does not
  // ingest it twice.
  Result<IngestSummary> ingest_buffer(std::string_view data, const std::string& name,
                                      const IngestOptions& options);

 private:
  struct Input;
  Result<IngestSummary> run(Input& input, const IngestOptions& options);

  const core::Catalogue& catalogue_;
  ProcessorInputs inputs_;
  store::EventStore& store_;
};

}  // namespace vantage::pipeline
