#pragma once
// Progress reporting for long ingests: a one-line bar with rate and ETA when stderr is a
// terminal, a log line every few seconds otherwise. Thread-safe: counters are atomics; only
// the pipeline's sink thread calls tick().

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace vantage::pipeline {

class Progress {
 public:
  // `total_bytes` may be 0 when unknown (stdin); then no ETA is shown.
  Progress(std::string label, int64_t total_bytes, bool enabled);

  // Reports the current position; redraws at most every 200 ms (terminal) or 5 s (log).
  void tick(int64_t bytes_done, int64_t events_done);
  // Prints the final line (always, when enabled).
  void finish(int64_t bytes_done, int64_t events_done);

 private:
  void draw(int64_t bytes_done, int64_t events_done, bool final);

  std::string label_;
  int64_t total_bytes_;
  bool enabled_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace vantage::pipeline
