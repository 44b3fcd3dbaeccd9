// The syslog destination kind: RFC 5424 messages carrying CEF (schemas/cef.json), one per
// event, over TCP or TLS (RFC 5425) with octet-counting framing, on one kept-open connection.
//
// Delivery means every byte of the batch was written to a connection the collector had not
// closed: TCP syslog has no acknowledgement (RFC 5425), so a collector that crashes with
// bytes in its socket buffer loses them -- as with any RFC 5425 sender. Each message carries
// its event id (externalId in the CEF, event= in the structured data) and the batch's
// delivery id (sub=, seq=), so a collector can deduplicate the re-send that follows a
// restart of Vantage between writing a batch and recording it.

#include "integrations/event_render.h"
#include "integrations/sinks/options.h"
#include "integrations/sinks/registry.h"
#include "integrations/stream_client.h"
#include "integrations/syslog_message.h"

namespace vantage::integrations {

namespace {

using Type = OptionSpec::Type;

const std::vector<OptionSpec> kSyslogOptions = {
    {"tls", Type::kBool},        {"ca_file", Type::kString},       {"cert_file", Type::kString},
    {"key_file", Type::kString}, {"server_name", Type::kString},   {"facility", Type::kInt, 0, 23},
    {"hostname", Type::kString}, {"app_name", Type::kString},      {"sd_id", Type::kString},
    {"framing", Type::kString},  {"timeout_s", Type::kInt, 1, 300}};

class SyslogFormatter : public Formatter {
 public:
  SyslogFormatter(const core::Catalogue& catalogue, const SinkOptions& o, std::string hostname)
      : renderer_(catalogue), lf_framing_(o.str("framing", "octet-counting") == "lf") {
    header_.facility = static_cast<int>(o.integer("facility", 16));
    header_.hostname = o.str("hostname", hostname);
    header_.app_name = o.str("app_name", "vantage");
    header_.sd_id = o.str("sd_id", "vantage@32473");
  }

  std::string render(const std::vector<store::StoredEvent>& events, const BatchInfo& b) override {
    std::string out;
    UnixSeconds at = now_seconds();
    for (const auto& ev : events) {
      std::string msg = syslog_message(header_, ev.severity, at, ev.type,
                                       {{"event", std::to_string(ev.id)},
                                        {"org", b.org},
                                        {"sub", b.subscription},
                                        {"seq", std::to_string(b.seq)}},
                                       renderer_.cef(ev));
      if (lf_framing_) {
        out += msg;
        out += '\n';
      } else {
        append_octet_counted(out, msg);
      }
    }
    return out;
  }
  int64_t decode_errors() const override { return renderer_.decode_errors(); }

 private:
  EventRenderer renderer_;
  SyslogHeader header_;
  bool lf_framing_;
};

class SyslogSender : public Sender {
 public:
  explicit SyslogSender(StreamOptions o) : stream_(std::move(o)) {}

  SendResult send(std::string_view payload, int64_t events, const BatchInfo&) override {
    if (auto st = stream_.ensure_connected(); !st) return SendResult::retry(0, st.message());
    if (auto st = stream_.write_all(payload); !st) return SendResult::retry(0, st.message());
    return SendResult::delivered(0, std::to_string(events) + " messages written");
  }

 private:
  StreamClient stream_;
};

StreamOptions stream_options(const registry::Subscription& sub, const SinkOptions& o) {
  StreamOptions so;
  auto addr = StreamClient::split_address(sub.address);
  if (addr) std::tie(so.host, so.port) = *addr;
  so.tls = o.flag("tls", true);
  so.ca_file = o.str("ca_file");
  so.cert_file = o.str("cert_file");
  so.key_file = o.str("key_file");
  so.server_name = o.str("server_name");
  so.io_timeout = std::chrono::seconds(o.integer("timeout_s", 10));
  return so;
}

}  // namespace

SinkKind syslog_kind() {
  SinkKind k;
  k.kind = registry::SubscriptionKind::kSyslog;
  k.summary = "RFC 5424 syslog carrying CEF over TLS (RFC 5425) or TCP, octet-counted";
  k.options =
      "tls (true), ca_file, cert_file, key_file, server_name, facility (16), hostname, "
      "app_name (vantage), sd_id (vantage@32473), framing (octet-counting|lf), timeout_s";
  k.validate = [](const registry::Subscription& s) -> Status {
    auto o = SinkOptions::parse(s.options, kSyslogOptions);
    if (!o) return o.error();
    std::string framing = o->str("framing", "octet-counting");
    if (framing != "octet-counting" && framing != "lf")
      return Error::invalid("option 'framing' must be octet-counting or lf");
    if (o->str("cert_file").empty() != o->str("key_file").empty())
      return Error::invalid("options 'cert_file' and 'key_file' go together");
    std::string sd_id = o->str("sd_id", "vantage@32473");
    if (sd_id.empty() || sd_id.size() > 32 || sd_id.find_first_of("= ]\"") != sd_id.npos ||
        printable_ascii(sd_id, 32) != sd_id)
      return Error::invalid("option 'sd_id' must be an SD-ID such as name@<enterprise number>");
    return StreamClient::split_address(s.address).status();
  };
  k.formatter = [](const registry::Subscription& s,
                   const SinkEnv& env) -> std::unique_ptr<Formatter> {
    return std::make_unique<SyslogFormatter>(
        *env.catalogue, *SinkOptions::parse(s.options, kSyslogOptions), env.hostname);
  };
  k.sender = [](const registry::Subscription& s, const SinkEnv&) -> std::unique_ptr<Sender> {
    return std::make_unique<SyslogSender>(
        stream_options(s, *SinkOptions::parse(s.options, kSyslogOptions)));
  };
  return k;
}

}  // namespace vantage::integrations
