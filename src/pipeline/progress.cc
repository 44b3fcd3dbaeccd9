#include "pipeline/progress.h"

#include <unistd.h>

#include <cstdio>

namespace vantage::pipeline {

Progress::Progress(std::string label, int64_t total_bytes, bool enabled)
    : label_(std::move(label)),
      total_bytes_(total_bytes),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::tick(int64_t bytes_done, int64_t events_done) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  auto interval = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  draw(bytes_done, events_done, false);
}

void Progress::finish(int64_t bytes_done, int64_t events_done) {
  if (!enabled_) return;
  draw(bytes_done, events_done, true);
}

void Progress::draw(int64_t bytes_done, int64_t events_done, bool final) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = secs > 0 ? static_cast<double>(events_done) / secs : 0;
  char eta[32] = "";
  double fraction = total_bytes_ > 0 ? static_cast<double>(bytes_done) / total_bytes_ : 0;
  if (total_bytes_ > 0 && fraction > 0 && !final) {
    double remaining = secs / fraction - secs;
    std::snprintf(eta, sizeof eta, " ETA %.0fs", remaining);
  }
  if (tty_) {
    char bar[31];
    int filled = static_cast<int>(fraction * 30);
    for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    std::fprintf(stderr, "\r%s [%s] %5.1f%% %lld events %.0f ev/s%s   %s", label_.c_str(),
                 total_bytes_ > 0 ? bar : "..............................", fraction * 100,
                 static_cast<long long>(events_done), rate, eta, final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s: %lld events, %.1f%% of input, %.0f ev/s%s%s\n", label_.c_str(),
                 static_cast<long long>(events_done), fraction * 100, rate, eta,
                 final ? " (done)" : "");
  }
  std::fflush(stderr);
}

}  // namespace vantage::pipeline
