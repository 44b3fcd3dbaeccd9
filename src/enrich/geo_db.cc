#include "enrich/geo_db.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>

#include <cstring>

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

Result<std::unique_ptr<GeoDb>> GeoDb::open(const std::string& path, GeoLayout layout) {
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

bool GeoDb::lookup(const IpAddress& a, GeoRecord& out) const {
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

  static const char* const kFlatCountry[] = {"country_code", nullptr};
  static const char* const kFlatRegion[] = {"state1", nullptr};
  static const char* const kFlatCity[] = {"city", nullptr};
  static const char* const kMmCountry[] = {"country", "iso_code", nullptr};
  static const char* const kMmRegion[] = {"subdivisions", "0", "names", "en", nullptr};
  static const char* const kMmCity[] = {"city", "names", "en", nullptr};
  const bool flat = layout_ == GeoLayout::kFlat;
  std::string_view country;
  bool ok = get_string(&res.entry, country, flat ? kFlatCountry : kMmCountry) &&
            get_string(&res.entry, out.region, flat ? kFlatRegion : kMmRegion) &&
            get_string(&res.entry, out.city, flat ? kFlatCity : kMmCity);
  if (!ok) {
    decode_errors_.fetch_add(1, std::memory_order_relaxed);
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

}  // namespace vantage::enrich
