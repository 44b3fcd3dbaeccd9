// BGP speakers that accept connections from anyone (scan_bgp): an OPEN (RFC 4271 section
// 4.2) from the documentation AS 64496 (RFC 5398) with BGP identifier 192.0.2.1, and up to two
// messages read. A speaker configured for our address sends its own OPEN and then, since our
// AS is not the one it expects, a NOTIFICATION ("OPEN Message Error / Bad Peer AS"); one that
// is not sends a NOTIFICATION (Cease / Connection Rejected) or nothing. We never send
// KEEPALIVE or UPDATE: no session is ever established and no route is exchanged.
//
// Both sides send their OPEN on connect (section 8.2.2), but a speaker that reads our OPEN
// before its own has gone out may answer with the NOTIFICATION alone (BIRD does, for a
// dynamic neighbour it spawns on the connection), losing its AS and identifier. So the first
// connection waits for the speaker's first message and sends our OPEN only in answer to its
// OPEN; a speaker that says nothing on it (closes, or lets the read deadline pass) gets a
// second connection on which our OPEN goes first.
//
// The first message fills message_length/message_type(_int) and, for an OPEN, bgp_version,
// sender_asn (the 4-octet AS capability, RFC 6793, when present: the 2-octet field
// then holds AS_TRANS 23456), hold_time, bgp_identifier;
// the second fills message2_type(_int). The error columns come from whichever is a
// NOTIFICATION (section 4.5; subcodes of RFC 4271 section 6 and RFC 4486 for Cease).
#include <string>
#include <vector>

#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/udp_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

constexpr size_t kHeader = 19;
constexpr uint32_t kDocumentationAs = 64496;

std::string open_message() {
  std::string body;
  body += '\x04';  // version
  wire::put_be16(body, kDocumentationAs);
  wire::put_be16(body, 90);          // hold time
  wire::put_be32(body, 0xc0000201);  // 192.0.2.1 (a literal would stop at its NUL)
  body += '\x00';                    // no optional parameters
  std::string m(16, '\xff');
  wire::put_be16(m, kHeader + body.size());
  m += '\x01';
  return m + body;
}

const char* type_name(uint32_t t) {
  switch (t) {
    case 1: return "OPEN";
    case 2: return "UPDATE";
    case 3: return "NOTIFICATION";
    case 4: return "KEEPALIVE";
    case 5: return "ROUTE-REFRESH";
    default: return "UNKNOWN";
  }
}

const char* error_name(uint32_t code) {
  switch (code) {
    case 1: return "Message Header Error";
    case 2: return "OPEN Message Error";
    case 3: return "UPDATE Message Error";
    case 4: return "Hold Timer Expired";
    case 5: return "Finite State Machine Error";
    case 6: return "Cease";
    case 7: return "ROUTE-REFRESH Message Error";
    default: return "Unknown";
  }
}

std::string subcode_name(uint32_t code, uint32_t sub) {
  static const char* const header[] = {"Unspecific", "Connection Not Synchronized",
                                       "Bad Message Length", "Bad Message Type"};
  static const char* const open[] = {"Unspecific",
                                     "Unsupported Version Number",
                                     "Bad Peer AS",
                                     "Bad BGP Identifier",
                                     "Unsupported Optional Parameter",
                                     "Authentication Failure",
                                     "Unacceptable Hold Time",
                                     "Unsupported Capability",
                                     "Role Mismatch"};
  static const char* const cease[] = {"Unspecific",
                                      "Maximum Number of Prefixes Reached",
                                      "Administrative Shutdown",
                                      "Peer De-configured",
                                      "Administrative Reset",
                                      "Connection Rejected",
                                      "Other Configuration Change",
                                      "Connection Collision Resolution",
                                      "Out of Resources",
                                      "Hard Reset",
                                      "BFD Down"};
  if (code == 1 && sub < std::size(header)) return header[sub];
  if (code == 2 && sub < std::size(open)) return open[sub];
  if (code == 6 && sub < std::size(cease)) return cease[sub];
  return sub == 0 ? "Unspecific" : "Subcode " + std::to_string(sub);
}

// The whole messages at the front of `b` (at most two); false when a header is not BGP's.
bool split_messages(std::string_view b, std::vector<std::string_view>* out) {
  while (out->size() < 2 && b.size() >= kHeader) {
    if (b.substr(0, 16).find_first_not_of('\xff') != std::string_view::npos) return false;
    const size_t len = wire::be16(b, 16);
    if (len < kHeader || len > 4096 || wire::byte(b, 18) < 1 || wire::byte(b, 18) > 5) return false;
    if (b.size() < len) break;
    out->push_back(b.substr(0, len));
    b.remove_prefix(len);
  }
  return true;
}

bool bgp_complete(std::string_view b) {
  std::vector<std::string_view> msgs;
  if (!split_messages(b, &msgs)) return true;
  return msgs.size() >= 2 || (msgs.size() == 1 && wire::byte(msgs[0], 18) == 3);
}

void read_open(std::string_view m, nlohmann::json& f) {
  if (m.size() < kHeader + 10) return;
  std::string_view o = m.substr(kHeader);
  f["bgp_version"] = wire::byte(o, 0);
  uint32_t asn = wire::be16(o, 1);
  f["hold_time"] = wire::be16(o, 3);
  f["bgp_identifier"] = octets::ipv4(o.substr(5, 4));
  // Optional parameters: type 2 (capabilities) holding capability 65 (4-octet AS).
  std::string_view params = o.substr(10, std::min<size_t>(wire::byte(o, 9), o.size() - 10));
  while (params.size() >= 2) {
    const size_t plen = std::min<size_t>(wire::byte(params, 1), params.size() - 2);
    std::string_view caps = params.substr(2, plen);
    if (wire::byte(params, 0) == 2) {
      while (caps.size() >= 2) {
        const size_t clen = std::min<size_t>(wire::byte(caps, 1), caps.size() - 2);
        if (wire::byte(caps, 0) == 65 && clen == 4) asn = wire::be32(caps, 2);
        caps.remove_prefix(2 + clen);
      }
    }
    params.remove_prefix(2 + plen);
  }
  f["sender_asn"] = asn;
}

void read_notification(std::string_view m, nlohmann::json& f) {
  if (m.size() < kHeader + 2) return;
  const uint32_t code = wire::byte(m, kHeader), sub = wire::byte(m, kHeader + 1);
  f["major_error_code"] = error_name(code);
  f["major_error_code_int"] = code;
  f["minor_error_code"] = subcode_name(code, sub);
  f["minor_error_code_int"] = sub;
}

Result<nlohmann::json> bgp_parse(std::string_view b) {
  std::vector<std::string_view> msgs;
  if (!split_messages(b, &msgs) || msgs.empty()) return Error::invalid("no BGP message");
  nlohmann::json f = nlohmann::json::object();
  const uint32_t t1 = wire::byte(msgs[0], 18);
  f["message_length"] = msgs[0].size();
  f["message_type"] = type_name(t1);
  f["message_type_int"] = t1;
  if (t1 == 1) read_open(msgs[0], f);
  if (t1 == 3) read_notification(msgs[0], f);
  if (msgs.size() > 1) {
    const uint32_t t2 = wire::byte(msgs[1], 18);
    f["message2_type"] = type_name(t2);
    f["message2_type_int"] = t2;
    if (t2 == 3 && t1 != 3) read_notification(msgs[1], f);
  }
  return f;
}

constexpr size_t kMaxReply = 2 * 4096;  // two messages of the largest size

class BgpExchange : public Exchange {
 public:
  // The first connection listens; the second (see above) speaks first.
  std::string start() override { return second_connection_ ? open_message() : std::string(); }

  std::string feed(std::string_view chunk, bool* done) override {
    buf_.append(chunk.substr(0, kMaxReply - std::min(buf_.size(), kMaxReply)));
    std::vector<std::string_view> msgs;
    if (!split_messages(buf_, &msgs) || buf_.size() >= kMaxReply) {
      *done = true;  // not BGP, or more than we read
      return {};
    }
    if (!sent_open_ && !msgs.empty()) {
      if (wire::byte(msgs[0], 18) != 1) {  // a NOTIFICATION (or anything) before any OPEN
        *done = true;
        return {};
      }
      sent_open_ = true;
      return open_message();
    }
    if (sent_open_ && bgp_complete(buf_)) *done = true;
    return {};
  }

  bool next_connection(ConnectionEnd how) override {
    if (second_connection_ || how == ConnectionEnd::done || !buf_.empty()) return false;
    second_connection_ = sent_open_ = true;
    return true;
  }

  Result<nlohmann::json> result() override { return bgp_parse(buf_); }

 private:
  std::string buf_;
  bool sent_open_ = false;
  bool second_connection_ = false;
};

}  // namespace

ProbeModule bgp_module() {
  ProbeModule m = exchange_module<BgpExchange>("bgp", "scan_bgp", 179, {});
  m.columns = {"message_length",      "message_type",         "message_type_int",
               "bgp_version",         "sender_asn",           "hold_time",
               "bgp_identifier",      "message2_type",        "message2_type_int",
               "major_error_code",    "major_error_code_int", "minor_error_code",
               "minor_error_code_int"};
  return m;
}

}  // namespace vantage::scanner
