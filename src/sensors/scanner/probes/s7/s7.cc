// Siemens S7comm (scan_ics, tag s7) over TCP 102 (ISO-TSAP, RFC 1006): a stateful exchange,
// as Siemens' own tools and nmap's s7-info do it:
//   1. COTP Connection Request to TSAP 0x0102 (PG, rack 0 slot 2); a CPU answers Connection
//      Confirm (0xd0);
//   2. S7 Setup Communication; the CPU answers with an Ack-Data (ROSCTR 3);
//   3. Read SZL 0x0011 (module identification) and 4. Read SZL 0x001c (component
//      identification), each answered by a Userdata PDU (ROSCTR 7) carrying the list.
// From SZL 0x0011: index 1 the module's order number (device_model when no type name), index
// 6/7 the hardware/firmware version ("V3.2.6", device_version). From SZL 0x001c: index 2 the
// module name, 5 the serial number (device_id), 7 the module type name (device_model),
// 1 the automation system's name (device_type). device_vendor is "Siemens": only Siemens
// CPUs (and their emulators) answer SZL reads.
#include <memory>
#include <string>

#include "sensors/scanner/probes/ics_util.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kCotpCr =
    "\x03\x00\x00\x16\x11\xe0\x00\x00\x00\x01\x00\xc0\x01\x0a\xc1\x02\x01\x00\xc2\x02\x01\x02"s;
const std::string kSetup =
    "\x03\x00\x00\x19\x02\xf0\x80\x32\x01\x00\x00\x00\x00\x00\x08\x00\x00\xf0\x00\x00\x01\x00"
    "\x01\x01\xe0"s;
std::string szl_read(unsigned id) {
  std::string s =
      "\x03\x00\x00\x21\x02\xf0\x80\x32\x07\x00\x00\x00\x00\x00\x08\x00\x08\x00\x01\x12\x04\x11"
      "\x44\x01\x00\xff\x09\x00\x04"s;
  octets::put_be16(s, id);
  octets::put_be16(s, 0);
  return s;
}

// Splits complete TPKTs off the front of `buf`.
bool next_tpkt(std::string& buf, std::string* out) {
  if (buf.size() < 4 || octets::u8(buf, 0) != 3) return false;
  const size_t len = octets::be16(buf, 2);
  if (len < 4 || buf.size() < len) return false;
  *out = buf.substr(0, len);
  buf.erase(0, len);
  return true;
}

class S7Exchange : public Exchange {
 public:
  std::string start() override { return kCotpCr; }

  std::string feed(std::string_view chunk, bool* done) override {
    buf_.append(chunk.data(), chunk.size());
    if (buf_.size() > 64 * 1024) {
      *done = true;
      return {};
    }
    std::string out, pkt;
    while (next_tpkt(buf_, &pkt)) {
      all_ += pkt;
      const unsigned cotp_type = pkt.size() > 5 ? octets::u8(pkt, 5) : 0;
      if (step_ == 0 && cotp_type == 0xd0) {
        step_ = 1;
        out += kSetup;
      } else if (cotp_type == 0xf0 && pkt.size() > 8 && octets::u8(pkt, 7) == 0x32) {
        const unsigned rosctr = octets::u8(pkt, 8);
        if (step_ == 1 && rosctr == 3) {
          step_ = 2;
          out += szl_read(0x0011);
        } else if (step_ == 2 && rosctr == 7) {
          read_szl(pkt);
          step_ = 3;
          out += szl_read(0x001c);
        } else if (step_ == 3 && rosctr == 7) {
          read_szl(pkt);
          step_ = 4;
          *done = true;
        }
      } else if (step_ == 0) {
        *done = true;  // COTP refused (disconnect) or not COTP at all
      }
    }
    return out;
  }

  Result<nlohmann::json> result() override {
    if (step_ == 0) return Error::invalid("no COTP connection confirm: not S7");
    nlohmann::json f = ics::base_fields(all_);
    f["device_vendor"] = "Siemens";
    ics::set_if(f, "device_model", type_name_.empty() ? order_number_ : type_name_);
    ics::set_if(f, "device_version", version_);
    ics::set_if(f, "device_id", serial_);
    ics::set_if(f, "device_type", system_name_);
    return f;
  }

 private:
  // A Userdata response: param header (12 bytes incl. data unit ref), then data: return code,
  // transport size, length, SZL id, index, record length, record count, records.
  void read_szl(std::string_view pkt) {
    if (pkt.size() < 17 + 12) return;
    const size_t param_len = octets::be16(pkt, 7 + 6);
    const size_t data_off = 7 + 10 + param_len;
    if (pkt.size() < data_off + 12 || octets::u8(pkt, data_off) != 0xff) return;
    const unsigned szl = octets::be16(pkt, data_off + 4);
    const size_t rec_len = octets::be16(pkt, data_off + 8);
    const unsigned count = octets::be16(pkt, data_off + 10);
    size_t off = data_off + 12;
    for (unsigned i = 0; i < count && rec_len >= 2 && off + rec_len <= pkt.size(); ++i) {
      std::string_view rec = pkt.substr(off, rec_len);
      off += rec_len;
      const unsigned index = octets::be16(rec, 0);
      if (szl == 0x0011 && rec_len >= 28) {
        if (index == 1) order_number_ = trim(rec.substr(2, 20));
        // BGTyp (2 bytes), then Ausbg/Ausbe: 'V' and three version bytes.
        if ((index == 6 || index == 7) && octets::u8(rec, 24) == 'V')
          version_ = "V" + std::to_string(octets::u8(rec, 25)) + "." +
                     std::to_string(octets::u8(rec, 26)) + "." +
                     std::to_string(octets::u8(rec, 27));
      } else if (szl == 0x001c && rec_len >= 34) {
        const std::string text = trim(rec.substr(2, 32));
        if (index == 1) system_name_ = text;
        if (index == 5) serial_ = text;
        if (index == 7) type_name_ = text;
      }
    }
  }
  static std::string trim(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
    return printable(s, 64);
  }

  std::string buf_, all_;
  int step_ = 0;
  std::string order_number_, version_, system_name_, serial_, type_name_;
};

}  // namespace

ProbeModule s7_module() {
  ProbeModule m;
  m.name = "s7";
  m.report_type = "scan_ics";
  m.tag = "s7";
  m.default_port = 102;
  m.columns = ics::columns();
  m.exchange = [](const ProbeTarget&) { return std::make_unique<S7Exchange>(); };
  return m;
}

}  // namespace vantage::scanner
