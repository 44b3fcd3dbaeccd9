#include "enrich/testing/mmdb_writer.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <memory>

namespace vantage::enrich::testing {
namespace {

// Data section type numbers (spec §"Output Data Section").
enum : int {
  kUtf8 = 2,
  kDouble = 3,
  kUint16 = 5,
  kUint32 = 6,
  kMap = 7,
  kUint64 = 9,
  kArray = 11,
  kBoolean = 14,
};

void control(std::string& out, int type, size_t size) {
  uint8_t size_bits;
  std::string extra;
  if (size < 29) {
    size_bits = static_cast<uint8_t>(size);
  } else if (size < 29 + 256) {
    size_bits = 29;
    extra.push_back(static_cast<char>(size - 29));
  } else if (size < 285 + 65536) {
    size_bits = 30;
    size_t v = size - 285;
    extra.push_back(static_cast<char>(v >> 8));
    extra.push_back(static_cast<char>(v));
  } else {
    size_bits = 31;
    size_t v = size - 65821;
    extra.push_back(static_cast<char>(v >> 16));
    extra.push_back(static_cast<char>(v >> 8));
    extra.push_back(static_cast<char>(v));
  }
  if (type <= 7) {
    out.push_back(static_cast<char>((type << 5) | size_bits));
  } else {
    out.push_back(static_cast<char>(size_bits));  // type 0 = extended
    out.push_back(static_cast<char>(type - 7));
  }
  out += extra;
}

void put_uint(std::string& out, int type, uint64_t v) {
  int bytes = 0;
  for (uint64_t t = v; t; t >>= 8) ++bytes;
  control(out, type, bytes);
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void put_string(std::string& out, const std::string& s) {
  control(out, kUtf8, s.size());
  out += s;
}

}  // namespace

MmdbValue MmdbValue::str(std::string s) {
  MmdbValue v;
  v.kind_ = Kind::kString;
  v.s_ = std::move(s);
  return v;
}
MmdbValue MmdbValue::dbl(double d) {
  MmdbValue v;
  v.kind_ = Kind::kDouble;
  v.d_ = d;
  return v;
}
MmdbValue MmdbValue::u16(uint16_t x) {
  MmdbValue v;
  v.kind_ = Kind::kUint16;
  v.u_ = x;
  return v;
}
MmdbValue MmdbValue::u32(uint32_t x) {
  MmdbValue v;
  v.kind_ = Kind::kUint32;
  v.u_ = x;
  return v;
}
MmdbValue MmdbValue::u64(uint64_t x) {
  MmdbValue v;
  v.kind_ = Kind::kUint64;
  v.u_ = x;
  return v;
}
MmdbValue MmdbValue::boolean(bool b) {
  MmdbValue v;
  v.kind_ = Kind::kBool;
  v.u_ = b;
  return v;
}
MmdbValue MmdbValue::map(std::vector<std::pair<std::string, MmdbValue>> entries) {
  MmdbValue v;
  v.kind_ = Kind::kMap;
  v.map_ = std::move(entries);
  return v;
}
MmdbValue MmdbValue::array(std::vector<MmdbValue> items) {
  MmdbValue v;
  v.kind_ = Kind::kArray;
  v.array_ = std::move(items);
  return v;
}

void MmdbValue::encode(std::string& out) const {
  switch (kind_) {
    case Kind::kString: put_string(out, s_); break;
    case Kind::kDouble: {
      control(out, kDouble, 8);
      uint64_t bits = std::bit_cast<uint64_t>(d_);
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(bits >> (8 * i)));
      break;
    }
    case Kind::kUint16: put_uint(out, kUint16, u_); break;
    case Kind::kUint32: put_uint(out, kUint32, u_); break;
    case Kind::kUint64: put_uint(out, kUint64, u_); break;
    case Kind::kBool: control(out, kBoolean, u_ ? 1 : 0); break;
    case Kind::kMap:
      control(out, kMap, map_.size());
      for (const auto& [k, v] : map_) {
        put_string(out, k);
        v.encode(out);
      }
      break;
    case Kind::kArray:
      control(out, kArray, array_.size());
      for (const auto& v : array_) v.encode(out);
      break;
  }
}

MmdbValue dbip_flat_record(const std::string& country, const std::string& region,
                           const std::string& city) {
  return MmdbValue::map({{"city", MmdbValue::str(city)},
                         {"country_code", MmdbValue::str(country)},
                         {"latitude", MmdbValue::dbl(1.5)},
                         {"longitude", MmdbValue::dbl(-2.25)},
                         {"postcode", MmdbValue::str("")},
                         {"state1", MmdbValue::str(region)},
                         {"state2", MmdbValue::str("")},
                         {"timezone", MmdbValue::str("")}});
}

MmdbValue geolite2_record(const std::string& country, const std::string& region,
                          const std::string& city) {
  auto names = [](const std::string& en) {
    return MmdbValue::map({{"de", MmdbValue::str(en + "-de")}, {"en", MmdbValue::str(en)}});
  };
  std::vector<std::pair<std::string, MmdbValue>> top;
  if (!city.empty()) {
    top.emplace_back(
        "city", MmdbValue::map({{"geoname_id", MmdbValue::u32(5375480)}, {"names", names(city)}}));
  }
  top.emplace_back("continent", MmdbValue::map({{"code", MmdbValue::str("NA")}}));
  top.emplace_back("country", MmdbValue::map({{"geoname_id", MmdbValue::u32(6252001)},
                                              {"iso_code", MmdbValue::str(country)},
                                              {"names", names("Country")}}));
  top.emplace_back("location", MmdbValue::map({{"latitude", MmdbValue::dbl(37.4)},
                                               {"longitude", MmdbValue::dbl(-122.1)}}));
  if (!region.empty()) {
    top.emplace_back("subdivisions",
                     MmdbValue::array({MmdbValue::map(
                         {{"iso_code", MmdbValue::str("CA")}, {"names", names(region)}})}));
  }
  return MmdbValue::map(std::move(top));
}

Status MmdbWriter::insert(const IpPrefix& prefix, MmdbValue value) {
  if (options_.ip_version == 4 && !prefix.is_v4()) {
    return Error::invalid("IPv6 prefix " + prefix.to_string() + " in an IPv4 tree");
  }
  entries_.emplace_back(prefix, std::move(value));
  return {};
}

Result<std::string> MmdbWriter::serialize() const {
  const int rs = options_.record_size;
  if (rs != 24 && rs != 28 && rs != 32) return Error::invalid("record_size must be 24/28/32");
  const int depth = options_.ip_version == 4 ? 32 : 128;

  // Build the tree. A record is a node index (>= 0), kEmpty, or -(2 + value index).
  constexpr int64_t kEmpty = -1;
  struct Node {
    int64_t rec[2] = {kEmpty, kEmpty};
  };
  std::vector<Node> nodes(1);
  std::vector<size_t> order(entries_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto tree_length = [depth](const IpPrefix& p) {
    return depth == 128 && p.is_v4() ? 96 + p.length() : p.length();
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tree_length(entries_[a].first) < tree_length(entries_[b].first);
  });
  for (size_t ei : order) {
    const IpPrefix& p = entries_[ei].first;
    uint128 bits;
    int len;
    if (depth == 32) {
      bits = uint128{p.address().v4()} << 96;
      len = p.length();
    } else if (p.is_v4()) {
      bits = uint128{p.address().v4()} << 96 >> 96;  // ::a.b.c.d
      len = 96 + p.length();
    } else {
      bits = p.address().u128();
      len = p.length();
    }
    if (len == 0) return Error::invalid("a /0 prefix cannot be stored in a search tree");
    size_t node = 0;
    const int64_t leaf = -(2 + static_cast<int64_t>(ei));
    for (int i = 0; i < len; ++i) {
      int bit = static_cast<int>((bits >> (127 - i)) & 1);
      if (i == len - 1) {
        nodes[node].rec[bit] = leaf;
        break;
      }
      int64_t r = nodes[node].rec[bit];
      if (r < 0) {
        // Empty or data: split into a node whose both halves inherit that record.
        Node n;
        n.rec[0] = n.rec[1] = r;
        nodes.push_back(n);
        r = static_cast<int64_t>(nodes.size() - 1);
        nodes[node].rec[bit] = r;
      }
      node = static_cast<size_t>(r);
    }
  }

  // Data section: one encoded value per entry, in entry order.
  std::string data;
  std::vector<uint64_t> offsets(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) {
    offsets[i] = data.size();
    entries_[i].second.encode(data);
  }

  const uint64_t node_count = nodes.size();
  const uint64_t max_record = rs == 32 ? 0xFFFFFFFFULL : (uint64_t{1} << rs) - 1;
  auto record_value = [&](int64_t r) -> uint64_t {
    if (r >= 0) return static_cast<uint64_t>(r);
    if (r == kEmpty) return node_count;
    return node_count + 16 + offsets[static_cast<size_t>(-r - 2)];
  };
  std::string out;
  out.reserve(node_count * rs / 4 + 16 + data.size() + 512);
  for (const Node& n : nodes) {
    uint64_t l = record_value(n.rec[0]), r = record_value(n.rec[1]);
    if (l > max_record || r > max_record) return Error::invalid("record size too small");
    auto put = [&out](uint64_t v, int bytes) {
      for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
    };
    if (rs == 24) {
      put(l, 3);
      put(r, 3);
    } else if (rs == 28) {
      put(l & 0xFFFFFF, 3);
      out.push_back(static_cast<char>(((l >> 24) << 4) | (r >> 24)));
      put(r & 0xFFFFFF, 3);
    } else {
      put(l, 4);
      put(r, 4);
    }
  }
  out.append(16, '\0');
  out += data;
  out += "\xAB\xCD\xEFMaxMind.com";
  std::vector<MmdbValue> langs;
  for (const auto& l : options_.languages) langs.push_back(MmdbValue::str(l));
  MmdbValue::map({{"binary_format_major_version", MmdbValue::u16(2)},
                  {"binary_format_minor_version", MmdbValue::u16(0)},
                  {"build_epoch", MmdbValue::u64(options_.build_epoch)},
                  {"database_type", MmdbValue::str(options_.database_type)},
                  {"description", MmdbValue::map({{"en", MmdbValue::str(options_.description)}})},
                  {"ip_version", MmdbValue::u16(static_cast<uint16_t>(options_.ip_version))},
                  {"languages", MmdbValue::array(std::move(langs))},
                  {"node_count", MmdbValue::u32(static_cast<uint32_t>(node_count))},
                  {"record_size", MmdbValue::u16(static_cast<uint16_t>(rs))}})
      .encode(out);
  return out;
}

Status MmdbWriter::write(const std::string& path) const {
  auto bytes = serialize();
  if (!bytes) return bytes.error();
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return Error::io(path + ": " + std::strerror(errno));
  if (std::fwrite(bytes->data(), 1, bytes->size(), f.get()) != bytes->size()) {
    return Error::io(path + ": short write");
  }
  return {};
}

}  // namespace vantage::enrich::testing
