#include "registry/punycode.h"

#include <cstdint>
#include <limits>

namespace vantage::registry {
namespace {

// Bootstring parameters for Punycode, RFC 3492 section 5.
constexpr uint32_t kBase = 36;
constexpr uint32_t kTMin = 1;
constexpr uint32_t kTMax = 26;
constexpr uint32_t kSkew = 38;
constexpr uint32_t kDamp = 700;
constexpr uint32_t kInitialBias = 72;
constexpr uint32_t kInitialN = 128;
constexpr uint32_t kMaxInt = std::numeric_limits<uint32_t>::max();

// RFC 3492 section 6.1.
uint32_t adapt(uint32_t delta, uint32_t num_points, bool first_time) {
  delta = first_time ? delta / kDamp : delta / 2;
  delta += delta / num_points;
  uint32_t k = 0;
  while (delta > ((kBase - kTMin) * kTMax) / 2) {
    delta /= kBase - kTMin;
    k += kBase;
  }
  return k + (kBase - kTMin + 1) * delta / (delta + kSkew);
}

char encode_digit(uint32_t d) {
  // 0..25 -> 'a'..'z', 26..35 -> '0'..'9' (lowercase output, as IDNA expects).
  return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
}

int decode_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0' + 26;
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  return -1;
}

bool valid_code_point(char32_t c) {
  return c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
}

uint32_t threshold(uint32_t k, uint32_t bias) {
  if (k <= bias) return kTMin;
  if (k >= bias + kTMax) return kTMax;
  return k - bias;
}

}  // namespace

Result<std::string> punycode_encode(std::u32string_view input) {
  std::string out;
  for (char32_t c : input) {
    if (!valid_code_point(c)) return Error::invalid("invalid code point in domain label");
    if (c < 0x80) out.push_back(static_cast<char>(c));
  }
  const uint32_t basic = static_cast<uint32_t>(out.size());
  uint32_t handled = basic;
  if (basic > 0) out.push_back('-');

  uint32_t n = kInitialN;
  uint32_t delta = 0;
  uint32_t bias = kInitialBias;
  const uint32_t total = static_cast<uint32_t>(input.size());
  while (handled < total) {
    // The smallest code point >= n still to be handled (section 6.3).
    uint32_t m = kMaxInt;
    for (char32_t c : input) {
      if (c >= n && c < m) m = c;
    }
    if (m - n > (kMaxInt - delta) / (handled + 1)) return Error::invalid("punycode overflow");
    delta += (m - n) * (handled + 1);
    n = m;
    for (char32_t c : input) {
      if (c < n) {
        if (++delta == 0) return Error::invalid("punycode overflow");
      }
      if (c == n) {
        uint32_t q = delta;
        for (uint32_t k = kBase;; k += kBase) {
          uint32_t t = threshold(k, bias);
          if (q < t) break;
          out.push_back(encode_digit(t + (q - t) % (kBase - t)));
          q = (q - t) / (kBase - t);
        }
        out.push_back(encode_digit(q));
        bias = adapt(delta, handled + 1, handled == basic);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
  }
  return out;
}

Result<std::u32string> punycode_decode(std::string_view input) {
  std::u32string out;
  size_t b = input.rfind('-');
  size_t start = 0;
  if (b != std::string_view::npos) {
    for (size_t j = 0; j < b; ++j) {
      auto c = static_cast<unsigned char>(input[j]);
      if (c >= 0x80) return Error::invalid("non-basic code point before punycode delimiter");
      out.push_back(c);
    }
    start = b + 1;
  }
  uint32_t n = kInitialN;
  uint32_t i = 0;
  uint32_t bias = kInitialBias;
  for (size_t in = start; in < input.size();) {
    uint32_t oldi = i;
    uint32_t w = 1;
    for (uint32_t k = kBase;; k += kBase) {
      if (in >= input.size()) return Error::invalid("truncated punycode");
      int digit = decode_digit(input[in++]);
      if (digit < 0) return Error::invalid("bad punycode digit");
      auto d = static_cast<uint32_t>(digit);
      if (d > (kMaxInt - i) / w) return Error::invalid("punycode overflow");
      i += d * w;
      uint32_t t = threshold(k, bias);
      if (d < t) break;
      if (w > kMaxInt / (kBase - t)) return Error::invalid("punycode overflow");
      w *= kBase - t;
    }
    const auto len = static_cast<uint32_t>(out.size() + 1);
    bias = adapt(i - oldi, len, oldi == 0);
    if (i / len > kMaxInt - n) return Error::invalid("punycode overflow");
    n += i / len;
    i %= len;
    if (!valid_code_point(n) || n < 0x80) return Error::invalid("bad code point in punycode");
    out.insert(out.begin() + i, static_cast<char32_t>(n));
    ++i;
  }
  return out;
}

Result<std::u32string> utf8_to_code_points(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra;
    char32_t cp;
    char32_t min;
    if (c < 0x80) {
      extra = 0, cp = c, min = 0;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return Error::invalid("malformed UTF-8");
    }
    if (i + static_cast<size_t>(extra) >= s.size()) return Error::invalid("truncated UTF-8");
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return Error::invalid("malformed UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || !valid_code_point(cp)) return Error::invalid("malformed UTF-8");
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

std::string code_points_to_utf8(std::u32string_view cps) {
  std::string out;
  for (char32_t c : cps) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

char32_t to_lower_code_point(char32_t c) {
  // The upper/lower pairs of the scripts most often seen in European CSIRT domains; a full
  // IDNA2008 mapping (Unicode case folding + NFC) is out of scope (see the header).
  if (c >= U'A' && c <= U'Z') return c + 0x20;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 0x20;  // Latin-1
  if (c == 0x178) return 0xFF;                                 // Y with diaeresis
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x138 && c != 0x149 && c != 0x17F) {
    // Latin Extended-A alternates upper/lower, even/odd except in 0x139..0x148, 0x179..0x17E.
    const bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
    return c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 0x20;  // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;                // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  return c;
}

Result<std::string> label_to_ascii(std::string_view utf8_label) {
  bool ascii = true;
  for (char c : utf8_label) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return std::string(utf8_label);
  auto cps = utf8_to_code_points(utf8_label);
  if (!cps) return cps.error();
  for (auto& c : *cps) c = to_lower_code_point(c);
  auto encoded = punycode_encode(*cps);
  if (!encoded) return encoded.error();
  return "xn--" + *encoded;
}

}  // namespace vantage::registry
