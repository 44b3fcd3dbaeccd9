#include "enrich/geo_db.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vantage::enrich {

const char* geo_layout_name(GeoLayout layout) {
  switch (layout) {
    case GeoLayout::kAuto: return "auto";
    case GeoLayout::kFlat: return "flat";
    case GeoLayout::kMaxMind: return "maxmind";
  }
  return "?";
}

Result<GeoLayout> parse_geo_layout(std::string_view text) {
  if (text == "auto") return GeoLayout::kAuto;
  if (text == "flat" || text == "dbip-flat") return GeoLayout::kFlat;
  if (text == "maxmind" || text == "geolite2") return GeoLayout::kMaxMind;
  return Error::invalid("unknown geo layout '" + std::string(text) +
                        "' (expected auto, flat or maxmind)");
}

// Sorted, disjoint ranges covering the whole key space (gaps included, as kNoRecord), so a
// range's end is the next range's start - 1. Keys are the tree's own address bits:
// 32-bit for an IPv4 tree, 128-bit for an IPv6 tree (IPv4 then sits at ::a.b.c.d, as
// libmaxminddb looks it up). bucket[b] is the first range whose start has top-16 bits >= b.
struct GeoDb::Flat {
  static constexpr uint32_t kNoRecord = UINT32_MAX;
  std::vector<uint32_t> starts32;
  std::vector<uint128> starts128;
  std::vector<uint32_t> ids;
  std::vector<uint32_t> bucket;  // 65537 entries
  std::vector<GeoRecord> records;

  template <typename K>
  uint32_t find(const std::vector<K>& starts, K key, int bits) const {
    const uint32_t b = static_cast<uint32_t>(key >> (bits - 16));
    auto first = starts.begin() + bucket[b];
    auto last = starts.begin() + bucket[b + 1];
    auto p = std::upper_bound(first, last, key);
    // p > starts.begin() always: the partition starts at 0.
    return ids[static_cast<size_t>(p - starts.begin()) - 1];
  }
};

size_t GeoDb::flat_ranges() const {
  return flat_ ? flat_->ids.size() : 0;
}
size_t GeoDb::flat_records() const {
  return flat_ ? flat_->records.size() : 0;
}
size_t GeoDb::flat_memory_bytes() const {
  if (!flat_) return 0;
  return flat_->starts32.capacity() * 4 + flat_->starts128.capacity() * 16 +
         flat_->ids.capacity() * 4 + flat_->bucket.capacity() * 4 +
         flat_->records.capacity() * sizeof(GeoRecord);
}

Result<std::unique_ptr<GeoDb>> GeoDb::open(const std::string& path, GeoLayout layout,
                                           GeoIndex index) {
  std::unique_ptr<GeoDb> g(new GeoDb());
  g->db_ = std::make_unique<MMDB_s>();
  int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, g->db_.get());
  if (rc != MMDB_SUCCESS) {
    std::string why = MMDB_strerror(rc);
    if (rc == MMDB_IO_ERROR) why += std::string(" (") + std::strerror(errno) + ")";
    g->db_.reset();  // MMDB_open frees what it allocated on failure
    return Error::invalid(path + ": cannot open MaxMind DB: " + why);
  }
  g->path_ = path;
  const MMDB_metadata_s& md = g->db_->metadata;
  g->database_type_ = md.database_type ? md.database_type : "";
  g->ip_version_ = md.ip_version;
  g->build_epoch_ = md.build_epoch;
  if (md.ip_version != 4 && md.ip_version != 6) {
    return Error::invalid(path + ": unsupported ip_version " + std::to_string(md.ip_version));
  }
  if (layout == GeoLayout::kAuto) {
    const std::string& t = g->database_type_;
    bool maxmind = t.rfind("GeoIP2", 0) == 0 || t.rfind("GeoLite2", 0) == 0 ||
                   t.rfind("DBIP-", 0) == 0 || t.rfind("GeoIP-", 0) == 0;
    layout = maxmind ? GeoLayout::kMaxMind : GeoLayout::kFlat;
  }
  g->layout_ = layout;
  if (index == GeoIndex::kFlattened) {
    Status st = g->flatten();
    if (!st.ok()) return Error::invalid(path + ": " + st.message());
  }
  return g;
}

GeoDb::~GeoDb() {
  if (db_) MMDB_close(db_.get());
}

namespace {

// Reads a utf8_string at `path` (NULL-terminated list) below `entry`. Missing → empty,
// true; present but not a string, or a decode error → false.
bool get_string(MMDB_entry_s* entry, std::string_view& out, const char* const* path) {
  MMDB_entry_data_s data;
  int rc = MMDB_aget_value(entry, &data, path);
  if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) return true;
  if (rc != MMDB_SUCCESS) return false;
  if (!data.has_data) return true;
  if (data.type != MMDB_DATA_TYPE_UTF8_STRING) return false;
  // Not NUL-terminated: the bytes live in the mapped data section; use data_size.
  out = std::string_view(data.utf8_string, data.data_size);
  return true;
}

}  // namespace

namespace {
bool decode_record(MMDB_entry_s* entry, GeoLayout layout, GeoRecord& out);
}  // namespace

Status GeoDb::flatten() {
  auto f = std::make_unique<Flat>();
  const MMDB_s* db = db_.get();
  const uint32_t node_count = db->metadata.node_count;
  const int bits = ip_version_ == 4 ? 32 : 128;
  // Offsets of data records -> record id, and (country, region, city) -> record id.
  std::unordered_map<uint32_t, uint32_t> by_offset;
  std::unordered_map<std::string, uint32_t> by_content;
  by_offset.reserve(node_count / 2);
  std::string key;
  uint32_t last_id = Flat::kNoRecord;
  bool any = false;
  // Real trees alias subtrees (GeoLite2 maps ::ffff:0:0/96 and 2002::/16 onto the IPv4
  // subtree), so a walk may visit a node more than once; bounds on ranges and on node
  // visits stop a hostile tree whose shared subtrees would make the walk exponential.
  const uint64_t max_ranges = uint64_t{node_count} * 4 + 64;
  const uint64_t max_visits = uint64_t{node_count} * 8 + 1024;
  uint64_t visits = 0;

  auto emit = [&](uint128 start, uint32_t id) -> bool {
    if (any && id == last_id) return true;  // merge with the previous range
    if (f->ids.size() >= max_ranges) return false;
    if (bits == 32) {
      f->starts32.push_back(static_cast<uint32_t>(start));
    } else {
      f->starts128.push_back(start);
    }
    f->ids.push_back(id);
    last_id = id;
    any = true;
    return true;
  };

  struct Item {
    uint64_t record;  // node number, or data offset for kData
    uint8_t type;     // MMDB_RECORD_TYPE_*
    int depth;        // number of address bits fixed so far
    uint128 prefix;   // those bits, left-aligned in a `bits`-wide key
  };
  std::vector<Item> stack;
  stack.push_back({0, MMDB_RECORD_TYPE_SEARCH_NODE, 0, 0});
  MMDB_search_node_s node;
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    switch (it.type) {
      case MMDB_RECORD_TYPE_EMPTY:
        if (!emit(it.prefix, Flat::kNoRecord)) return Error::invalid("search tree too large");
        break;
      case MMDB_RECORD_TYPE_DATA: {
        auto [pos, inserted] =
            by_offset.try_emplace(static_cast<uint32_t>(it.record), Flat::kNoRecord);
        if (inserted) {
          MMDB_entry_s entry{db, static_cast<uint32_t>(it.record)};
          GeoRecord r;
          if (!decode_record(&entry, layout_, r)) {
            return Error::invalid("undecodable record at data offset " + std::to_string(it.record));
          }
          key.assign(r.country, 2);
          key.append(r.region).push_back('\0');
          key.append(r.city);
          auto [cpos, cnew] = by_content.try_emplace(key, static_cast<uint32_t>(f->records.size()));
          if (cnew) f->records.push_back(r);
          pos->second = cpos->second;
        }
        if (!emit(it.prefix, pos->second)) return Error::invalid("search tree too large");
        break;
      }
      case MMDB_RECORD_TYPE_SEARCH_NODE: {
        if (it.depth >= bits) return Error::invalid("search tree deeper than the address");
        if (++visits > max_visits) {
          return Error::invalid("search tree revisits shared nodes too often (corrupt?)");
        }
        if (MMDB_read_node(db, static_cast<uint32_t>(it.record), &node) != MMDB_SUCCESS) {
          return Error::invalid("unreadable search tree node " + std::to_string(it.record));
        }
        const uint128 one = uint128{1} << (bits - 1 - it.depth);
        // Right pushed first so that the left (lower) half is emitted first.
        const uint64_t recs[2] = {node.left_record, node.right_record};
        const uint8_t types[2] = {node.left_record_type, node.right_record_type};
        const uint32_t offs[2] = {node.left_record_entry.offset, node.right_record_entry.offset};
        for (int side = 1; side >= 0; --side) {
          Item child{recs[side], types[side], it.depth + 1, it.prefix | (side ? one : 0)};
          if (types[side] == MMDB_RECORD_TYPE_DATA) child.record = offs[side];
          if (types[side] == MMDB_RECORD_TYPE_INVALID) {
            return Error::invalid("invalid record in search tree node " +
                                  std::to_string(it.record));
          }
          stack.push_back(child);
        }
        break;
      }
      default: return Error::invalid("invalid search tree record");
    }
  }
  f->bucket.resize(65537);
  for (uint32_t b = 0; b <= 65536; ++b) {
    size_t idx;
    if (bits == 32) {
      const uint64_t k = uint64_t{b} << 16;
      idx = std::lower_bound(f->starts32.begin(), f->starts32.end(), k,
                             [](uint32_t v, uint64_t kk) { return uint64_t{v} < kk; }) -
            f->starts32.begin();
    } else {
      // b == 65536 is past the end of the space: every range starts below it.
      idx = b == 65536
                ? f->starts128.size()
                : std::lower_bound(f->starts128.begin(), f->starts128.end(), uint128{b} << 112) -
                      f->starts128.begin();
    }
    f->bucket[b] = static_cast<uint32_t>(idx);
  }
  flat_ = std::move(f);
  // The walk touched every page of the search tree, which lookups no longer read: drop
  // those pages from this process's resident set (they are clean file pages; libmaxminddb
  // would fault them back in if asked). The data section stays, as records point into it.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t tree_bytes =
      static_cast<size_t>(node_count) * db->full_record_byte_size / page * page;
  if (tree_bytes > 0) {
    madvise(const_cast<uint8_t*>(db->file_content), tree_bytes, MADV_DONTNEED);
  }
  // Give back the transient hash maps' memory to the system now rather than at some later
  // allocation: a reload builds a whole second snapshot beside the live one.
  by_offset = {};
  by_content = {};
  malloc_trim(0);
  return {};
}

bool GeoDb::lookup(const IpAddress& a, GeoRecord& out) const {
  if (!flat_) return lookup_mmdb(a, out);
  uint32_t id;
  if (ip_version_ == 4) {
    if (!a.is_v4()) {
      out = GeoRecord{};
      return false;
    }
    id = flat_->find(flat_->starts32, a.v4(), 32);
  } else {
    id = flat_->find(flat_->starts128, a.is_v4() ? uint128{a.v4()} : a.u128(), 128);
  }
  if (id == Flat::kNoRecord) {
    out = GeoRecord{};
    return false;
  }
  out = flat_->records[id];
  return true;
}

bool GeoDb::lookup_mmdb(const IpAddress& a, GeoRecord& out) const {
  out = GeoRecord{};
  int mmdb_error = 0;
  MMDB_lookup_result_s res;
  if (a.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(a.v4());
    res = MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&sin), &mmdb_error);
  } else {
    if (ip_version_ == 4) return false;
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    a.to_bytes(sin6.sin6_addr.s6_addr);
    res = MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&sin6), &mmdb_error);
  }
  if (mmdb_error != MMDB_SUCCESS) {
    decode_errors_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!res.found_entry) return false;

  if (!decode_record(&res.entry, layout_, out)) {
    decode_errors_.fetch_add(1, std::memory_order_relaxed);
    out = GeoRecord{};
    return false;
  }
  return true;
}

namespace {

// Reads country, region and city from the record at `entry` in the given layout.
bool decode_record(MMDB_entry_s* entry, GeoLayout layout, GeoRecord& out) {
  out = GeoRecord{};
  static const char* const kFlatCountry[] = {"country_code", nullptr};
  static const char* const kFlatRegion[] = {"state1", nullptr};
  static const char* const kFlatCity[] = {"city", nullptr};
  static const char* const kMmCountry[] = {"country", "iso_code", nullptr};
  static const char* const kMmRegion[] = {"subdivisions", "0", "names", "en", nullptr};
  static const char* const kMmCity[] = {"city", "names", "en", nullptr};
  const bool flat = layout == GeoLayout::kFlat;
  std::string_view country;
  bool ok = get_string(entry, country, flat ? kFlatCountry : kMmCountry) &&
            get_string(entry, out.region, flat ? kFlatRegion : kMmRegion) &&
            get_string(entry, out.city, flat ? kFlatCity : kMmCity);
  if (!ok) {
    out = GeoRecord{};
    return false;
  }
  // Only a two-letter code is a country; anything else is left empty rather than
  // truncated into something that looks valid.
  if (country.size() == 2) {
    out.country[0] = country[0];
    out.country[1] = country[1];
  }
  return true;
}

}  // namespace

}  // namespace vantage::enrich
