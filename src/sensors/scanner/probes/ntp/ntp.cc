// NTP (scan_ntp) and the NTP monitor list (scan_ntpmonitor), both over UDP 123.
//
// scan_ntp sends two datagrams: a mode 6 READVAR (opcode 2, association 0: the system
// variables, "ntpq -c rv") and then a mode 3 client request. The mode 4 answer gives
// leap/version/stratum/poll/precision/root delay/dispersion/refid/reftime even when mode 6 is
// restricted (ntpsec and modern ntpd "noquery"); mode 6 answers (fragmented by offset, the
// More bit on all but the last) give the variables by name, version string included. The
// engine stops at the mode 4 answer, which comes after the mode 6 one when there is one.
//
// scan_ntpmonitor sends the mode 7 MON_GETLIST_1 request (implementation XNTPD, request 42:
// "ntpdc -c monlist", CVE-2013-5211). Old ntpd answers with up to 100 datagrams of 6 entries
// each; any answer carrying entries is the amplifier being reported.
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

constexpr size_t kMaxVarBytes = 8192;  // mode 6 reassembly cap

unsigned u8(std::string_view b, size_t i) {
  return static_cast<unsigned char>(b[i]);
}
unsigned be16(std::string_view b, size_t i) {
  return (u8(b, i) << 8) | u8(b, i + 1);
}
uint32_t be32(std::string_view b, size_t i) {
  return (uint32_t{u8(b, i)} << 24) | (uint32_t{u8(b, i + 1)} << 16) | (u8(b, i + 2) << 8) |
         u8(b, i + 3);
}

const std::string& readvar_request() {
  // LI 0, VN 2, mode 6; READVAR; sequence 1; status, association, offset, count all 0.
  static const std::string r = "\x16\x02\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"s;
  return r;
}
const std::string& client_request() {
  static const std::string r = [] {
    std::string s(48, '\0');
    s[0] = 0x23;  // LI 0, VN 4, mode 3
    return s;
  }();
  return r;
}
const std::string& monlist_request() {
  // Response bit clear, VN 2, mode 7; no auth, sequence 0; implementation 3 (XNTPD);
  // request 42 (MON_GETLIST_1); no items. Padded to 48 bytes: ntpd rejects shorter requests
  // on some builds, and the catalogue's amplification is measured against what we send.
  static const std::string r = [] {
    std::string s(48, '\0');
    s[0] = 0x17;
    s[2] = 0x03;
    s[3] = 0x2a;
    return s;
  }();
  return r;
}

size_t total(const std::vector<std::string_view>& ds) {
  size_t n = 0;
  for (auto d : ds) n += d.size();
  return n;
}

bool is_mode4(std::string_view d) {
  return d.size() >= 48 && (u8(d, 0) & 7) == 4;
}
bool is_mode6_reply(std::string_view d) {
  return d.size() >= 12 && (u8(d, 0) & 7) == 6 && (u8(d, 1) & 0x80) && (u8(d, 1) & 0x1f) == 2;
}

bool ntp_complete(std::string_view framed) {
  for (auto d : udp_unframe(framed))
    if (is_mode4(d)) return true;
  return false;
}

// "name=value, name="quoted, value", ..." into a map (bounded by the reassembly cap).
std::map<std::string, std::string> parse_vars(std::string_view s) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < s.size() && out.size() < 256) {
    while (i < s.size() && (s[i] == ',' || s[i] == ' ' || s[i] == '\r' || s[i] == '\n')) ++i;
    const size_t name_start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ',') ++i;
    std::string name(s.substr(name_start, i - name_start));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    std::string value;
    if (i < s.size() && s[i] == '=') {
      ++i;
      if (i < s.size() && s[i] == '"') {
        const size_t close = s.find('"', i + 1);
        const size_t stop = close == std::string_view::npos ? s.size() : close;
        value = std::string(s.substr(i + 1, stop - i - 1));
        i = close == std::string_view::npos ? s.size() : close + 1;
      } else {
        const size_t start = i;
        while (i < s.size() && s[i] != ',') ++i;
        value = std::string(s.substr(start, i - start));
        while (!value.empty() &&
               (value.back() == ' ' || value.back() == '\r' || value.back() == '\n'))
          value.pop_back();
      }
    }
    if (!name.empty()) out[name] = printable(value, 256);
  }
  return out;
}

std::optional<double> to_double(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}
std::optional<long long> to_int(const std::string& s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<nlohmann::json> ntp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  nlohmann::json f = nlohmann::json::object();
  bool any = false;
  // Mode 6 fragments, placed by offset (duplicates and overlaps overwrite; bounded).
  std::string vars;
  for (auto d : ds) {
    if (!is_mode6_reply(d) || (u8(d, 1) & 0x40)) continue;  // error bit: no variables
    const size_t off = be16(d, 8), count = be16(d, 10);
    if (d.size() - 12 < count || off + count > kMaxVarBytes) continue;
    if (vars.size() < off + count) vars.resize(off + count, ' ');
    vars.replace(off, count, d.substr(12, count));
    any = true;
  }
  if (!vars.empty()) {
    const auto v = parse_vars(vars);
    const std::pair<const char*, const char*> strings[] = {
        {"version", "version"}, {"processor", "processor"}, {"system", "system"},
        {"refid", "refid"},     {"reftime", "reftime"},     {"clock", "clock"},
        {"state", "state"},     {"mintc", "mintc"},         {"tai", "tai"},
        {"noise", "noise"},     {"stability", "stability"}, {"phase", "phase"},
        {"error", "error"}};
    for (const auto& [k, col] : strings)
      if (auto it = v.find(k); it != v.end() && !it->second.empty()) f[col] = it->second;
    const std::pair<const char*, const char*> floats[] = {{"clk_wander", "clk_wander"},
                                                          {"frequency", "frequency"},
                                                          {"sys_jitter", "jitter"},
                                                          {"jitter", "jitter"},
                                                          {"leap", "leap"},
                                                          {"offset", "offset"},
                                                          {"rootdelay", "rootdelay"},
                                                          {"rootdisp", "rootdispersion"},
                                                          {"rootdispersion", "rootdispersion"}};
    for (const auto& [k, col] : floats)
      if (auto it = v.find(k); it != v.end())
        if (auto x = to_double(it->second)) f[col] = *x;
    const std::pair<const char*, const char*> ints[] = {{"peer", "peer"},
                                                        {"poll", "poll"},
                                                        {"precision", "precision"},
                                                        {"stratum", "stratum"},
                                                        {"tc", "tc"}};
    for (const auto& [k, col] : ints)
      if (auto it = v.find(k); it != v.end())
        if (auto x = to_int(it->second)) f[col] = *x;
  }
  for (auto d : ds) {
    if (!is_mode4(d)) continue;
    any = true;
    // Mode 6 values win (they are what ntpq shows); mode 4 fills the gaps.
    auto fill = [&](const char* col, nlohmann::json v) {
      if (!f.contains(col)) f[col] = std::move(v);
    };
    const unsigned stratum = u8(d, 1);
    fill("leap", static_cast<double>(u8(d, 0) >> 6));
    fill("version", "ntpv" + std::to_string((u8(d, 0) >> 3) & 7));
    fill("stratum", stratum);
    fill("poll", static_cast<int8_t>(u8(d, 2)));
    fill("precision", static_cast<int8_t>(u8(d, 3)));
    // Short format 16.16 seconds; ntpq prints milliseconds.
    fill("rootdelay", be32(d, 4) / 65536.0 * 1000.0);
    fill("rootdispersion", be32(d, 8) / 65536.0 * 1000.0);
    char buf[40];
    if (stratum <= 1) {
      std::string id;
      for (size_t i = 12; i < 16; ++i)
        if (u8(d, i) >= 0x20 && u8(d, i) < 0x7f) id += d[i];
      fill("refid", id);
    } else {
      std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", u8(d, 12), u8(d, 13), u8(d, 14), u8(d, 15));
      fill("refid", std::string(buf));
    }
    std::snprintf(buf, sizeof buf, "0x%08x.%08x", be32(d, 16), be32(d, 20));
    fill("reftime", std::string(buf));
    break;
  }
  if (!any) return Error::invalid("no NTP mode 4 or mode 6 reply");
  const size_t resp = total(ds);
  f["response_size"] = resp;
  f["amplification"] = static_cast<double>(resp) /
                       static_cast<double>(readvar_request().size() + client_request().size());
  return f;
}

bool is_monlist_reply(std::string_view d) {
  return d.size() >= 8 && (u8(d, 0) & 0x80) && (u8(d, 0) & 7) == 7 && u8(d, 3) == 42;
}

bool monlist_complete(std::string_view framed) {
  for (auto d : udp_unframe(framed))
    if (is_monlist_reply(d) && !(u8(d, 0) & 0x40)) return true;  // the last one (no More bit)
  return false;
}

Result<nlohmann::json> monlist_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  size_t packets = 0, entries = 0;
  int error = -1;
  for (auto d : ds) {
    if (!is_monlist_reply(d)) continue;
    const unsigned err = u8(d, 4) >> 4;
    const size_t items = be16(d, 4) & 0x0fff, size = be16(d, 6) & 0x0fff;
    if (err != 0) {
      error = static_cast<int>(err);
      continue;
    }
    if (items * size > d.size() - 8) continue;  // claims more than the datagram holds
    ++packets;
    entries += items;
  }
  if (packets == 0 || entries == 0)
    return Error::invalid(error >= 0 ? "monlist refused (error " + std::to_string(error) + ")"
                                     : "no monlist reply");
  nlohmann::json f = nlohmann::json::object();
  const size_t resp = total(ds);
  f["packets"] = packets;
  f["response_size"] = resp;
  f["amplification"] = static_cast<double>(resp) / static_cast<double>(monlist_request().size());
  return f;
}

}  // namespace

ProbeModule ntp_module() {
  ProbeModule m;
  m.name = "ntp";
  m.report_type = "scan_ntp";
  m.tag = "ntp";
  m.default_port = 123;
  m.transport = Transport::udp;
  m.columns = {"version",   "clk_wander",    "clock",          "error",
               "frequency", "jitter",        "leap",           "mintc",
               "noise",     "offset",        "peer",           "phase",
               "poll",      "precision",     "processor",      "refid",
               "reftime",   "rootdelay",     "rootdispersion", "stability",
               "state",     "stratum",       "system",         "tai",
               "tc",        "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({readvar_request(), client_request()}); };
  m.complete = ntp_complete;
  m.parse = ntp_parse;
  return m;
}

ProbeModule ntpmonitor_module() {
  ProbeModule m;
  m.name = "ntpmonitor";
  m.report_type = "scan_ntpmonitor";
  m.tag = "ntpmonitor";
  m.default_port = 123;
  m.transport = Transport::udp;
  m.columns = {"packets", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({monlist_request()}); };
  m.complete = monlist_complete;
  m.parse = monlist_parse;
  return m;
}

}  // namespace vantage::scanner
