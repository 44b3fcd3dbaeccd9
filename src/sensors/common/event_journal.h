#pragma once
// The sensors' local, crash-safe log of events on their way into the pipeline.
//
// A sensor appends JSON Lines records (sensors/common/json_line.h) to the open segment,
// <dir>/<prefix>-<opened>-<seq>.jsonl.part; the segment is closed (fsync, renamed to .jsonl)
// when it is old or large enough, and a Shipper (shipper.h) hands closed segments to the
// pipeline, deleting each only once the pipeline has taken it. Together:
//   * exactly once across a restart of either side: a segment is immutable once closed, the
//     pipeline recognises a segment it already ingested by content (pipeline/source_identity.h,
//     and the push endpoint's retried-body check), and the journal deletes a segment only
//     after it was accepted;
//   * nothing lost that was logged: append() returns once the bytes are write()n, so a
//     kill -9 of the sensor loses nothing appended (the kernel has the bytes); on open, a
//     .part left behind is closed after its last complete record (a torn record was never
//     fully logged). Only a machine crash can lose the open segment's unsynced tail (at most
//     max_segment_age of events).
// One process per journal directory (an flock on <dir>/.lock refuses a second one).
// Every file operation goes through a descriptor of the directory opened at open(), so the
// journal keeps working after the sensor drops its privileges, even where the path to the
// directory is not open to the user it became (a private data directory).
//
// Thread-safety: every member may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vantage::sensors {

struct JournalOptions {
  std::string dir;                // created if missing
  std::string prefix = "sensor";  // [A-Za-z0-9_]: names the segments (and so the inbox files)
  int64_t max_segment_bytes = int64_t{8} << 20;
  std::chrono::milliseconds max_segment_age{1000};
};

struct JournalStats {
  int64_t records_appended = 0;
  int64_t bytes_appended = 0;
  int64_t segments_closed = 0;
  int64_t segments_recovered = 0;   // .part files closed at open()
  int64_t torn_bytes_dropped = 0;   // incomplete last records of recovered segments
  int64_t temporaries_removed = 0;  // add_segment() files a crash left unfinished
};

class EventJournal {
 public:
  static Result<std::unique_ptr<EventJournal>> open(JournalOptions options);
  ~EventJournal();  // closes the open segment (it is shipped by the next run if not now)
  EventJournal(const EventJournal&) = delete;
  EventJournal& operator=(const EventJournal&) = delete;

  // Appends `records` (whole JSON Lines records, each ending in '\n'; `count` of them).
  // Returns once the bytes are written to the open segment. An error (disk full) leaves the
  // segment as it was before the call; the caller counts the loss.
  Status append(std::string_view records, int64_t count);

  // Adds `records` (`count` of them) as a closed segment of their own, atomically: after a
  // crash the segment is either whole or absent, never a prefix (it is written under a
  // temporary name, fsynced and renamed; open() deletes a temporary left behind). The open
  // segment is closed first, so segments still sort in the order written. For output whose
  // bytes are a function of durable state (the DNS sinkhole's per-day aggregate): written again
  // after a crash, it is the same content, which the pipeline recognises as already ingested.
  Status add_segment(std::string_view records, int64_t count);

  // Closes the open segment if it holds records and is older than max_segment_age (or
  // `force`). A closed segment is fsynced and renamed; the directory is fsynced.
  Status rotate(bool force = false);

  // Closed segments, oldest first (file names within the journal directory).
  std::vector<std::string> ready_segments() const;
  // A closed segment, opened for reading (the caller closes the descriptor).
  Result<int> open_segment(const std::string& name) const;
  // The segment is the pipeline's now: deleted.
  Status remove_segment(const std::string& name);
  // The pipeline refused the segment as a whole: moved to rejected/ beside a .error note.
  Status set_aside(const std::string& name, const std::string& why);
  int dir_fd() const { return dir_fd_; }

  const std::string& dir() const { return options_.dir; }
  JournalStats stats() const;

 private:
  explicit EventJournal(JournalOptions options);
  Status recover();
  Status open_segment_locked();
  Status close_segment_locked();

  JournalOptions options_;
  int dir_fd_ = -1;
  int lock_fd_ = -1;
  mutable std::mutex mu_;
  int fd_ = -1;  // the open segment, -1 when none
  std::string part_name_;
  int64_t segment_bytes_ = 0;
  std::chrono::steady_clock::time_point segment_opened_;
  int64_t opened_unix_ = 0;
  uint64_t seq_ = 0;
  JournalStats stats_;
};

// One thread's records on their way to a journal: sessions add records without a lock, and
// the loop's tick (or a full buffer) appends them with one write. Not thread-safe: one per
// loop thread. Records still in the buffer at a kill -9 are lost, so flush at least every
// tick (TcpReactor/UdpReactor call on_tick every 50 ms) and when a session ends.
class JournalBuffer {
 public:
  explicit JournalBuffer(EventJournal* journal, size_t flush_bytes = 256 * 1024)
      : journal_(journal), flush_bytes_(flush_bytes) {}
  ~JournalBuffer() { (void)flush(); }
  JournalBuffer(const JournalBuffer&) = delete;
  JournalBuffer& operator=(const JournalBuffer&) = delete;

  // Where the next record is written (e.g. by a JsonLine); then call commit().
  std::string& text() { return text_; }
  // One more complete record is in text(); flushes when the buffer is large.
  void commit() {
    ++pending_;
    if (text_.size() >= flush_bytes_) (void)flush();
  }
  // Appends the buffered records to the journal. On failure they are counted as lost.
  Status flush();
  int64_t records_lost() const { return lost_.load(std::memory_order_relaxed); }

 private:
  EventJournal* journal_;
  size_t flush_bytes_;
  std::string text_;
  int64_t pending_ = 0;
  std::atomic<int64_t> lost_{0};  // read by status() from another thread
};

}  // namespace vantage::sensors
