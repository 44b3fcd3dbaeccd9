// DNS (53/udp), as an open resolver: a standard query gets a recursive-looking answer --
// documentation addresses (RFC 5737/3849) for A/AAAA, a few TXT records for TXT and ANY (what
// amplification attacks ask for), NODATA otherwise -- within 512 bytes, or the EDNS size
// asked (at most 1232).

#include <algorithm>
#include <cstdint>

#include "sensors/honeypot/amp/protocols.h"
#include "sensors/honeypot/wire.h"

namespace vantage::honeypot::amp {

namespace {

constexpr uint16_t kA = 1, kTxt = 16, kAaaa = 28, kOpt = 41, kAny = 255;

const char* type_name(uint16_t t) {
  switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 43: return "DS";
    case 46: return "RRSIG";
    case 48: return "DNSKEY";
    case 255: return "ANY";
    default: return nullptr;
  }
}

// Reads the uncompressed name at in[pos] into `text` (dig's \DDD for odd bytes).
bool read_name(std::string_view in, size_t& pos, std::string& text) {
  size_t total = 0;
  text.clear();
  while (true) {
    if (pos >= in.size()) return false;
    auto len = static_cast<unsigned char>(in[pos++]);
    if (len == 0) break;
    if (len > 63) return false;  // compression has no place in a question, nor labels > 63
    if (pos + len > in.size()) return false;
    total += len + 1;
    if (total > 255) return false;
    if (!text.empty()) text.push_back('.');
    for (size_t i = 0; i < len; ++i) {
      auto c = static_cast<unsigned char>(in[pos + i]);
      if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
        text.push_back(static_cast<char>(c));
      } else {
        text.push_back('\\');
        text += std::to_string(c / 100) + std::to_string(c / 10 % 10) + std::to_string(c % 10);
      }
    }
    pos += len;
  }
  if (text.empty()) text = ".";
  return true;
}

void answer_header(std::string& out, uint16_t type, uint32_t ttl, uint16_t rdlength) {
  wire::put_be16(out, 0xc00c);  // the question's name
  wire::put_be16(out, type);
  wire::put_be16(out, 1);  // IN
  wire::put_be32(out, ttl);
  wire::put_be16(out, rdlength);
}

}  // namespace

bool respond_dns(std::string_view q, const sensors::Endpoint&, std::string& reply,
                 std::string& summary) {
  if (q.size() < 12) return false;
  uint16_t flags = wire::be16(q, 2);
  if (flags & 0x8000) return false;              // a response, not a query
  if (((flags >> 11) & 0xf) != 0) return false;  // not a standard query
  if (wire::be16(q, 4) == 0) return false;       // no question
  size_t pos = 12;
  std::string name;
  if (!read_name(q, pos, name) || pos + 4 > q.size()) return false;
  uint16_t qtype = wire::be16(q, pos), qclass = wire::be16(q, pos + 2);
  size_t question_end = pos + 4;
  // EDNS: an OPT record right after the question (the form resolvers and dig send).
  size_t max = 512;
  bool edns = false;
  if (wire::be16(q, 10) > 0 && wire::be16(q, 6) == 0 && wire::be16(q, 8) == 0 &&
      question_end + 11 <= q.size() && q[question_end] == 0 &&
      wire::be16(q, question_end + 1) == kOpt) {
    edns = true;
    max = std::clamp<size_t>(wire::be16(q, question_end + 3), 512, 1232);
  }
  const char* tn = type_name(qtype);
  summary = tn ? std::string(tn) : "TYPE" + std::to_string(qtype);
  summary += " ";
  append_printable(summary, name, 255);

  reply.clear();
  reply.append(q.substr(0, 2));                                             // id
  wire::put_be16(reply, static_cast<uint16_t>(0x8080 | (flags & 0x0100)));  // QR, RA, RD as asked
  wire::put_be16(reply, 1);
  size_t ancount_at = reply.size();
  wire::put_be16(reply, 0);
  wire::put_be16(reply, 0);
  wire::put_be16(reply, edns ? 1 : 0);
  reply.append(q.substr(12, question_end - 12));
  uint16_t answers = 0;
  auto room = [&](size_t rr) { return reply.size() + rr + (edns ? 11 : 0) <= max; };
  if (qclass == 1 || qclass == 255) {
    if ((qtype == kA || qtype == kAny) && room(16)) {
      answer_header(reply, kA, 300, 4);
      reply.append("\xc0\x00\x02\x01", 4);  // 192.0.2.1
      ++answers;
    }
    if ((qtype == kAaaa || qtype == kAny) && room(28)) {
      answer_header(reply, kAaaa, 300, 16);
      reply.append("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);  // 2001:db8::1
      ++answers;
    }
    if (qtype == kTxt || qtype == kAny) {
      static constexpr std::string_view kTexts[] = {
          "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 include:_spf.example.net ~all",
          "google-site-verification=Qx3mN8vTg2bWk7LrJ5sHd0pYc1aZe6uF9oIiTnB4wXy",
          "MS=ms58123456 globalsign-domain-verification=3Hk9Zr2QmW7pTy5Vb1Xc8Na4",
          "docusign=1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0 atlassian-domain-verification=abc"};
      for (auto t : kTexts) {
        if (!room(12 + 1 + t.size())) break;
        answer_header(reply, kTxt, 3600, static_cast<uint16_t>(t.size() + 1));
        reply.push_back(static_cast<char>(t.size()));
        reply.append(t);
        ++answers;
      }
    }
  }
  reply[ancount_at] = static_cast<char>(answers >> 8);
  reply[ancount_at + 1] = static_cast<char>(answers & 0xff);
  if (edns) {
    reply.push_back('\0');  // root
    wire::put_be16(reply, kOpt);
    wire::put_be16(reply, 1232);
    wire::put_be32(reply, 0);
    wire::put_be16(reply, 0);
  }
  return true;
}

}  // namespace vantage::honeypot::amp
