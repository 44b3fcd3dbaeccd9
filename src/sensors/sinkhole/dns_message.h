#pragma once
// The DNS wire format as the sinkhole needs it (RFC 1035, EDNS0 from RFC 6891): reading a
// query, writing an authoritative answer, and reading the NS records of a resolver's answer
// (the lifecycle watch). Every reader takes attacker bytes: names are read with compression
// pointers followed at most kMaxPointers times and only to earlier offsets (no loops),
// labels of the reserved 01/10 kinds are refused, a name is at most 255 bytes, and counts are
// never trusted beyond the bytes present. Pure functions of their input; fuzzed
// (fuzz/fuzz_sinkhole.cc).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"

namespace vantage::sinkhole::dns {

enum Type : uint16_t {
  kA = 1,
  kNS = 2,
  kCNAME = 5,
  kSOA = 6,
  kPTR = 12,
  kMX = 15,
  kTXT = 16,
  kAAAA = 28,
  kSRV = 33,
  kOPT = 41,
  kANY = 255,
};
enum Class : uint16_t { kIN = 1, kCH = 3, kClassAny = 255 };
enum Rcode : uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};

// "A", "AAAA", ... or "TYPE123" (RFC 3597) for the rest.
std::string type_name(uint16_t type);

constexpr size_t kHeaderBytes = 12;
constexpr size_t kMaxNameBytes = 255;
constexpr int kMaxPointers = 32;

// A domain name in uncompressed wire form (length-prefixed labels, ending in the root's 0).
struct WireName {
  uint8_t bytes[kMaxNameBytes + 1];
  uint16_t length = 0;  // including the final 0
  uint8_t labels = 0;

  std::string_view wire() const {
    return {reinterpret_cast<const char*>(bytes), static_cast<size_t>(length)};
  }
  // Offset of the wire form of the suffix made of the last `n` labels.
  size_t suffix_offset(int n) const;
};

// Reads the name at `pos` of `msg`, following compression pointers; `pos` moves past the name
// as it appears at `pos`. False with `why` set when the bytes are not a name.
bool read_name(std::string_view msg, size_t& pos, WireName& out, const char** why);

// The name as text: lower-cased, labels joined by '.', no trailing dot ("" for the root);
// bytes other than [a-z0-9-_*] inside a label are written \DDD (RFC 1035 master-file
// escapes), so the text is printable and never contains '\t' or '\n'.
void append_presentation(const WireName& name, std::string& out);

// Wire form of a dotted name ("ns1.example.org", trailing dot optional). False if a label is
// empty or longer than 63 bytes, or the name longer than 255.
bool encode_name(std::string_view dotted, WireName& out);

struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;  // as sent (RD is copied into the answer)
  uint8_t opcode = 0;
  WireName qname;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool edns = false;           // an OPT record was present
  uint16_t edns_udp_size = 0;  // the requester's UDP payload size
};

enum class QueryParse {
  kOk,
  kNotAQuery,  // QR set: a response, never answered (no reflection loops)
  kTooShort,   // not even a header: dropped
  kFormErr,    // a header, but no single readable question: answer FORMERR
  kNotImp,     // an opcode other than QUERY: answer NOTIMP
};

// Reads a query. On kFormErr/kNotImp, `q.id`, `q.flags` and `q.opcode` are valid.
QueryParse parse_query(std::string_view msg, Query& q, const char** why);

// Writes an answer into a caller-owned buffer (reused; no allocation once it has grown).
// The question is written back from the parsed name (its case as asked, RFC 4343), and every
// record's owner is a compression pointer into it, so an answer stays small.
class AnswerWriter {
 public:
  explicit AnswerWriter(std::string& out) : out_(out) {}

  // Header and question. `authoritative` sets AA. A query that could not be read (FORMERR)
  // has no question: pass `with_question` false.
  void begin(const Query& q, uint8_t rcode, bool authoritative, bool with_question = true);
  enum Section { kAnswer, kAuthority, kAdditional };
  // Owner: the suffix of the question name made of its last `owner_labels` labels (-1: the
  // whole name).
  void add_a(Section s, int owner_labels, uint32_t ttl, uint32_t v4);
  void add_aaaa(Section s, int owner_labels, uint32_t ttl, const IpAddress& v6);
  void add_ns(Section s, int owner_labels, uint32_t ttl, const WireName& host);
  void add_soa(Section s, int owner_labels, uint32_t ttl, const WireName& mname,
               const WireName& rname, uint32_t serial, uint32_t refresh, uint32_t retry,
               uint32_t expire, uint32_t minimum);
  // The EDNS0 OPT pseudo-record (always last: call after every other record).
  void add_opt(uint16_t udp_size);
  // Cuts the answer to `limit` bytes by dropping every record and setting TC (RFC 2181 9:
  // the client retries over TCP). Returns the final size.
  size_t finish(size_t limit);

 private:
  void put16(uint16_t v);
  void put32(uint32_t v);
  void owner(int labels);
  void count(Section s);
  std::string& out_;
  const Query* q_ = nullptr;
  size_t question_end_ = kHeaderBytes;
  uint16_t counts_[3] = {0, 0, 0};
  uint16_t additional_opt_ = 0;
};

// What the sinkhole needs from a resolver's answer (the lifecycle watch's NS questions, the
// referer's A/AAAA questions).
struct ResolverAnswer {
  uint16_t id = 0;
  uint8_t rcode = 0;
  bool truncated = false;
  std::vector<std::string> ns;       // targets of NS records in the answer section, as text
  std::vector<IpAddress> addresses;  // A and AAAA records in the answer section
};
// Reads a response (QR set). False with `why` when malformed.
bool parse_answer(std::string_view msg, ResolverAnswer& out, const char** why);

// A query for `name`/`type` with recursion desired (the watch asks a resolver).
bool build_query(uint16_t id, std::string_view name, uint16_t type, std::string& out);

}  // namespace vantage::sinkhole::dns
