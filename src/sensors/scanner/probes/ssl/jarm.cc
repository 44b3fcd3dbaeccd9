#include "sensors/scanner/probes/ssl/jarm.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <optional>

#include "common/strings.h"

namespace vantage::scanner::jarm {
namespace {

using Bytes = std::string;

Bytes u16(size_t v) {
  return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}
Bytes u8(size_t v) {
  return {static_cast<char>(v & 0xff)};
}
Bytes b(std::initializer_list<int> v) {
  Bytes out;
  for (int x : v) out += static_cast<char>(x);
  return out;
}

// The probe table of jarm.py's main(): version, cipher list, cipher order, GREASE, ALPN
// set, supported_versions variant, extension (ALPN/versions) order.
enum class Ver { tls1_1, tls1_2, tls1_3 };
enum class Order { forward, reverse, top_half, bottom_half, middle_out };
enum class Support { v1_2, none, v1_3 };
struct Probe {
  Ver version;
  bool all_ciphers;  // ALL, else NO1.3
  Order cipher_order;
  bool grease;
  bool rare_alpn;
  Support support;
  Order ext_order;
};
constexpr std::array<Probe, kProbes> kTable{{
    {Ver::tls1_2, true, Order::forward, false, false, Support::v1_2, Order::reverse},
    {Ver::tls1_2, true, Order::reverse, false, false, Support::v1_2, Order::forward},
    {Ver::tls1_2, true, Order::top_half, false, false, Support::none, Order::forward},
    {Ver::tls1_2, true, Order::bottom_half, false, true, Support::none, Order::forward},
    {Ver::tls1_2, true, Order::middle_out, true, true, Support::none, Order::reverse},
    {Ver::tls1_1, true, Order::forward, false, false, Support::none, Order::forward},
    {Ver::tls1_3, true, Order::forward, false, false, Support::v1_3, Order::reverse},
    {Ver::tls1_3, true, Order::reverse, false, false, Support::v1_3, Order::forward},
    {Ver::tls1_3, false, Order::forward, false, false, Support::v1_3, Order::forward},
    {Ver::tls1_3, true, Order::middle_out, true, false, Support::v1_3, Order::reverse},
}};

// jarm.py's "ALL" list; "NO1.3" is the same without the five TLS 1.3 suites.
const std::vector<uint16_t>& all_ciphers() {
  static const std::vector<uint16_t> v{
      0x0016, 0x0033, 0x0067, 0xc09e, 0xc0a2, 0x009e, 0x0039, 0x006b, 0xc09f, 0xc0a3,
      0x009f, 0x0045, 0x00be, 0x0088, 0x00c4, 0x009a, 0xc008, 0xc009, 0xc023, 0xc0ac,
      0xc0ae, 0xc02b, 0xc00a, 0xc024, 0xc0ad, 0xc0af, 0xc02c, 0xc072, 0xc073, 0xcca9,
      0x1302, 0x1301, 0xcc14, 0xc007, 0xc012, 0xc013, 0xc027, 0xc02f, 0xc014, 0xc028,
      0xc030, 0xc060, 0xc061, 0xc076, 0xc077, 0xcca8, 0x1305, 0x1304, 0x1303, 0xcc13,
      0xc011, 0x000a, 0x002f, 0x003c, 0xc09c, 0xc0a0, 0x009c, 0x0035, 0x003d, 0xc09d,
      0xc0a1, 0x009d, 0x0041, 0x00ba, 0x0084, 0x00c0, 0x0007, 0x0004, 0x0005};
  return v;
}

// The order in which the fuzzy hash numbers ciphers (jarm.py's cipher_bytes list).
const std::vector<uint16_t>& hash_order() {
  static const std::vector<uint16_t> v{
      0x0004, 0x0005, 0x0007, 0x000a, 0x0016, 0x002f, 0x0033, 0x0035, 0x0039, 0x003c,
      0x003d, 0x0041, 0x0045, 0x0067, 0x006b, 0x0084, 0x0088, 0x009a, 0x009c, 0x009d,
      0x009e, 0x009f, 0x00ba, 0x00be, 0x00c0, 0x00c4, 0xc007, 0xc008, 0xc009, 0xc00a,
      0xc011, 0xc012, 0xc013, 0xc014, 0xc023, 0xc024, 0xc027, 0xc028, 0xc02b, 0xc02c,
      0xc02f, 0xc030, 0xc060, 0xc061, 0xc072, 0xc073, 0xc076, 0xc077, 0xc09c, 0xc09d,
      0xc09e, 0xc09f, 0xc0a0, 0xc0a1, 0xc0a2, 0xc0a3, 0xc0ac, 0xc0ad, 0xc0ae, 0xc0af,
      0xcc13, 0xcc14, 0xcca8, 0xcca9, 0x1301, 0x1302, 0x1303, 0x1304, 0x1305};
  return v;
}

// jarm.py's cipher_mung, on any list (ciphers, ALPNs, versions).
template <typename T>
std::vector<T> mung(const std::vector<T>& in, Order order) {
  const size_t n = in.size();
  std::vector<T> out;
  switch (order) {
    case Order::forward: return in;
    case Order::reverse: return std::vector<T>(in.rbegin(), in.rend());
    case Order::bottom_half:
      out.assign(in.begin() + static_cast<long>(n % 2 == 1 ? n / 2 + 1 : n / 2), in.end());
      return out;
    case Order::top_half: {
      if (n % 2 == 1) out.push_back(in[n / 2]);
      const auto rest = mung(mung(in, Order::reverse), Order::bottom_half);
      out.insert(out.end(), rest.begin(), rest.end());
      return out;
    }
    case Order::middle_out: {
      const size_t middle = n / 2;
      if (n % 2 == 1) {
        out.push_back(in[middle]);
        for (size_t i = 1; i <= middle; ++i) {
          out.push_back(in[middle + i]);
          out.push_back(in[middle - i]);
        }
      } else {
        for (size_t i = 1; i <= middle; ++i) {
          out.push_back(in[middle - 1 + i]);
          out.push_back(in[middle - i]);
        }
      }
      return out;
    }
  }
  return in;
}

Bytes grease(const RandomBytes& random) {
  uint8_t r = 0;
  random(&r, 1);
  const char g = static_cast<char>(((r & 0x0f) << 4) | 0x0a);  // 0x0a0a, 0x1a1a, ... 0xfafa
  return Bytes{g, g};
}

Bytes random_bytes(const RandomBytes& random, size_t n) {
  Bytes out(n, '\0');
  random(reinterpret_cast<uint8_t*>(out.data()), n);
  return out;
}

Bytes alpn_extension(const Probe& p) {
  auto proto = [](std::string_view s) { return u8(s.size()) + std::string(s); };
  std::vector<Bytes> alpns;
  if (p.rare_alpn) {
    alpns = {proto("http/0.9"), proto("http/1.0"), proto("spdy/1"), proto("spdy/2"),
             proto("spdy/3"),   proto("h2c"),      proto("hq")};
  } else {
    alpns = {proto("http/0.9"), proto("http/1.0"), proto("http/1.1"),
             proto("spdy/1"),   proto("spdy/2"),   proto("spdy/3"),
             proto("h2"),       proto("h2c"),      proto("hq")};
  }
  alpns = mung(alpns, p.ext_order);
  Bytes all;
  for (const auto& a : alpns) all += a;
  return b({0x00, 0x10}) + u16(all.size() + 2) + u16(all.size()) + all;
}

Bytes key_share(bool with_grease, const RandomBytes& random) {
  Bytes share;
  if (with_grease) share = grease(random) + b({0x00, 0x01, 0x00});
  share += b({0x00, 0x1d, 0x00, 0x20}) + random_bytes(random, 32);
  return b({0x00, 0x33}) + u16(share.size() + 2) + u16(share.size()) + share;
}

Bytes supported_versions(const Probe& p, bool with_grease, const RandomBytes& random) {
  std::vector<Bytes> tls{b({0x03, 0x01}), b({0x03, 0x02}), b({0x03, 0x03})};
  if (p.support != Support::v1_2) tls.push_back(b({0x03, 0x04}));
  tls = mung(tls, p.ext_order);
  Bytes versions = with_grease ? grease(random) : Bytes{};
  for (const auto& v : tls) versions += v;
  return b({0x00, 0x2b}) + u16(versions.size() + 1) + u8(versions.size()) + versions;
}

Bytes extensions(const Probe& p, std::string_view host, const RandomBytes& random) {
  Bytes all;
  if (p.grease) all += grease(random) + b({0x00, 0x00});
  all += b({0x00, 0x00}) + u16(host.size() + 5) + u16(host.size() + 3) + b({0x00}) +
         u16(host.size()) + std::string(host);
  all += b({0x00, 0x17, 0x00, 0x00});        // extended master secret
  all += b({0x00, 0x01, 0x00, 0x01, 0x01});  // max fragment length
  all += b({0xff, 0x01, 0x00, 0x01, 0x00});  // renegotiation info
  all += b({0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19});
  all += b({0x00, 0x0b, 0x00, 0x02, 0x01, 0x00});  // ec point formats
  all += b({0x00, 0x23, 0x00, 0x00});              // session ticket
  all += alpn_extension(p);
  all += b(
      {0x00, 0x0d, 0x00, 0x14, 0x00, 0x12, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05,
       0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01, 0x02, 0x01});  // signature algorithms
  all += key_share(p.grease, random);
  all += b({0x00, 0x2d, 0x00, 0x02, 0x01, 0x01});  // psk modes
  if (p.version == Ver::tls1_3 || p.support == Support::v1_2)
    all += supported_versions(p, p.grease, random);
  return u16(all.size()) + all;
}

// Python-like access for the reply parser: jarm.py indexes bytes (IndexError on a short
// reply aborts the probe) and slices (silently short). Both are reproduced.
struct IndexShort {};  // Python IndexError
struct ValueShort {};  // any other exception jarm.py would raise (ValueError, AttributeError, ...)
uint8_t at(std::string_view d, size_t i) {
  if (i >= d.size()) throw IndexShort{};
  return static_cast<uint8_t>(d[i]);
}
std::string_view slice(std::string_view d, size_t from, size_t to) {
  if (from >= d.size() || to <= from) return {};
  return d.substr(from, std::min(to, d.size()) - from);
}
std::string hex(std::string_view s) {
  static const char* h = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out += h[static_cast<uint8_t>(c) >> 4];
    out += h[static_cast<uint8_t>(c) & 15];
  }
  return out;
}
// int(codecs.encode(slice, 'hex'), 16): an empty slice raises (ValueError), caught by
// read_packet's catch-all like a short reply.
size_t be_number(std::string_view s) {
  if (s.empty()) throw ValueShort{};
  size_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

std::string extension_info(std::string_view data, size_t counter, size_t server_hello_length) {
  if (at(data, counter + 47) == 11) return "|";
  if (slice(data, counter + 50, counter + 53) == std::string_view("\x0e\xac\x0b", 3) ||
      slice(data, 82, 85) == std::string_view("\x0f\xf0\x0b", 3))
    return "|";
  if (counter + 42 >= server_hello_length) return "|";
  size_t count = 49 + counter;
  const size_t length = be_number(slice(data, counter + 47, counter + 49));
  const size_t maximum = length + (count - 1);
  std::vector<std::string_view> types;
  std::vector<std::optional<std::string_view>> values;  // nullopt: jarm.py's "" (a str)
  size_t guard = 0;
  while (count < maximum) {
    if (++guard > 4096) throw ValueShort{};  // cannot happen in 1,484 bytes; a bound anyway
    types.push_back(slice(data, count, count + 2));
    const size_t ext_length = be_number(slice(data, count + 2, count + 4));
    if (ext_length == 0) {
      count += 4;
      values.emplace_back(std::nullopt);
    } else {
      values.push_back(slice(data, count + 4, count + 4 + ext_length));
      count += ext_length + 4;
    }
  }
  std::string result;
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i] == std::string_view("\x00\x10", 2)) {
      // values[i][3:].decode(): a zero-length extension's value is a str in jarm.py
      // (AttributeError) and invalid UTF-8 raises too; both abort the probe.
      if (!values[i]) throw ValueShort{};
      const std::string_view alpn = slice(*values[i], 3, values[i]->size());
      if (!is_valid_utf8(alpn)) throw ValueShort{};
      result += std::string(alpn);
      break;
    }
  }
  result += "|";
  for (size_t i = 0; i < types.size(); ++i) {
    if (i) result += "-";
    result += hex(types[i]);
  }
  return result;
}

}  // namespace

RandomBytes system_random() {
  return [](uint8_t* out, size_t n) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1)
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i * 131 + 7);
  };
}

std::string client_hello(int index, std::string_view host, const RandomBytes& random) {
  const Probe& p = kTable[static_cast<size_t>(index) % kProbes];
  Bytes record_version, hello_version;
  switch (p.version) {
    case Ver::tls1_1:
      record_version = b({3, 2});
      hello_version = b({3, 2});
      break;
    case Ver::tls1_2:
      record_version = b({3, 3});
      hello_version = b({3, 3});
      break;
    case Ver::tls1_3:
      record_version = b({3, 1});
      hello_version = b({3, 3});
      break;
  }
  std::vector<uint16_t> ciphers = all_ciphers();
  if (!p.all_ciphers) std::erase_if(ciphers, [](uint16_t c) { return (c >> 8) == 0x13; });
  std::vector<Bytes> list;
  for (uint16_t c : ciphers) list.push_back(u16(c));
  list = mung(list, p.cipher_order);
  if (p.grease) list.insert(list.begin(), grease(random));
  Bytes suites;
  for (const auto& c : list) suites += c;
  Bytes hello = hello_version + random_bytes(random, 32) + u8(32) + random_bytes(random, 32);
  hello += u16(suites.size()) + suites;
  hello += b({0x01, 0x00});  // one compression method: null
  hello += extensions(p, host, random);
  const Bytes handshake = b({0x01, 0x00}) + u16(hello.size()) + hello;
  return b({0x16}) + record_version + u16(handshake.size()) + handshake;
}

bool reply_complete(std::string_view reply) {
  if (reply.size() >= kMaxReply) return true;
  if (reply.size() < 5) return false;
  const size_t len =
      (static_cast<size_t>(static_cast<uint8_t>(reply[3])) << 8) | static_cast<uint8_t>(reply[4]);
  return reply.size() >= 5 + len;
}

std::string read_server_hello(std::string_view reply) {
  const std::string_view data = reply.substr(0, std::min(reply.size(), kMaxReply));
  try {
    if (at(data, 0) == 21) return "|||";
    if (at(data, 0) == 22 && at(data, 5) == 2) {
      // int.from_bytes(data[3:5]): the record length (0 when the slice is empty).
      size_t server_hello_length = 0;
      for (char c : slice(data, 3, 5))
        server_hello_length = (server_hello_length << 8) | static_cast<uint8_t>(c);
      const size_t counter = at(data, 43);
      std::string out =
          hex(slice(data, counter + 44, counter + 46)) + "|" + hex(slice(data, 9, 11)) + "|";
      // extract_extension_info catches its own IndexError and returns "|" after the cipher
      // and version; its other exceptions reach read_packet's catch-all.
      try {
        out += extension_info(data, counter, server_hello_length);
      } catch (const IndexShort&) {
        out += "|";
      }
      return out;
    }
    return "|||";
  } catch (const IndexShort&) {
    return "|||";
  } catch (const ValueShort&) {
    return "|||";
  }
}

std::string fuzzy_hash(const std::vector<std::string>& results) {
  bool all_empty = true;
  for (const auto& r : results) all_empty = all_empty && r == "|||";
  if (all_empty) return std::string(62, '0');
  std::string fuzzy, alpns_and_ext;
  for (const auto& r : results) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      const size_t bar = r.find('|', start);
      parts.push_back(r.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    while (parts.size() < 4) parts.emplace_back();
    // Cipher: 1-based index in the hash order, two hex digits; unknown = one past the end.
    if (parts[0].empty()) {
      fuzzy += "00";
    } else {
      size_t count = 1;
      for (uint16_t c : hash_order()) {
        if (hex(u16(c)) == parts[0]) break;
        ++count;
      }
      static const char* h = "0123456789abcdef";
      std::string hx;
      for (size_t v = count; v; v /= 16) hx.insert(hx.begin(), h[v % 16]);
      fuzzy += hx.size() < 2 ? "0" + hx : hx;
    }
    // Version: the fourth hex digit as a letter a..f ("0303" -> 'd'); jarm.py would raise on
    // anything else, which no real reply produces; '0' marks it here.
    if (parts[1].empty()) {
      fuzzy += "0";
    } else {
      const char d = parts[1].size() >= 4 ? parts[1][3] : 'x';
      fuzzy += (d >= '0' && d <= '5') ? static_cast<char>('a' + (d - '0')) : '0';
    }
    alpns_and_ext += parts[2] + parts[3];
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(alpns_and_ext.data(), alpns_and_ext.size(), digest, &n, EVP_sha256(), nullptr);
  return fuzzy + hex(std::string_view(reinterpret_cast<char*>(digest), n)).substr(0, 32);
}

}  // namespace vantage::scanner::jarm
