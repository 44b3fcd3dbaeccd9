// The ADB honeypot: an Android device with its debug bridge open on the network and no
// authentication (what the ADB.Miner-style bots look for). It accepts the connection (CNXN),
// accepts every stream (OPEN: "shell:cd /data/local/tmp; busybox wget ...") and closes it
// at once without running anything, and logs one event4_honeypot_adb_scan row per connection:
// the client's banner, its protocol version and maxdata, and every command it opened.

#include "sensors/honeypot/adb/adb.h"

#include <cstdio>

#include "sensors/honeypot/service.h"
#include "sensors/honeypot/wire.h"

namespace vantage::honeypot {

namespace adb {

Parse parse_message(std::string_view in, Message& out) {
  out = {};
  if (in.size() < 24) return Parse::kIncomplete;
  uint32_t command = wire::le32(in, 0), length = wire::le32(in, 12), magic = wire::le32(in, 20);
  if (magic != (command ^ 0xffffffffu) || length > kMaxPayload) return Parse::kMalformed;
  if (in.size() < 24 + static_cast<size_t>(length)) return Parse::kIncomplete;
  out.command = command;
  out.arg0 = wire::le32(in, 4);
  out.arg1 = wire::le32(in, 8);
  out.payload = in.substr(24, length);
  out.length = 24 + length;
  return Parse::kComplete;
}

std::string message(uint32_t command, uint32_t arg0, uint32_t arg1, std::string_view payload) {
  std::string m;
  wire::put_le32(m, command);
  wire::put_le32(m, arg0);
  wire::put_le32(m, arg1);
  wire::put_le32(m, static_cast<uint32_t>(payload.size()));
  uint32_t sum = 0;  // the checksum old clients check (newer ones send 0 and ignore it)
  for (unsigned char c : payload) sum += c;
  wire::put_le32(m, sum);
  wire::put_le32(m, command ^ 0xffffffffu);
  m.append(payload);
  return m;
}

std::string command_name(uint32_t c) {
  bool text = true;
  std::string s;
  for (int i = 0; i < 4; ++i) {
    char ch = static_cast<char>((c >> (8 * i)) & 0xff);
    text &= ch >= 'A' && ch <= 'Z';
    s.push_back(ch);
  }
  if (text) return s;
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", c);
  return hex;
}

}  // namespace adb

namespace {

constexpr std::string_view kType = "event4_honeypot_adb_scan";
constexpr size_t kMaxCommandsText = 4096;
// What a cheap Android TV box answers: the device banner of its CNXN.
constexpr std::string_view kDeviceBanner =
    "device::ro.product.name=p281;ro.product.model=X96 Max;ro.product.device=p281;features="
    "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb,fixed_push_symlink_timestamp,"
    "abb_exec,remount_shell,track_app,sendrecv_v2,sendrecv_v2_brotli,sendrecv_v2_lz4,"
    "sendrecv_v2_zstd,sendrecv_v2_dry_run_send";

class AdbSession : public sensors::Session {
 public:
  explicit AdbSession(const ServiceContext& ctx) : ctx_(ctx) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    size_t consumed = 0;
    while (consumed < in.size() && !closing_) {
      adb::Message m;
      auto r = adb::parse_message(in.substr(consumed), m);
      if (r == adb::Parse::kIncomplete) break;
      if (r == adb::Parse::kMalformed) {
        problem_ = "adb-malformed";
        closing_ = true;
        io.close();
        return in.size();
      }
      consumed += m.length;
      ++messages_;
      handle(m, io);
    }
    return closing_ ? in.size() : consumed;
  }

  void on_close(sensors::CloseReason, std::string_view unconsumed,
                sensors::SessionIo& io) override {
    if (messages_ == 0 && unconsumed.empty() && problem_.empty()) return;
    if (messages_ == 0 && problem_.empty()) problem_ = "adb-incomplete";
    SessionEvent ev(ctx_, io, kType);
    auto& line = ev.line();
    line.str("application", "adb").str("tag", problem_.empty() ? "adb" : problem_);
    if (connected_) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08x", version_);
      // "host::features=..." -> system type "host"
      std::string_view banner = banner_;
      line.str("banner", banner)
          .str("system_type", banner.substr(0, banner.find(':')))
          .str("version", hex)
          .num("maxdata", maxdata_);
    }
    line.str("commands", commands_);
    if (opened_ > 0) line.num("opened", opened_);
    ev.commit();
  }

 private:
  void handle(const adb::Message& m, sensors::SessionIo& io) {
    switch (m.command) {
      case adb::kCnxn: {
        connected_ = true;
        version_ = m.arg0;
        maxdata_ = m.arg1;
        std::string_view b = m.payload;
        while (!b.empty() && b.back() == '\0') b.remove_suffix(1);
        banner_.assign(b.substr(0, 512));
        io.send(adb::message(adb::kCnxn, 0x01000001, 256 * 1024, kDeviceBanner));
        break;
      }
      case adb::kOpen: {
        ++opened_;
        std::string_view dest = m.payload;
        while (!dest.empty() && dest.back() == '\0') dest.remove_suffix(1);
        if (commands_.size() < kMaxCommandsText) {
          if (!commands_.empty()) commands_ += " ; ";
          commands_.append(dest.substr(0, kMaxCommandsText - commands_.size()));
        }
        // Accepted, then closed: the stream ends without output, nothing was run.
        uint32_t local = 0x1000 + static_cast<uint32_t>(opened_);
        io.send(adb::message(adb::kOkay, local, m.arg0, {}));
        io.send(adb::message(adb::kClse, local, m.arg0, {}));
        break;
      }
      case adb::kWrte: io.send(adb::message(adb::kOkay, m.arg1, m.arg0, {})); break;
      default: break;  // OKAY, CLSE, AUTH (never asked for), STLS
    }
  }

  ServiceContext ctx_;
  std::string banner_, commands_;
  std::string_view problem_;
  uint32_t version_ = 0, maxdata_ = 0;
  int64_t opened_ = 0, messages_ = 0;
  bool connected_ = false, closing_ = false;
};

}  // namespace

ServiceModule adb_service() {
  return tcp_session_service<AdbSession>(
      "adb", 5555, 15555, std::string(kType),
      "Android Debug Bridge without authentication: logs the client's banner and every "
      "shell command it opens (none is run)",
      adb::kMaxPayload + 24);
}

}  // namespace vantage::honeypot
