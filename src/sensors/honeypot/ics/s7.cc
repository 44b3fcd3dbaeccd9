// S7comm over ISO-on-TCP (RFC 1006) as a Siemens S7-300, CPU 315-2 PN/DP: COTP connection
// confirm, "setup communication" (PDU size 240), and the SZL reads (0x0011 module
// identification, 0x001c component identification) that nmap's s7-info, PLCScan and Shodan-
// style scanners send; every other job (read/write variables, PLC stop, downloads) is refused.

#include <cstdio>

#include "sensors/honeypot/ics/ics.h"
#include "sensors/honeypot/wire.h"

namespace vantage::honeypot::ics {

namespace {

// TPKT + COTP data TPDU around an S7 PDU.
std::string tpkt_dt(std::string_view s7) {
  std::string p("\x03\x00\x00\x00\x02\xf0\x80", 7);
  p += s7;
  p[2] = static_cast<char>((p.size() >> 8) & 0xff);
  p[3] = static_cast<char>(p.size() & 0xff);
  return p;
}

// An SZL item: its index, then text padded to `width` (NUL for 0x001c, blanks for 0x0011)
// and, for 0x0011, the three words after the order number.
void szl_0011_item(std::string& d, uint16_t index, std::string_view mlfb, uint16_t bg,
                   uint16_t ausbg, uint16_t ausbe) {
  wire::put_be16(d, index);
  std::string t(mlfb.substr(0, 20));
  t.resize(20, ' ');
  d += t;
  wire::put_be16(d, bg);
  wire::put_be16(d, ausbg);
  wire::put_be16(d, ausbe);
}

void szl_001c_item(std::string& d, uint16_t index, std::string_view text) {
  wire::put_be16(d, index);
  std::string t(text.substr(0, 32));
  t.resize(32, '\0');
  d += t;
}

std::string szl_response(const S7Packet& p) {
  std::string items;
  uint16_t item_len = 0, count = 0;
  if (p.szl_id == 0x0011) {
    item_len = 28;
    szl_0011_item(items, 0x0001, "6ES7 315-2EH14-0AB0", 0x00c0, 0x0004, 0x0001);
    szl_0011_item(items, 0x0006, "6ES7 315-2EH14-0AB0", 0x00c0, 0x0004, 0x0001);
    szl_0011_item(items, 0x0007, "", 0x00c0, 0x5603, 0x0206);  // firmware V3.2.6
    szl_0011_item(items, 0x0081, "Boot Loader", 0x0000, 0x4101, 0x0101);
    count = 4;
  } else if (p.szl_id == 0x001c) {
    item_len = 34;
    static constexpr std::string_view kTexts[] = {"SIMATIC 300(1)",   "CPU 315-2 PN/DP",
                                                  "Pump Station 3",   "Original Siemens Equipment",
                                                  "S C-C2UR28922012", "",
                                                  "CPU 315-2 PN/DP",  "MMC 267FF11F"};
    for (uint16_t i = 0; i < 8; ++i) szl_001c_item(items, static_cast<uint16_t>(i + 1), kTexts[i]);
    count = 8;
  }
  std::string data("\xff\x09", 2);
  if (count == 0) {
    data = std::string("\x0a\x00\x00\x00", 4);  // object does not exist
  } else {
    wire::put_be16(data, static_cast<uint32_t>(8 + items.size()));
    wire::put_be16(data, p.szl_id);
    wire::put_be16(data, p.szl_index);
    wire::put_be16(data, item_len);
    wire::put_be16(data, count);
    data += items;
  }
  std::string s7("\x32\x07\x00\x00", 4);
  wire::put_be16(s7, p.pdu_ref);
  wire::put_be16(s7, 12);
  wire::put_be16(s7, static_cast<uint32_t>(data.size()));
  s7.append("\x00\x01\x12\x08\x12\x84\x01\x01\x00\x00", 10);
  s7.append(count == 0 ? std::string_view("\xd4\x01", 2) : std::string_view("\x00\x00", 2));
  s7 += data;
  return tpkt_dt(s7);
}

std::string ack_data(const S7Packet& p, uint8_t error_class, uint8_t error_code,
                     std::string_view params) {
  std::string s7("\x32\x03\x00\x00", 4);
  wire::put_be16(s7, p.pdu_ref);
  wire::put_be16(s7, static_cast<uint32_t>(params.size()));
  wire::put_be16(s7, 0);
  s7.push_back(static_cast<char>(error_class));
  s7.push_back(static_cast<char>(error_code));
  s7 += params;
  return tpkt_dt(s7);
}

}  // namespace

Parse parse_s7(std::string_view in, S7Packet& out) {
  out = {};
  if (in.size() < 4) return in.empty() || in[0] == 3 ? Parse::kIncomplete : Parse::kMalformed;
  if (in[0] != 3 || in[1] != 0) return Parse::kMalformed;
  size_t len = wire::be16(in, 2);
  if (len < 7 || len > 4096) return Parse::kMalformed;
  if (in.size() < len) return Parse::kIncomplete;
  std::string_view t = in.substr(0, len);
  out.length = len;
  size_t li = static_cast<unsigned char>(t[4]);
  if (5 + li > len || li < 2) return Parse::kMalformed;
  out.cotp = static_cast<uint8_t>(t[5]) & 0xf0;
  if (out.cotp == 0xe0) {  // connection request
    if (li < 6) return Parse::kMalformed;
    out.src_ref = wire::be16(t, 8);
    size_t pos = 11, end = 5 + li;
    while (pos + 2 <= end) {
      auto code = static_cast<unsigned char>(t[pos]);
      size_t plen = static_cast<unsigned char>(t[pos + 1]);
      if (pos + 2 + plen > end) return Parse::kMalformed;
      if (code == 0xc1) out.tsap_src = t.substr(pos + 2, plen);
      if (code == 0xc2) out.tsap_dst = t.substr(pos + 2, plen);
      pos += 2 + plen;
    }
    return Parse::kComplete;
  }
  if (out.cotp != 0xf0) return Parse::kMalformed;
  std::string_view s7 = t.substr(5 + li);
  if (s7.size() < 10 || static_cast<unsigned char>(s7[0]) != 0x32) return Parse::kMalformed;
  out.rosctr = static_cast<uint8_t>(s7[1]);
  out.pdu_ref = wire::be16(s7, 4);
  size_t param_len = wire::be16(s7, 6), data_len = wire::be16(s7, 8);
  size_t header = out.rosctr == 2 || out.rosctr == 3 ? 12 : 10;
  if (s7.size() < header + param_len + data_len) return Parse::kMalformed;
  std::string_view params = s7.substr(header, param_len);
  std::string_view data = s7.substr(header + param_len, data_len);
  if (out.rosctr == 1 && !params.empty()) {
    out.function = static_cast<uint8_t>(params[0]);
  } else if (out.rosctr == 7 && params.size() >= 8) {
    // 00 01 12 | length | method | type (high nibble) + function group | subfunction | seq
    out.group = static_cast<uint8_t>(params[5]) & 0x0f;
    out.subfunction = static_cast<uint8_t>(params[6]);
    if (out.group == 4 && out.subfunction == 1 && data.size() >= 8) {
      out.szl_id = wire::be16(data, 4);
      out.szl_index = wire::be16(data, 6);
    }
  }
  return Parse::kComplete;
}

std::string s7_response(const S7Packet& p) {
  if (p.cotp == 0xe0) {
    std::string cc("\x03\x00\x00\x00\x00\xd0", 6);
    wire::put_be16(cc, p.src_ref);
    cc.append("\x00\x01\x00\xc0\x01\x0a", 6);
    cc.push_back('\xc1');
    cc.push_back(static_cast<char>(p.tsap_src.size()));
    cc.append(p.tsap_src);
    cc.push_back('\xc2');
    cc.push_back(static_cast<char>(p.tsap_dst.size()));
    cc.append(p.tsap_dst);
    cc[2] = static_cast<char>((cc.size() >> 8) & 0xff);
    cc[3] = static_cast<char>(cc.size() & 0xff);
    cc[4] = static_cast<char>(cc.size() - 5);
    return cc;
  }
  if (p.rosctr == 1 && p.function == 0xf0) {
    return ack_data(p, 0, 0, std::string_view("\xf0\x00\x00\x01\x00\x01\x00\xf0", 8));
  }
  if (p.rosctr == 7 && p.group == 4 && p.subfunction == 1) return szl_response(p);
  if (p.rosctr == 1) {
    std::string params(1, static_cast<char>(p.function));
    params.push_back('\0');
    return ack_data(p, 0x81, 0x04, params);  // function not available in this state
  }
  return {};
}

std::string s7_function_name(const S7Packet& p) {
  if (p.cotp == 0xe0) return "cotp-connect";
  if (p.rosctr == 7) {
    if (p.group == 4 && p.subfunction == 1) {
      char b[32];
      std::snprintf(b, sizeof b, "read-szl 0x%04x", p.szl_id);
      return b;
    }
    char b[32];
    std::snprintf(b, sizeof b, "userdata %u/%u", p.group, p.subfunction);
    return b;
  }
  switch (p.function) {
    case 0xf0: return "setup-communication";
    case 0x04: return "read-var";
    case 0x05: return "write-var";
    case 0x1a: return "request-download";
    case 0x1b: return "download-block";
    case 0x1c: return "download-ended";
    case 0x1d: return "start-upload";
    case 0x1e: return "upload";
    case 0x1f: return "end-upload";
    case 0x28: return "pi-service";
    case 0x29: return "plc-stop";
    default: {
      char b[16];
      std::snprintf(b, sizeof b, "job 0x%02x", p.function);
      return b;
    }
  }
}

}  // namespace vantage::honeypot::ics
