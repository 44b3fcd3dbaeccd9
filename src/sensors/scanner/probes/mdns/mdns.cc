// mDNS (scan_mdns; RFC 6762, DNS-SD RFC 6763) over UDP 5353: legacy unicast queries (from an
// ephemeral port, so the responder answers us directly, RFC 6762 6.7) for the PTR records of
//   _workstation._tcp.local, _http._tcp.local, _spotify-connect._tcp.local,
//   _opcua-tcp._tcp.local and, last, _services._dns-sd._udp.local (every service type).
// Responders answer only what they have, in order, so the engine stops at the _services
// answer; earlier answers have arrived by then. Every record of every reply (answers and
// additional records: SRV, TXT, A, AAAA for the instances) goes into one table, from which:
//   services                  the service types, ";"-joined
//   mdns_name/_ipv4/_ipv6     a host name the responder gave addresses for, and those
//   workstation_*, http_*, spotify_*   the first instance of that type: its name, the
//                             addresses of its SRV target, TXT (info), PTR/target/port (http)
//   opc_ua_discovery          the OPC UA discovery server instance
// Names are decompressed with at most 16 pointer jumps, so loops end.
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "common/ip.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const char* const kTypes[] = {"_workstation._tcp.local", "_http._tcp.local",
                              "_spotify-connect._tcp.local", "_opcua-tcp._tcp.local",
                              "_services._dns-sd._udp.local"};
constexpr unsigned kIdBase = 0x5600;
constexpr unsigned kQueries = 5;

std::string query(unsigned id, std::string_view name) {
  std::string s;
  octets::put_be16(s, id);
  s += "\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"s;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    s += static_cast<char>(label.size());
    s += label;
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  s += "\x00\x00\x0c\x00\x01"s;  // PTR, IN
  return s;
}

const std::vector<std::string>& queries() {
  static const std::vector<std::string> q = [] {
    std::vector<std::string> v;
    for (unsigned i = 0; i < kQueries; ++i) v.push_back(query(kIdBase + i + 1, kTypes[i]));
    return v;
  }();
  return q;
}

// Reads a possibly compressed name at *off (advanced past it in the message).
bool read_name(std::string_view m, size_t* off, std::string* out) {
  size_t pos = *off;
  bool jumped = false;
  out->clear();
  for (int steps = 0; steps < 128; ++steps) {
    if (pos >= m.size()) return false;
    const unsigned len = octets::u8(m, pos);
    if (len == 0) {
      if (!jumped) *off = pos + 1;
      return true;
    }
    if ((len & 0xc0) == 0xc0) {
      if (pos + 2 > m.size() || steps > 16) return false;
      if (!jumped) *off = pos + 2;
      jumped = true;
      pos = ((len & 0x3f) << 8) | octets::u8(m, pos + 1);
      continue;
    }
    if (len & 0xc0 || pos + 1 + len > m.size()) return false;
    if (!out->empty()) *out += '.';
    *out += printable(m.substr(pos + 1, len), 63);
    if (out->size() > 1024) return false;
    pos += 1 + len;
  }
  return false;
}

struct Records {
  std::multimap<std::string, std::string> ptr, txt, a, aaaa;
  std::map<std::string, std::pair<std::string, unsigned>> srv;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void read_records(std::string_view m, Records* r) {
  if (m.size() < 12) return;
  const unsigned qd = octets::be16(m, 4);
  const unsigned rr = octets::be16(m, 6) + octets::be16(m, 8) + octets::be16(m, 10);
  size_t off = 12;
  std::string name;
  for (unsigned i = 0; i < qd && i < 16; ++i) {
    if (!read_name(m, &off, &name) || off + 4 > m.size()) return;
    off += 4;
  }
  for (unsigned i = 0; i < rr && i < 256; ++i) {
    if (!read_name(m, &off, &name) || off + 10 > m.size()) return;
    const unsigned type = octets::be16(m, off), rdlen = octets::be16(m, off + 8);
    off += 10;
    if (m.size() - off < rdlen) return;
    const std::string owner = lower(name);
    size_t rd = off;
    std::string target;
    if (type == 12 && read_name(m, &rd, &target)) {
      r->ptr.emplace(owner, target);
    } else if (type == 33 && rdlen >= 7) {
      size_t t = off + 6;
      if (read_name(m, &t, &target)) r->srv[owner] = {target, octets::be16(m, off + 4)};
    } else if (type == 16) {
      std::string joined;
      std::string_view v = m.substr(off, rdlen);
      while (!v.empty()) {
        const unsigned n = octets::u8(v, 0);
        if (v.size() - 1 < n) break;
        if (!joined.empty()) joined += ';';
        joined += printable(v.substr(1, n), 255);
        v.remove_prefix(1 + n);
      }
      r->txt.emplace(owner, joined);
    } else if (type == 1 && rdlen == 4) {
      r->a.emplace(owner, octets::ipv4(m.substr(off, 4)));
    } else if (type == 28 && rdlen == 16) {
      uint8_t b[16];
      for (int k = 0; k < 16; ++k) b[k] = static_cast<uint8_t>(octets::u8(m, off + k));
      r->aaaa.emplace(owner, IpAddress::from_bytes(b, 16).to_string());
    }
    off += rdlen;
  }
}

std::string first(const std::multimap<std::string, std::string>& mm, const std::string& key) {
  auto it = mm.find(lower(key));
  return it == mm.end() ? std::string() : it->second;
}

// "Name._http._tcp.local" -> "Name".
std::string instance_label(const std::string& full, const std::string& type) {
  if (full.size() > type.size() + 1 && lower(full).ends_with("." + type))
    return full.substr(0, full.size() - type.size() - 1);
  return full;
}

bool mdns_complete(std::string_view framed) {
  for (auto d : udp_unframe(framed))
    if (d.size() >= 12 && octets::be16(d, 0) == kIdBase + kQueries) return true;
  return false;
}

Result<nlohmann::json> mdns_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  Records r;
  bool any = false;
  for (auto d : ds) {
    if (d.size() < 12 || !(octets::u8(d, 2) & 0x80)) continue;
    const unsigned id = octets::be16(d, 0);
    if (id <= kIdBase || id > kIdBase + kQueries) continue;
    any = true;
    read_records(d, &r);
  }
  if (!any) return Error::invalid("no mDNS reply to our queries");
  nlohmann::json f = nlohmann::json::object();
  std::string services;
  for (auto [it, end] = r.ptr.equal_range("_services._dns-sd._udp.local"); it != end; ++it)
    services += (services.empty() ? "" : ";") + it->second;
  if (!services.empty()) f["services"] = services;
  // Addresses of a SRV target (or of the instance's own name).
  auto addresses = [&](const std::string& host, const char* v4key, const char* v6key) {
    if (host.empty()) return;
    if (auto v4 = first(r.a, host); !v4.empty()) f[v4key] = v4;
    if (auto v6 = first(r.aaaa, host); !v6.empty()) f[v6key] = v6;
  };
  if (!r.a.empty() || !r.aaaa.empty()) {
    const std::string host = !r.a.empty() ? r.a.begin()->first : r.aaaa.begin()->first;
    f["mdns_name"] = host;
    addresses(host, "mdns_ipv4", "mdns_ipv6");
  }
  auto instance = [&](const char* type) -> std::string { return first(r.ptr, type); };
  auto srv_of = [&](const std::string& inst) -> std::pair<std::string, unsigned> {
    auto it = r.srv.find(lower(inst));
    return it == r.srv.end() ? std::pair<std::string, unsigned>{} : it->second;
  };
  if (auto ws = instance("_workstation._tcp.local"); !ws.empty()) {
    f["workstation_name"] = instance_label(ws, "_workstation._tcp.local");
    addresses(srv_of(ws).first, "workstation_ipv4", "workstation_ipv6");
    if (auto t = first(r.txt, ws); !t.empty()) f["workstation_info"] = t;
  }
  if (auto http = instance("_http._tcp.local"); !http.empty()) {
    f["http_name"] = instance_label(http, "_http._tcp.local");
    f["http_ptr"] = http;
    const auto [target, port] = srv_of(http);
    if (!target.empty()) {
      f["http_target"] = target;
      f["http_port"] = port;
    }
    addresses(target, "http_ipv4", "http_ipv6");
    if (auto t = first(r.txt, http); !t.empty()) f["http_info"] = t;
  }
  if (auto sp = instance("_spotify-connect._tcp.local"); !sp.empty()) {
    f["spotify_name"] = instance_label(sp, "_spotify-connect._tcp.local");
    addresses(srv_of(sp).first, "spotify_ipv4", "spotify_ipv6");
  }
  if (auto opc = instance("_opcua-tcp._tcp.local"); !opc.empty())
    f["opc_ua_discovery"] = instance_label(opc, "_opcua-tcp._tcp.local");
  return f;
}

}  // namespace

ProbeModule mdns_module() {
  ProbeModule m;
  m.name = "mdns";
  m.report_type = "scan_mdns";
  m.tag = "mdns";
  m.default_port = 5353;
  m.transport = Transport::udp;
  m.columns = {"mdns_name",        "mdns_ipv4",        "mdns_ipv6",        "services",
               "workstation_name", "workstation_ipv4", "workstation_ipv6", "workstation_info",
               "http_name",        "http_ipv4",        "http_ipv6",        "http_ptr",
               "http_info",        "http_target",      "http_port",        "spotify_name",
               "spotify_ipv4",     "spotify_ipv6",     "opc_ua_discovery"};
  m.request = [](const ProbeTarget&) { return udp_frames(queries()); };
  m.complete = mdns_complete;
  m.parse = mdns_parse;
  return m;
}

}  // namespace vantage::scanner
