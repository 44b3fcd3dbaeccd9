// SNMP (161/udp) v1/v2c with any community, as a router's agent that exposes its system group
// (sysDescr .. sysServices): Get answers the OIDs asked, GetNext the next one, GetBulk up to
// 20 repetitions (the amplification: one small request, a reply several times larger).
// SNMPv3 and other PDUs are recognised and not answered.

#include <algorithm>
#include <chrono>

#include "sensors/honeypot/amp/ber.h"
#include "sensors/honeypot/amp/protocols.h"

namespace vantage::honeypot::amp {

namespace {

using Oid = std::vector<uint32_t>;

// The system group, in OID order: 1.3.6.1.2.1.1.N.0.
struct Scalar {
  uint32_t n;
  uint8_t tag;  // 0x04 OCTET STRING, 0x06 OID, 0x43 TimeTicks, 0x02 INTEGER
  const char* text;
};
constexpr Scalar kSystem[] = {
    {1, 0x04, "Linux gw-edge-01 4.14.180 #1 SMP PREEMPT Tue Jan 5 10:12:44 UTC 2021 mips"},
    {2, 0x06, ""},
    {3, 0x43, ""},
    {4, 0x04, "netops@example.net"},
    {5, 0x04, "gw-edge-01"},
    {6, 0x04, "Rack 4, Building B"},
    {7, 0x02, ""},
};

Oid system_oid(uint32_t n) {
  return {1, 3, 6, 1, 2, 1, 1, n, 0};
}

std::string value_of(const Scalar& s) {
  if (s.tag == 0x06) return ber::tlv(0x06, ber::oid_body({1, 3, 6, 1, 4, 1, 8072, 3, 2, 10}));
  if (s.tag == 0x02) return ber::tlv(0x02, ber::int_body(72));
  if (s.tag == 0x43) {
    static const auto started = std::chrono::steady_clock::now();
    auto cs = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                      .count() /
                  10 +
              86400LL * 100 * 37;  // "up" 37 days and counting
    return ber::tlv(0x43, ber::int_body(cs & 0xffffffff));
  }
  return ber::tlv(0x04, s.text);
}

// Index into kSystem of the scalar `oid` names, or -1.
int exact(const Oid& oid) {
  for (size_t i = 0; i < std::size(kSystem); ++i)
    if (oid == system_oid(kSystem[i].n)) return static_cast<int>(i);
  return -1;
}

// Index of the first scalar after `oid` in lexicographic order, or -1 (end of the MIB view).
int next_after(const Oid& oid) {
  for (size_t i = 0; i < std::size(kSystem); ++i) {
    Oid candidate = system_oid(kSystem[i].n);
    if (std::lexicographical_compare(oid.begin(), oid.end(), candidate.begin(), candidate.end())) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void varbind(std::string& binds, const Oid& oid, std::string_view value) {
  ber::put(binds, 0x30, ber::tlv(0x06, ber::oid_body(oid)) + std::string(value));
}

}  // namespace

bool respond_snmp(std::string_view q, const sensors::Endpoint&, std::string& reply,
                  std::string& summary) {
  std::string_view msg, v, community, pdu_body;
  if (!ber::expect(q, 0x30, msg)) return false;
  int64_t version = 0;
  if (!ber::expect(msg, 0x02, v) || !ber::to_int(v, version)) return false;
  if (version == 3) {
    summary = "snmpv3";
    reply.clear();
    return true;
  }
  if (version != 0 && version != 1) return false;
  if (!ber::expect(msg, 0x04, community)) return false;
  ber::Tlv pdu;
  if (!ber::read(msg, pdu)) return false;
  const char* kind = pdu.tag == 0xa0   ? "get"
                     : pdu.tag == 0xa1 ? "getnext"
                     : pdu.tag == 0xa5 ? "getbulk"
                     : pdu.tag == 0xa3 ? "set"
                                       : nullptr;
  if (!kind) return false;
  pdu_body = pdu.value;
  std::string_view id, a, b, binds;
  int64_t non_repeaters = 0, max_repetitions = 0;
  if (!ber::expect(pdu_body, 0x02, id) || !ber::expect(pdu_body, 0x02, a) ||
      !ber::expect(pdu_body, 0x02, b) || !ber::expect(pdu_body, 0x30, binds) ||
      !ber::to_int(a, non_repeaters) || !ber::to_int(b, max_repetitions)) {
    return false;
  }
  std::vector<Oid> asked;
  while (!binds.empty() && asked.size() < 16) {
    std::string_view bind, oid_bytes;
    Oid oid;
    if (!ber::expect(binds, 0x30, bind) || !ber::expect(bind, 0x06, oid_bytes) ||
        !ber::to_oid(oid_bytes, oid)) {
      return false;
    }
    asked.push_back(std::move(oid));
  }
  summary = std::string(version == 0 ? "v1 " : "v2c ") + kind + " ";
  append_printable(summary, community, 32);
  if (!asked.empty()) summary += " " + ber::oid_text(asked[0]);
  reply.clear();
  if (pdu.tag == 0xa3) return true;  // set: never answered

  std::string out_binds;
  const std::string end_of_view = ber::tlv(0x82, "");
  const std::string no_such = ber::tlv(0x80, "");
  if (pdu.tag == 0xa0) {
    for (const auto& oid : asked) {
      int i = exact(oid);
      varbind(out_binds, oid, i >= 0 ? value_of(kSystem[i]) : no_such);
    }
  } else if (pdu.tag == 0xa1 || version == 0) {
    for (const auto& oid : asked) {
      int i = next_after(oid);
      if (i >= 0) {
        varbind(out_binds, system_oid(kSystem[i].n), value_of(kSystem[i]));
      } else {
        varbind(out_binds, oid, end_of_view);
      }
    }
  } else {
    // GetBulk: the first non_repeaters OIDs once, then the rest repeated max_repetitions times.
    size_t nr = static_cast<size_t>(
        std::clamp<int64_t>(non_repeaters, 0, static_cast<int64_t>(asked.size())));
    int64_t reps = std::clamp<int64_t>(max_repetitions, 0, 20);
    for (size_t k = 0; k < asked.size(); ++k) {
      Oid cur = asked[k];
      for (int64_t r = 0; r < (k < nr ? 1 : reps); ++r) {
        int i = next_after(cur);
        if (i < 0) {
          varbind(out_binds, cur, end_of_view);
          break;
        }
        cur = system_oid(kSystem[i].n);
        varbind(out_binds, cur, value_of(kSystem[i]));
      }
    }
  }
  std::string response = ber::tlv(0x02, id) + ber::tlv(0x02, ber::int_body(0)) +
                         ber::tlv(0x02, ber::int_body(0)) + ber::tlv(0x30, out_binds);
  std::string body =
      ber::tlv(0x02, ber::int_body(version)) + ber::tlv(0x04, community) + ber::tlv(0xa2, response);
  ber::put(reply, 0x30, body);
  return true;
}

}  // namespace vantage::honeypot::amp
