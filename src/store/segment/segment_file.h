#pragma once
// The segment store's event log: append-only files of event records, and the record codec.
//
// Layout: `<dir>/NNNNNN.seg`; file n holds the global byte range [n * S, (n + 1) * S) of one
// log (S = segment_bytes, fixed when the store is created). A record never straddles two
// files: one that does not fit starts the next file. An event's id is the global offset just
// past its record's end -- so ids only grow, the record with id X ends at X (its length sits
// in its trailer), and the records after id X start at X (or at the next file's start).
//
// Record: u32 length L | i32 day | u32 type id | u64 event key | i64 timestamp | i64 rank |
// u32 asn | u8 severity | six (varint length, bytes) texts: ip, geo, region, tag, routes,
// row | u32 checksum of the bytes before it | u32 L. Little-endian (the hosts we build for).
//
// What is committed is decided elsewhere (the store's SQLite meta database holds the
// committed end); this layer only appends, syncs, reads and truncates.
//
// Thread-safety: none; the store serialises calls.

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace vantage::store {

// One event record's fields; the texts are views (into a read buffer or the caller's event).
struct SegmentRecord {
  DayNumber day = 0;
  int64_t type_id = 0;
  uint64_t event_key = 0;
  int64_t timestamp = 0;
  int64_t rank = 0;  // occurrence_rank of the occurrence the record holds
  uint32_t asn = 0;
  uint8_t severity = 0;
  std::string_view ip, geo, region, tag, routes, row;
};

// Appends the record's bytes to `out`.
void encode_segment_record(const SegmentRecord& r, std::string& out);
// Decodes the record that occupies all of `bytes`; false on damage (length, checksum, fields).
bool decode_segment_record(std::string_view bytes, SegmentRecord& r);
// The fields a repeat takes over when its occurrence becomes the representative, in the
// same text encoding (the event_state table's `repr` column).
void encode_representative(const SegmentRecord& r, std::string& out);
bool decode_representative(std::string_view bytes, SegmentRecord& r);

class SegmentLog {
 public:
  SegmentLog(std::string dir, int64_t segment_bytes);
  ~SegmentLog();
  SegmentLog(const SegmentLog&) = delete;
  SegmentLog& operator=(const SegmentLog&) = delete;

  int64_t segment_bytes() const { return segment_bytes_; }
  int64_t segment_of(int64_t global_offset) const { return global_offset / segment_bytes_; }
  std::string path_of(int64_t segment) const;

  // --- writer ---
  // Drops everything past `end` (an uncommitted batch): truncates its file, removes later ones.
  Status truncate_to(int64_t end);
  // Places a record of `size` bytes after `end`; returns its id (its global end offset). The
  // bytes go to a buffer until sync().
  Result<int64_t> append(int64_t end, std::string_view record);
  // Writes the buffered records and fdatasyncs every file they touched.
  Status sync();
  // The buffered (not yet synced) record with this id, or an empty view.
  std::string_view pending(int64_t id) const;
  void drop_pending();  // a failed batch: forget its buffered records
  Status remove_segment(int64_t segment);

  // --- readers ---
  // Reads the record with this id (committed); not-found when its file is gone (retention).
  Status read(int64_t id, std::string& buffer, SegmentRecord& out);
  // Calls `record(id, record)` for every record after `after` up to `end` (both ids or
  // segment starts), in id order; stops early when it returns false. Files removed by
  // retention are skipped.
  Status scan(int64_t after, int64_t end,
              const std::function<bool(int64_t, const SegmentRecord&)>& record);
  // Reads the records with these ids (ascending, unique, committed) in offset order and calls
  // `record(i, record)` for ids[i]; the record's texts are valid during the call only. Ids
  // close together are read with one pread per stretch (gaps of a few records are read and
  // skipped: cheaper than another system call), so a bulk read of many events of a day reads
  // its files sequentially instead of one pread per event. Ids whose file retention removed
  // are skipped.
  Status read_sorted(std::span<const int64_t> ids,
                     const std::function<void(size_t, const SegmentRecord&)>& record);
  // Closes cached read handles (a removed file's handle would keep its space).
  void close_readers();

 private:
  Result<int> reader_fd(int64_t segment);  // -1 when the file does not exist
  std::string dir_;
  int64_t segment_bytes_;
  std::map<int64_t, int> read_fds_;
  // The current batch: per segment, where its buffered bytes start (global) and the bytes.
  struct Pending {
    int64_t start = 0;
    std::string bytes;
  };
  std::map<int64_t, Pending> pending_;
  std::string spare_;  // the last batch's buffer, emptied, for the next one
  std::string scan_buffer_, stretch_buffer_;
};

}  // namespace vantage::store
