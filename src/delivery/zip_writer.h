#pragma once
// A minimal ZIP archive writer (PKWARE APPNOTE 6.3.x, the subset every unzip reads): one or
// more files, each raw-deflated with zlib (method 8) and checked by CRC-32, no ZIP64, no
// encryption, no extra fields. Enough for e-mail attachments, which are bounded by
// smtp.max_attachment_bytes long before the 4 GiB ZIP32 limit matters.
//
// Pure functions over memory; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace vantage::delivery {

struct ZipEntry {
  std::string name;       // path inside the archive, '/'-separated, UTF-8
  std::string_view data;  // contents; must outlive the call
  UnixSeconds mtime = 0;  // stored as an MS-DOS timestamp (2-second resolution, 1980..2107)
};

// Returns the bytes of a complete archive holding `entries` in order. Errors: an empty or
// over-long name, an entry or archive beyond the ZIP32 limits, or a zlib failure.
Result<std::string> make_zip(const std::vector<ZipEntry>& entries);

// CRC-32 (ISO-HDLC, as used by ZIP and gzip), exposed for tests.
uint32_t crc32_of(std::string_view data);

}  // namespace vantage::delivery
