#include "sensors/sinkhole/dns_message.h"

#include <cstring>

namespace vantage::sinkhole::dns {

namespace {

uint16_t get16(std::string_view m, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(m[at]) << 8) |
                               static_cast<uint8_t>(m[at + 1]));
}

// Skips one resource record at `pos` (owner, fixed fields, RDATA). Fills type/class/rdata.
bool skip_record(std::string_view msg, size_t& pos, uint16_t& type, uint16_t& klass, size_t& rdata,
                 size_t& rdlength, const char** why) {
  WireName owner;
  if (!read_name(msg, pos, owner, why)) return false;
  if (pos + 10 > msg.size()) {
    *why = "truncated record";
    return false;
  }
  type = get16(msg, pos);
  klass = get16(msg, pos + 2);
  rdlength = get16(msg, pos + 8);
  rdata = pos + 10;
  if (rdata + rdlength > msg.size()) {
    *why = "record data past the end";
    return false;
  }
  pos = rdata + rdlength;
  return true;
}

}  // namespace

std::string type_name(uint16_t type) {
  switch (type) {
    case kA: return "A";
    case kNS: return "NS";
    case kCNAME: return "CNAME";
    case kSOA: return "SOA";
    case kPTR: return "PTR";
    case kMX: return "MX";
    case kTXT: return "TXT";
    case kAAAA: return "AAAA";
    case kSRV: return "SRV";
    case kOPT: return "OPT";
    case 43: return "DS";
    case 48: return "DNSKEY";
    case 52: return "TLSA";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 252: return "AXFR";
    case 251: return "IXFR";
    case kANY: return "ANY";
    case 257: return "CAA";
    default: return "TYPE" + std::to_string(type);
  }
}

size_t WireName::suffix_offset(int n) const {
  size_t off = 0;
  for (int skip = labels - n; skip > 0 && off < length; --skip) off += 1 + bytes[off];
  return off;
}

bool read_name(std::string_view msg, size_t& pos, WireName& out, const char** why) {
  size_t p = pos;
  bool jumped = false;
  int jumps = 0;
  out.length = 0;
  out.labels = 0;
  while (true) {
    if (p >= msg.size()) {
      *why = "truncated name";
      return false;
    }
    auto len = static_cast<uint8_t>(msg[p]);
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= msg.size()) {
        *why = "truncated compression pointer";
        return false;
      }
      size_t target = (static_cast<size_t>(len & 0x3F) << 8) | static_cast<uint8_t>(msg[p + 1]);
      // Only backwards: a pointer to itself or ahead is how loops are built.
      if (target >= p) {
        *why = "compression pointer not backwards";
        return false;
      }
      if (++jumps > kMaxPointers) {
        *why = "too many compression pointers";
        return false;
      }
      if (!jumped) pos = p + 2;
      jumped = true;
      p = target;
      continue;
    }
    if ((len & 0xC0) != 0) {
      *why = "reserved label type";
      return false;
    }
    if (len == 0) {
      out.bytes[out.length++] = 0;
      if (!jumped) pos = p + 1;
      return true;
    }
    if (out.length + 1u + len + 1u > kMaxNameBytes) {
      *why = "name longer than 255 bytes";
      return false;
    }
    if (p + 1 + len > msg.size()) {
      *why = "truncated label";
      return false;
    }
    out.bytes[out.length] = len;
    std::memcpy(out.bytes + out.length + 1, msg.data() + p + 1, len);
    out.length = static_cast<uint16_t>(out.length + 1 + len);
    ++out.labels;
    p += 1 + len;
  }
}

void append_presentation(const WireName& name, std::string& out) {
  size_t off = 0;
  bool first = true;
  while (off < name.length && name.bytes[off] != 0) {
    size_t len = name.bytes[off];
    if (!first) out.push_back('.');
    first = false;
    for (size_t i = 1; i <= len; ++i) {
      auto c = static_cast<unsigned char>(name.bytes[off + i]);
      if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*') {
        out.push_back(static_cast<char>(c));
      } else {
        char esc[5] = {'\\', static_cast<char>('0' + c / 100), static_cast<char>('0' + c / 10 % 10),
                       static_cast<char>('0' + c % 10), 0};
        out.append(esc, 4);
      }
    }
    off += 1 + len;
  }
}

bool encode_name(std::string_view dotted, WireName& out) {
  out.length = 0;
  out.labels = 0;
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  while (!dotted.empty()) {
    size_t dot = dotted.find('.');
    std::string_view label = dotted.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    if (out.length + 1u + label.size() + 1u > kMaxNameBytes) return false;
    out.bytes[out.length] = static_cast<uint8_t>(label.size());
    std::memcpy(out.bytes + out.length + 1, label.data(), label.size());
    out.length = static_cast<uint16_t>(out.length + 1 + label.size());
    ++out.labels;
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
    if (dotted.empty()) return false;  // "a..": an empty label
  }
  out.bytes[out.length++] = 0;
  return true;
}

QueryParse parse_query(std::string_view msg, Query& q, const char** why) {
  if (msg.size() < kHeaderBytes) {
    *why = "shorter than a DNS header";
    return QueryParse::kTooShort;
  }
  q.id = get16(msg, 0);
  q.flags = get16(msg, 2);
  q.opcode = static_cast<uint8_t>((q.flags >> 11) & 0xF);
  q.edns = false;
  q.edns_udp_size = 0;
  if (q.flags & 0x8000) {
    *why = "a response, not a query";
    return QueryParse::kNotAQuery;
  }
  if (q.opcode != 0) {
    *why = "opcode other than QUERY";
    return QueryParse::kNotImp;
  }
  uint16_t qd = get16(msg, 4), an = get16(msg, 6), ns = get16(msg, 8), ar = get16(msg, 10);
  if (qd != 1) {
    *why = "question count not 1";
    return QueryParse::kFormErr;
  }
  size_t pos = kHeaderBytes;
  if (!read_name(msg, pos, q.qname, why)) return QueryParse::kFormErr;
  if (pos + 4 > msg.size()) {
    *why = "truncated question";
    return QueryParse::kFormErr;
  }
  q.qtype = get16(msg, pos);
  q.qclass = get16(msg, pos + 2);
  pos += 4;
  // EDNS0 (the OPT record in the additional section). Records that cannot be read past the
  // question do not make the query unanswerable: it is answered without EDNS.
  uint32_t records = uint32_t{an} + ns + ar;
  for (uint32_t i = 0; i < records && i < 64; ++i) {
    uint16_t type = 0, klass = 0;
    size_t rdata = 0, rdlength = 0;
    size_t start = pos;
    const char* ignored = nullptr;
    if (!skip_record(msg, pos, type, klass, rdata, rdlength, &ignored)) break;
    if (type == kOPT && i >= uint32_t{an} + ns && msg[start] == 0) {
      q.edns = true;
      q.edns_udp_size = klass;
    }
  }
  return QueryParse::kOk;
}

void AnswerWriter::put16(uint16_t v) {
  out_.push_back(static_cast<char>(v >> 8));
  out_.push_back(static_cast<char>(v & 0xFF));
}

void AnswerWriter::put32(uint32_t v) {
  put16(static_cast<uint16_t>(v >> 16));
  put16(static_cast<uint16_t>(v & 0xFFFF));
}

void AnswerWriter::begin(const Query& q, uint8_t rcode, bool authoritative, bool with_question) {
  q_ = &q;
  counts_[0] = counts_[1] = counts_[2] = 0;
  additional_opt_ = 0;
  out_.clear();
  put16(q.id);
  uint16_t flags =
      static_cast<uint16_t>(0x8000 | (q.opcode << 11) | (q.flags & 0x0100) | (rcode & 0xF));
  if (authoritative) flags |= 0x0400;
  put16(flags);
  put16(with_question ? 1 : 0);
  put16(0);
  put16(0);
  put16(0);
  if (with_question) {
    out_.append(q.qname.wire());
    put16(q.qtype);
    put16(q.qclass);
  }
  question_end_ = out_.size();
}

void AnswerWriter::owner(int labels) {
  size_t off = kHeaderBytes;
  if (labels >= 0 && labels < q_->qname.labels) off += q_->qname.suffix_offset(labels);
  put16(static_cast<uint16_t>(0xC000 | off));
}

void AnswerWriter::count(Section s) {
  ++counts_[s];
}

void AnswerWriter::add_a(Section s, int owner_labels, uint32_t ttl, uint32_t v4) {
  owner(owner_labels);
  put16(kA);
  put16(kIN);
  put32(ttl);
  put16(4);
  put32(v4);
  count(s);
}

void AnswerWriter::add_aaaa(Section s, int owner_labels, uint32_t ttl, const IpAddress& v6) {
  owner(owner_labels);
  put16(kAAAA);
  put16(kIN);
  put32(ttl);
  put16(16);
  uint8_t b[16];
  v6.to_bytes(b);
  out_.append(reinterpret_cast<const char*>(b), 16);
  count(s);
}

void AnswerWriter::add_ns(Section s, int owner_labels, uint32_t ttl, const WireName& host) {
  owner(owner_labels);
  put16(kNS);
  put16(kIN);
  put32(ttl);
  put16(host.length);
  out_.append(host.wire());
  count(s);
}

void AnswerWriter::add_soa(Section s, int owner_labels, uint32_t ttl, const WireName& mname,
                           const WireName& rname, uint32_t serial, uint32_t refresh, uint32_t retry,
                           uint32_t expire, uint32_t minimum) {
  owner(owner_labels);
  put16(kSOA);
  put16(kIN);
  put32(ttl);
  put16(static_cast<uint16_t>(mname.length + rname.length + 20));
  out_.append(mname.wire());
  out_.append(rname.wire());
  put32(serial);
  put32(refresh);
  put32(retry);
  put32(expire);
  put32(minimum);
  count(s);
}

void AnswerWriter::add_opt(uint16_t udp_size) {
  out_.push_back(0);
  put16(kOPT);
  put16(udp_size);
  put32(0);
  put16(0);
  ++additional_opt_;
}

size_t AnswerWriter::finish(size_t limit) {
  auto set16 = [&](size_t at, uint16_t v) {
    out_[at] = static_cast<char>(v >> 8);
    out_[at + 1] = static_cast<char>(v & 0xFF);
  };
  if (out_.size() > limit) {
    out_.resize(question_end_);
    counts_[0] = counts_[1] = counts_[2] = 0;
    additional_opt_ = 0;
    out_[2] = static_cast<char>(out_[2] | 0x02);  // TC
  }
  set16(6, counts_[0]);
  set16(8, counts_[1]);
  set16(10, static_cast<uint16_t>(counts_[2] + additional_opt_));
  return out_.size();
}

bool parse_answer(std::string_view msg, ResolverAnswer& out, const char** why) {
  out.ns.clear();
  out.addresses.clear();
  if (msg.size() < kHeaderBytes) {
    *why = "shorter than a DNS header";
    return false;
  }
  out.id = get16(msg, 0);
  uint16_t flags = get16(msg, 2);
  if (!(flags & 0x8000)) {
    *why = "not a response";
    return false;
  }
  out.rcode = static_cast<uint8_t>(flags & 0xF);
  out.truncated = (flags & 0x0200) != 0;
  uint16_t qd = get16(msg, 4), an = get16(msg, 6);
  size_t pos = kHeaderBytes;
  for (uint16_t i = 0; i < qd; ++i) {
    WireName n;
    if (!read_name(msg, pos, n, why)) return false;
    if (pos + 4 > msg.size()) {
      *why = "truncated question";
      return false;
    }
    pos += 4;
  }
  for (uint16_t i = 0; i < an; ++i) {
    uint16_t type = 0, klass = 0;
    size_t rdata = 0, rdlength = 0;
    if (!skip_record(msg, pos, type, klass, rdata, rdlength, why)) return false;
    if (type == kA && rdlength == 4) {
      out.addresses.push_back(
          IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(msg.data() + rdata), 4));
      continue;
    }
    if (type == kAAAA && rdlength == 16) {
      out.addresses.push_back(
          IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(msg.data() + rdata), 16));
      continue;
    }
    if (type != kNS) continue;
    // The target may point back into the message: read it within the message, then check it
    // stayed inside its RDATA.
    size_t at = rdata;
    WireName target;
    if (!read_name(msg, at, target, why)) return false;
    if (at > rdata + rdlength) {
      *why = "NS target past its record";
      return false;
    }
    std::string text;
    append_presentation(target, text);
    out.ns.push_back(std::move(text));
  }
  return true;
}

bool build_query(uint16_t id, std::string_view name, uint16_t type, std::string& out) {
  WireName wn;
  if (!encode_name(name, wn)) return false;
  out.clear();
  auto put16 = [&](uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xFF));
  };
  put16(id);
  put16(0x0100);  // RD
  put16(1);
  put16(0);
  put16(0);
  put16(0);
  out.append(wn.wire());
  put16(type);
  put16(kIN);
  return true;
}

}  // namespace vantage::sinkhole::dns
