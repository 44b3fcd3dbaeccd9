#pragma once
// A day's report pack: the bytes of many reports appended one after another in one file,
// <report_dir>/YYYY/MM/DD/reports-<generation>.pack, each report a range (offset, length)
// recorded in the manifest beside its sha256 and rows. It replaces one file per report, whose
// inode allocation and per-file sync bounded the build at a few thousand reports per second;
// a pack costs one file and one fdatasync per build.
//
// Layout: no header, no framing -- report i is bytes [offset_i, offset_i + length_i), exactly
// the bytes its single file would hold, so a download is one pread range and an export is a
// copy. A build writes a NEW generation (never appends to a pack that readers may be
// reading), makes it durable, then swaps every entry to it in one manifest transaction;
// packs of the day that no entry references any more (the previous generation, or the
// leftover of a build killed before its commit) are removed by remove_unreferenced_packs.
//
// Not thread-safe: one writer per build.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "core/csv_writer.h"

struct evp_md_ctx_st;

namespace vantage::report {

class PackWriter {
 public:
  // Creates a new, empty pack in `day_dir` (created if missing) with a fresh generation name.
  static Result<std::unique_ptr<PackWriter>> create(const std::filesystem::path& day_dir);
  ~PackWriter();  // a pack never committed (no report, or an error) is removed
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;

  // One report: begin(), its bytes through sink(), then end() (or discard() to drop them).
  void begin();
  core::CsvSink sink();
  struct Written {
    int64_t offset = 0;
    int64_t length = 0;
    std::string sha256;  // hex
  };
  Result<Written> end();
  Status discard();

  // Writes out the buffer and makes the pack and its directory entry durable; after it the
  // pack is kept (the caller records its ranges in the manifest).
  Status commit();
  const std::string& path() const { return path_; }
  int64_t reports() const { return reports_; }

 private:
  PackWriter() = default;
  Status flush_buffer();
  int fd_ = -1;
  std::string path_;
  std::string buffer_;        // bytes not yet written; written at kBufferBytes
  int64_t written_ = 0;       // bytes in the file
  int64_t report_start_ = 0;  // offset of the current report
  int64_t reports_ = 0;
  evp_md_ctx_st* md_ = nullptr;
  bool committed_ = false;
};

// The pack file name of a day directory's entry, e.g. "reports-0000018c2b3a4f10.pack".
bool is_pack_file_name(std::string_view name);

// Removes the *.pack files of `day_dir` whose full path is not in `referenced` (the paths the
// manifest's entries of that day point at). Returns how many it removed.
Result<int64_t> remove_unreferenced_packs(const std::filesystem::path& day_dir,
                                          const std::set<std::string>& referenced);

}  // namespace vantage::report
