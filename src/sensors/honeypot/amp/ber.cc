#include "sensors/honeypot/amp/ber.h"

namespace vantage::honeypot::amp::ber {

bool read(std::string_view& in, Tlv& out) {
  if (in.size() < 2) return false;
  out.tag = static_cast<uint8_t>(in[0]);
  if ((out.tag & 0x1f) == 0x1f) return false;  // multi-byte tags: in neither SNMP nor LDAP
  size_t len = static_cast<unsigned char>(in[1]);
  size_t header = 2;
  if (len & 0x80) {
    size_t n = len & 0x7f;
    if (n == 0 || n > 4 || in.size() < 2 + n) return false;  // indefinite, or absurd
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>(in[2 + i]);
    header += n;
  }
  if (in.size() - header < len) return false;
  out.value = in.substr(header, len);
  in.remove_prefix(header + len);
  return true;
}

bool expect(std::string_view& in, uint8_t tag, std::string_view& value) {
  Tlv t;
  if (!read(in, t) || t.tag != tag) return false;
  value = t.value;
  return true;
}

bool to_int(std::string_view v, int64_t& out) {
  if (v.empty() || v.size() > 8) return false;
  uint64_t x = (static_cast<unsigned char>(v[0]) & 0x80) ? ~uint64_t{0} : 0;
  for (unsigned char c : v) x = (x << 8) | c;
  out = static_cast<int64_t>(x);
  return true;
}

bool to_oid(std::string_view v, std::vector<uint32_t>& arcs, size_t max_arcs) {
  arcs.clear();
  if (v.empty()) return false;
  uint64_t acc = 0;
  bool first = true;
  for (size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    acc = (acc << 7) | (c & 0x7f);
    if (acc > 0xffffffffull) return false;
    if (c & 0x80) {
      if (i + 1 == v.size()) return false;  // a continued arc that never ends
      continue;
    }
    if (first) {
      // The first byte(s) hold 40 * X + Y.
      uint32_t x = acc < 40 ? 0 : acc < 80 ? 1 : 2;
      arcs.push_back(x);
      arcs.push_back(static_cast<uint32_t>(acc - 40 * x));
      first = false;
    } else {
      arcs.push_back(static_cast<uint32_t>(acc));
    }
    if (arcs.size() > max_arcs) return false;
    acc = 0;
  }
  return true;
}

std::string oid_text(const std::vector<uint32_t>& arcs) {
  std::string s;
  for (size_t i = 0; i < arcs.size(); ++i) {
    if (i) s.push_back('.');
    s += std::to_string(arcs[i]);
  }
  return s;
}

void put(std::string& out, uint8_t tag, std::string_view body) {
  out.push_back(static_cast<char>(tag));
  size_t n = body.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else if (n < 0x100) {
    out.push_back('\x81');
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back('\x82');
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out.push_back(static_cast<char>(n & 0xff));
  }
  out.append(body);
}

std::string tlv(uint8_t tag, std::string_view body) {
  std::string out;
  put(out, tag, body);
  return out;
}

std::string int_body(int64_t v) {
  std::string b;
  for (int shift = 56; shift >= 0; shift -= 8) b.push_back(static_cast<char>((v >> shift) & 0xff));
  // The shortest form: drop leading bytes that only repeat the sign.
  size_t i = 0;
  while (i + 1 < b.size() &&
         ((b[i] == 0 && !(b[i + 1] & 0x80)) || (b[i] == '\xff' && (b[i + 1] & 0x80)))) {
    ++i;
  }
  return b.substr(i);
}

std::string oid_body(const std::vector<uint32_t>& arcs) {
  std::string b;
  auto arc = [&](uint64_t v) {
    char tmp[10];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>(v & 0x7f);
      v >>= 7;
    } while (v);
    while (n-- > 0) b.push_back(static_cast<char>(tmp[n] | (n ? 0x80 : 0)));
  };
  if (arcs.size() < 2) return b;
  arc(uint64_t{arcs[0]} * 40 + arcs[1]);
  for (size_t i = 2; i < arcs.size(); ++i) arc(arcs[i]);
  return b;
}

}  // namespace vantage::honeypot::amp::ber
