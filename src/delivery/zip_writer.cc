#include "delivery/zip_writer.h"

#include <zlib.h>

#include <limits>

namespace vantage::delivery {

namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndOfCentralSig = 0x06054b50;
constexpr uint16_t kVersionNeeded = 20;      // 2.0: deflate
constexpr uint16_t kVersionMadeBy = 0x0314;  // UNIX host, spec 2.0: lets unzip honour the mode
constexpr uint16_t kFlagUtf8 = 1u << 11;     // names are UTF-8 (APPNOTE appendix D)
constexpr uint16_t kMethodDeflate = 8;
constexpr uint32_t kMaxZip32 = std::numeric_limits<uint32_t>::max();

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

void put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// MS-DOS date and time fields; timestamps outside 1980..2107 are clamped because the format
// cannot express them.
void dos_time(UnixSeconds t, uint16_t& time, uint16_t& date) {
  constexpr UnixSeconds kMin = 315532800;   // 1980-01-01 00:00:00
  constexpr UnixSeconds kMax = 4354819198;  // 2107-12-31 23:59:58
  if (t < kMin) t = kMin;
  if (t > kMax) t = kMax;
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day_of(t), y, m, d);
  const auto secs = static_cast<unsigned>(t - static_cast<UnixSeconds>(day_of(t)) * 86400);
  time =
      static_cast<uint16_t>(((secs / 3600) << 11) | (((secs / 60) % 60) << 5) | ((secs % 60) / 2));
  date = static_cast<uint16_t>((static_cast<unsigned>(y - 1980) << 9) | (m << 5) | d);
}

Result<std::string> raw_deflate(std::string_view data) {
  z_stream zs{};
  // Negative window bits: a raw deflate stream, without the zlib header and Adler-32 trailer
  // that ZIP does not expect.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Error::internal("zip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const uLong produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Error::internal("zip: deflate did not finish");
  out.resize(produced);
  return out;
}

}  // namespace

uint32_t crc32_of(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // crc32() takes a uInt length; feed large inputs in chunks.
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t n = std::min<size_t>(data.size() - pos, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + pos), static_cast<uInt>(n));
    pos += n;
  }
  return static_cast<uint32_t>(crc);
}

Result<std::string> make_zip(const std::vector<ZipEntry>& entries) {
  if (entries.size() > 0xffff) return Error::invalid("zip: too many entries");
  std::string out;
  std::string central;
  for (const ZipEntry& e : entries) {
    if (e.name.empty() || e.name.size() > 0xffff) {
      return Error::invalid("zip: entry name empty or too long");
    }
    if (e.data.size() >= kMaxZip32) return Error::invalid("zip: entry over 4 GiB: " + e.name);
    auto packed = raw_deflate(e.data);
    if (!packed) return packed.error();
    if (out.size() + packed->size() + 30 + e.name.size() >= kMaxZip32) {
      return Error::invalid("zip: archive over 4 GiB");
    }
    const uint32_t crc = crc32_of(e.data);
    const auto csize = static_cast<uint32_t>(packed->size());
    const auto usize = static_cast<uint32_t>(e.data.size());
    const auto offset = static_cast<uint32_t>(out.size());
    uint16_t dtime = 0, ddate = 0;
    dos_time(e.mtime, dtime, ddate);

    put32(out, kLocalHeaderSig);
    put16(out, kVersionNeeded);
    put16(out, kFlagUtf8);
    put16(out, kMethodDeflate);
    put16(out, dtime);
    put16(out, ddate);
    put32(out, crc);
    put32(out, csize);
    put32(out, usize);
    put16(out, static_cast<uint16_t>(e.name.size()));
    put16(out, 0);  // extra field length
    out += e.name;
    out += *packed;

    put32(central, kCentralHeaderSig);
    put16(central, kVersionMadeBy);
    put16(central, kVersionNeeded);
    put16(central, kFlagUtf8);
    put16(central, kMethodDeflate);
    put16(central, dtime);
    put16(central, ddate);
    put32(central, crc);
    put32(central, csize);
    put32(central, usize);
    put16(central, static_cast<uint16_t>(e.name.size()));
    put16(central, 0);               // extra field length
    put16(central, 0);               // comment length
    put16(central, 0);               // disk number start
    put16(central, 0);               // internal attributes
    put32(central, 0100644u << 16);  // external attributes: regular file, rw-r--r--
    put32(central, offset);
    central += e.name;
  }
  if (out.size() + central.size() >= kMaxZip32) return Error::invalid("zip: archive over 4 GiB");
  const auto central_offset = static_cast<uint32_t>(out.size());
  const auto central_size = static_cast<uint32_t>(central.size());
  out += central;
  put32(out, kEndOfCentralSig);
  put16(out, 0);  // this disk
  put16(out, 0);  // disk with the central directory
  put16(out, static_cast<uint16_t>(entries.size()));
  put16(out, static_cast<uint16_t>(entries.size()));
  put32(out, central_size);
  put32(out, central_offset);
  put16(out, 0);  // comment length
  return out;
}

}  // namespace vantage::delivery
