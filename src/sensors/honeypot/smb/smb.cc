// The SMB honeypot: answers NEGOTIATE like a Windows 7 era server (SMB1 "NT LM 0.12" and
// SMB2/3 up to 3.1.1), lets an anonymous SMB1 session reach IPC$ and answers the MS17-010 check
// the way an unpatched server does -- which is what EternalBlue scanners and worms look for --
// and refuses everything else. One event4_honeypot_smb_scan row per connection: the commands
// in order, the dialects offered, the first header's flags, and CVE-2017-0144 when the
// MS17-010 check or the DoublePulsar probe was seen. No file is ever served or written.

#include "sensors/honeypot/smb/smb.h"

#include <chrono>
#include <cstdio>

#include "sensors/honeypot/service.h"
#include "sensors/honeypot/wire.h"

namespace vantage::honeypot {

namespace smb {

namespace {

std::string utf16(std::string_view ascii) {
  std::string u;
  for (char c : ascii) {
    u.push_back(c);
    u.push_back('\0');
  }
  u.append(2, '\0');  // NUL
  return u;
}

std::string framed(std::string_view smb) {
  std::string f(4, '\0');
  f[1] = static_cast<char>((smb.size() >> 16) & 0x01);
  f[2] = static_cast<char>((smb.size() >> 8) & 0xff);
  f[3] = static_cast<char>(smb.size() & 0xff);
  f.append(smb);
  return f;
}

uint64_t filetime_now() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return static_cast<uint64_t>(us) * 10 + 116444736000000000ull;
}

// The server's identity (a fixed GUID: one machine).
constexpr char kServerGuid[] = "\x4b\x8e\x1c\x52\x33\x90\x4f\x27\xa1\x6d\x5e\x0c\x9a\x41\x77\x08";
// SPNEGO negTokenInit offering NEGOEX and NTLMSSP, as Windows sends in NEGOTIATE.
constexpr std::string_view kSpnego(
    "\x60\x28\x06\x06\x2b\x06\x01\x05\x05\x02\xa0\x1e\x30\x1c\xa0\x1a\x30\x18\x06\x0a\x2b\x06"
    "\x01\x04\x01\x82\x37\x02\x02\x1e\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a",
    42);

std::string smb1_header(const Message& r, uint8_t command, uint32_t status, uint16_t uid,
                        uint16_t tid) {
  std::string h("\xffSMB", 4);
  h.push_back(static_cast<char>(command));
  wire::put_le32(h, status);
  h.push_back('\x98');        // reply, case-insensitive, canonicalised paths
  wire::put_le16(h, 0xc001);  // Unicode strings, NT status codes, long names
  wire::put_le16(h, 0);       // PIDHigh
  h.append(8, '\0');          // security features
  wire::put_le16(h, 0);
  wire::put_le16(h, tid);
  wire::put_le16(h, r.pid);
  wire::put_le16(h, uid);
  wire::put_le16(h, r.mid);
  return h;
}

std::string smb2_header(const Message& r, uint32_t status) {
  std::string h("\xfeSMB", 4);
  wire::put_le16(h, 64);
  wire::put_le16(h, 0);  // credit charge
  wire::put_le32(h, status);
  wire::put_le16(h, r.command);
  wire::put_le16(h, 1);  // credits granted
  wire::put_le32(h, 1);  // SMB2_FLAGS_SERVER_TO_REDIR
  wire::put_le32(h, 0);  // next command
  wire::put_le64(h, r.message_id);
  wire::put_le32(h, 0xfeff);  // process id (reserved)
  wire::put_le32(h, 0);       // tree id
  wire::put_le64(h, r.session_id);
  h.append(16, '\0');  // signature
  return h;
}

}  // namespace

Parse parse_frame(std::string_view in, uint8_t& type, std::string_view& payload, size_t& used) {
  if (in.size() < 4) return Parse::kIncomplete;
  type = static_cast<uint8_t>(in[0]);
  if (type != 0x00 && type != 0x81 && type != 0x85) return Parse::kMalformed;
  size_t len = (static_cast<size_t>(static_cast<unsigned char>(in[1]) & 0x01) << 16) |
               (static_cast<size_t>(static_cast<unsigned char>(in[2])) << 8) |
               static_cast<unsigned char>(in[3]);
  if ((static_cast<unsigned char>(in[1]) & 0xfe) != 0 || len > kMaxFrame) return Parse::kMalformed;
  if (in.size() < 4 + len) return Parse::kIncomplete;
  payload = in.substr(4, len);
  used = 4 + len;
  return Parse::kComplete;
}

Parse parse_message(std::string_view p, Message& out) {
  out = {};
  if (p.size() >= 35 && p.substr(0, 4) == std::string_view("\xffSMB", 4)) {
    out.version = 1;
    out.command = static_cast<unsigned char>(p[4]);
    out.flags = static_cast<unsigned char>(p[9]) | (static_cast<uint32_t>(wire::le16(p, 10)) << 16);
    out.tid = wire::le16(p, 24);
    out.pid = wire::le16(p, 26);
    out.uid = wire::le16(p, 28);
    out.mid = wire::le16(p, 30);
    size_t wc = static_cast<unsigned char>(p[32]);
    if (p.size() < 33 + 2 * wc + 2) return Parse::kMalformed;
    std::string_view words = p.substr(33, 2 * wc);
    size_t bc = wire::le16(p, 33 + 2 * wc);
    std::string_view bytes = p.substr(35 + 2 * wc);
    if (bytes.size() < bc) return Parse::kMalformed;
    bytes = bytes.substr(0, bc);
    if (out.command == 0x72) {  // NEGOTIATE: 0x02 "dialect" NUL ...
      while (!bytes.empty() && out.dialects.size() < 32) {
        if (bytes[0] != 0x02) return Parse::kMalformed;
        size_t nul = bytes.find('\0', 1);
        if (nul == std::string_view::npos) return Parse::kMalformed;
        out.dialects.emplace_back(bytes.substr(1, std::min<size_t>(nul - 1, 64)));
        bytes.remove_prefix(nul + 1);
      }
    } else if ((out.command == 0x25 || out.command == 0x32) && wc >= 15) {
      size_t setup_count = static_cast<unsigned char>(words[26]);
      if (wc < 14 + setup_count) return Parse::kMalformed;
      if (setup_count >= 1) {
        out.has_setup = true;
        out.setup0 = wire::le16(words, 28);
        if (setup_count >= 2) out.setup1 = wire::le16(words, 30);
      }
    }
    return Parse::kComplete;
  }
  if (p.size() >= 64 && p.substr(0, 4) == std::string_view("\xfeSMB", 4)) {
    if (wire::le16(p, 4) != 64) return Parse::kMalformed;
    out.version = 2;
    out.command = wire::le16(p, 12);
    out.flags = wire::le32(p, 16);
    out.message_id = wire::le64(p, 24);
    out.session_id = wire::le64(p, 40);
    if (out.command == 0) {  // NEGOTIATE
      if (p.size() < 64 + 36 || wire::le16(p, 64) != 36) return Parse::kMalformed;
      size_t count = wire::le16(p, 66);
      if (count == 0 || count > 64 || p.size() < 100 + 2 * count) return Parse::kMalformed;
      for (size_t i = 0; i < count; ++i) {
        uint16_t d = wire::le16(p, 100 + 2 * i);
        out.dialect_codes.push_back(d);
        out.dialects.push_back(dialect_name(d));
      }
    }
    return Parse::kComplete;
  }
  return Parse::kMalformed;
}

std::string dialect_name(uint16_t d) {
  switch (d) {
    case 0x0202: return "2.0.2";
    case 0x0210: return "2.1";
    case 0x0222: return "2.2.2";
    case 0x0224: return "2.2.4";
    case 0x02ff: return "2.???";
    case 0x0300: return "3.0";
    case 0x0302: return "3.0.2";
    case 0x0310: return "3.1";
    case 0x0311: return "3.1.1";
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string s = "0x";
      for (int shift = 12; shift >= 0; shift -= 4) s.push_back(kHex[(d >> shift) & 15]);
      return s;
    }
  }
}

const char* command_name(int version, uint16_t c) {
  if (version == 1) {
    switch (c) {
      case 0x72: return "negotiate";
      case 0x73: return "session_setup_andx";
      case 0x74: return "logoff_andx";
      case 0x75: return "tree_connect_andx";
      case 0x71: return "tree_disconnect";
      case 0x25: return "trans";
      case 0x32: return "trans2";
      case 0xa0: return "nt_trans";
      case 0xa2: return "nt_create_andx";
      case 0x2b: return "echo";
      case 0x2e: return "read_andx";
      case 0x2f: return "write_andx";
      case 0x04: return "close";
      default: return "smb1_other";
    }
  }
  switch (c) {
    case 0x00: return "negotiate";
    case 0x01: return "session_setup";
    case 0x02: return "logoff";
    case 0x03: return "tree_connect";
    case 0x04: return "tree_disconnect";
    case 0x05: return "create";
    case 0x06: return "close";
    case 0x08: return "read";
    case 0x09: return "write";
    case 0x0b: return "ioctl";
    case 0x0d: return "echo";
    case 0x0e: return "query_directory";
    case 0x10: return "query_info";
    default: return "smb2_other";
  }
}

std::string smb2_negotiate_response(const Message& r, uint16_t dialect) {
  Message as_negotiate = r;
  as_negotiate.command = 0;
  std::string m = smb2_header(as_negotiate, 0);
  bool v311 = dialect == 0x0311;
  wire::put_le16(m, 65);
  wire::put_le16(m, 0x0001);  // signing enabled
  wire::put_le16(m, dialect);
  wire::put_le16(m, v311 ? 2 : 0);
  m.append(kServerGuid, 16);
  wire::put_le32(
      m, dialect >= 0x0300 && dialect != 0x02ff ? 0x2f : 0x07);  // DFS, leasing, large MTU...
  wire::put_le32(m, 8388608);
  wire::put_le32(m, 8388608);
  wire::put_le32(m, 8388608);
  wire::put_le64(m, filetime_now());
  wire::put_le64(m, 0);
  wire::put_le16(m, 128);  // security buffer offset: right after the 64-byte header and body
  wire::put_le16(m, static_cast<uint32_t>(kSpnego.size()));
  size_t ctx_offset_at = m.size();
  wire::put_le32(m, 0);
  m.append(kSpnego);
  if (v311) {
    while (m.size() % 8) m.push_back('\0');
    uint32_t offset = static_cast<uint32_t>(m.size());
    for (int i = 0; i < 4; ++i)
      m[ctx_offset_at + i] = static_cast<char>((offset >> (8 * i)) & 0xff);
    wire::put_le16(m, 0x0001);  // SMB2_PREAUTH_INTEGRITY_CAPABILITIES
    wire::put_le16(m, 38);
    wire::put_le32(m, 0);
    wire::put_le16(m, 1);       // one hash algorithm
    wire::put_le16(m, 32);      // salt length
    wire::put_le16(m, 0x0001);  // SHA-512
    m.append(
        "\x6d\x1f\x83\x29\xb0\x4e\x12\x7a\x55\xc3\x98\x0e\xf2\x61\x3d\xa4\x07\xbb\x5c\x19"
        "\xe8\x42\x96\x2d\x71\x0a\xcf\x36\x8b\x54\xe1\x93",
        32);
    while (m.size() % 8) m.push_back('\0');
    wire::put_le16(m, 0x0002);  // SMB2_ENCRYPTION_CAPABILITIES
    wire::put_le16(m, 4);
    wire::put_le32(m, 0);
    wire::put_le16(m, 1);
    wire::put_le16(m, 0x0002);  // AES-128-GCM
  }
  return framed(m);
}

std::string smb1_negotiate_response(const Message& r, uint16_t index) {
  std::string m = smb1_header(r, 0x72, 0, 0, 0);
  if (index == 0xffff) {  // none of the dialects offered
    m.push_back(1);
    wire::put_le16(m, 0xffff);
    wire::put_le16(m, 0);
    return framed(m);
  }
  m.push_back(17);
  wire::put_le16(m, index);
  m.push_back(0x03);      // user level security, challenge/response
  wire::put_le16(m, 50);  // max mpx
  wire::put_le16(m, 1);   // max VCs
  wire::put_le32(m, 16644);
  wire::put_le32(m, 65536);
  wire::put_le32(m, 0);           // session key
  wire::put_le32(m, 0x0000f3fd);  // capabilities (no extended security)
  wire::put_le64(m, filetime_now());
  wire::put_le16(m, 0);
  m.push_back(8);                                            // challenge length
  std::string bytes("\x11\x22\x33\x44\x55\x66\x77\x88", 8);  // the challenge
  bytes += utf16("WORKGROUP") + utf16("WIN7-PC");
  wire::put_le16(m, static_cast<uint32_t>(bytes.size()));
  m += bytes;
  return framed(m);
}

std::string smb1_status(const Message& r, uint32_t status) {
  std::string m = smb1_header(r, static_cast<uint8_t>(r.command), status, r.uid, r.tid);
  m.push_back(0);
  wire::put_le16(m, 0);
  return framed(m);
}

std::string smb2_status(const Message& r, uint32_t status) {
  std::string m = smb2_header(r, status);
  wire::put_le16(m, 9);
  m.push_back(0);
  m.push_back(0);
  wire::put_le32(m, 0);
  m.push_back(0);
  return framed(m);
}

std::string smb1_session_setup_response(const Message& r) {
  std::string m = smb1_header(r, 0x73, 0, 0x0800, r.tid);
  m.push_back(3);
  m.append("\xff\x00\x00\x00", 4);  // no AndX command
  wire::put_le16(m, 1);             // logged in as guest
  // Unicode strings start on an even offset: a pad byte after the byte count (at offset 41).
  std::string bytes = std::string(1, '\0') + utf16("Windows 7 Professional 7601 Service Pack 1") +
                      utf16("Windows 7 Professional 6.1") + utf16("WORKGROUP");
  wire::put_le16(m, static_cast<uint32_t>(bytes.size()));
  m += bytes;
  return framed(m);
}

std::string smb1_tree_connect_response(const Message& r) {
  std::string m = smb1_header(r, 0x75, 0, r.uid, 0x0800);
  m.push_back(3);
  m.append("\xff\x00\x00\x00", 4);
  wire::put_le16(m, 0x0001);                                // search bits supported
  std::string bytes = std::string("IPC\0", 4) + utf16("");  // service (ASCII), file system
  wire::put_le16(m, static_cast<uint32_t>(bytes.size()));
  m += bytes;
  return framed(m);
}

}  // namespace smb

namespace {

constexpr std::string_view kType = "event4_honeypot_smb_scan";
constexpr size_t kMaxCommands = 32;

class SmbSession : public sensors::Session {
 public:
  explicit SmbSession(const ServiceContext& ctx) : ctx_(ctx) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    size_t consumed = 0;
    while (consumed < in.size() && !closing_) {
      uint8_t type = 0;
      std::string_view payload;
      size_t used = 0;
      auto r = smb::parse_frame(in.substr(consumed), type, payload, used);
      if (r == smb::Parse::kIncomplete) break;
      if (r == smb::Parse::kMalformed) {
        problem_ = "smb-not-netbios";
        close(io);
        return in.size();
      }
      consumed += used;
      if (type == 0x81) {  // NetBIOS session request (port 139): positive response
        io.send(std::string_view("\x82\x00\x00\x00", 4));
        continue;
      }
      if (type != 0x00) continue;  // keep-alive
      smb::Message m;
      if (smb::parse_message(payload, m) != smb::Parse::kComplete) {
        problem_ = "smb-malformed";
        close(io);
        return in.size();
      }
      handle(m, io);
    }
    return closing_ ? in.size() : consumed;
  }

  void on_close(sensors::CloseReason, std::string_view unconsumed,
                sensors::SessionIo& io) override {
    if (commands_.empty() && unconsumed.empty() && problem_.empty()) return;  // said nothing
    if (commands_.empty() && problem_.empty()) problem_ = "smb-incomplete";
    SessionEvent ev(ctx_, io, kType);
    auto& line = ev.line();
    line.str("application", "smb");
    std::string tags = version_ == 1 ? "smb1" : version_ == 2 ? "smb2" : "";
    if (ms17_010_) {
      tags += ";ms17-010-check";
      line.str("tag", "ms17-010")
          .str("severity", "high")
          .str("vulnerability_enum", "CVE")
          .str("vulnerability_id", "CVE-2017-0144")
          .str("vulnerability_class", "remote code execution")
          .real("vulnerability_score", 8.1)
          .str("vulnerability_severity", "high")
          .str("vulnerability_version", "3.0")
          .str("threat_framework", "MITRE ATT&CK")
          .str("threat_tactic_id", "TA0008")
          .str("threat_technique_id", "T1210")
          .str("target_vendor", "Microsoft")
          .str("target_product", "Windows SMBv1 server")
          .str("target_class", "operating system");
    } else {
      line.str("tag", problem_.empty() ? std::string_view("smb") : problem_);
    }
    if (doublepulsar_) tags += ";doublepulsar-probe";
    line.str("command", commands_).str("supported_protocols", dialects_);
    if (has_flags_) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08x", first_flags_);
      line.str("flags", hex);
    }
    line.str("session_tags", tags);
    ev.commit();
  }

 private:
  void close(sensors::SessionIo& io) {
    closing_ = true;
    io.close();
  }

  void note(const smb::Message& m) {
    if (!has_flags_) {
      has_flags_ = true;
      first_flags_ = m.flags;
      version_ = m.version;
    }
    if (command_count_++ < kMaxCommands) {
      if (!commands_.empty()) commands_ += ",";
      commands_ += smb::command_name(m.version, m.command);
    }
    if (!m.dialects.empty() && dialects_.empty()) {
      for (const auto& d : m.dialects) {
        if (d.empty()) continue;  // nmap ends its list with an empty one
        if (!dialects_.empty()) dialects_ += ",";
        dialects_ += d;
      }
    }
  }

  void handle(const smb::Message& m, sensors::SessionIo& io) {
    note(m);
    if (m.version == 2) {
      if (m.command == 0) {
        uint16_t best = 0;
        for (uint16_t d : m.dialect_codes) {
          if ((d == 0x0202 || d == 0x0210 || d == 0x0300 || d == 0x0302 || d == 0x0311) &&
              d > best) {
            best = d;
          }
        }
        if (best == 0) {
          io.send(smb::smb2_status(m, smb::kStatusNotSupported));
          close(io);
        } else {
          io.send(smb::smb2_negotiate_response(m, best));
        }
      } else {
        io.send(smb::smb2_status(m, smb::kStatusAccessDenied));
      }
      return;
    }
    switch (m.command) {
      case 0x72: {
        // SMB2-capable clients ask for it from SMB1: upgrade (Windows does).
        bool smb2_any = false, smb2_002 = false;
        uint16_t ntlm = 0xffff;
        for (size_t i = 0; i < m.dialects.size(); ++i) {
          if (m.dialects[i] == "SMB 2.???") smb2_any = true;
          if (m.dialects[i] == "SMB 2.002") smb2_002 = true;
          if (m.dialects[i] == "NT LM 0.12") ntlm = static_cast<uint16_t>(i);
        }
        if (smb2_any || smb2_002) {
          io.send(smb::smb2_negotiate_response(m, smb2_any ? 0x02ff : 0x0202));
        } else {
          io.send(smb::smb1_negotiate_response(m, ntlm));
          if (ntlm == 0xffff) close(io);
        }
        break;
      }
      case 0x73: io.send(smb::smb1_session_setup_response(m)); break;
      case 0x75: io.send(smb::smb1_tree_connect_response(m)); break;
      case 0x25:
        // PeekNamedPipe on FID 0: the MS17-010 check. An unpatched server answers
        // STATUS_INSUFF_SERVER_RESOURCES; so does the honeypot, to see what follows.
        if (m.has_setup && m.setup0 == 0x23 && m.setup1 == 0) {
          ms17_010_ = true;
          io.send(smb::smb1_status(m, smb::kStatusInsuffServerResources));
        } else {
          io.send(smb::smb1_status(m, smb::kStatusAccessDenied));
        }
        break;
      case 0x32:
        if (m.has_setup && m.setup0 == 0x0e) {  // SESSION_SETUP: the DoublePulsar probe
          ms17_010_ = doublepulsar_ = true;
          io.send(smb::smb1_status(m, smb::kStatusNotImplemented));
        } else {
          io.send(smb::smb1_status(m, smb::kStatusAccessDenied));
        }
        break;
      default: io.send(smb::smb1_status(m, smb::kStatusAccessDenied)); break;
    }
  }

  ServiceContext ctx_;
  std::string commands_, dialects_;
  std::string_view problem_;
  size_t command_count_ = 0;
  uint32_t first_flags_ = 0;
  int version_ = 0;
  bool has_flags_ = false, ms17_010_ = false, doublepulsar_ = false, closing_ = false;
};

}  // namespace

ServiceModule smb_service() {
  return tcp_session_service<SmbSession>(
      "smb", 445, 10445, std::string(kType),
      "SMB: answers NEGOTIATE (SMB1 and SMB2/3), lets anonymous SMB1 reach the MS17-010 check "
      "and logs the commands and dialects of every connection",
      smb::kMaxFrame + 4);
}

}  // namespace vantage::honeypot
