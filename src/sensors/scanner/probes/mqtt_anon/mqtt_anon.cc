// MQTT brokers that let anyone in (scan_mqtt_anon): the same CONNECT without user name or
// password as scan_mqtt (mqtt/mqtt.h), on 1883 in the clear (module mqtt_anon) or inside TLS
// on 8883 (module mqtts_anon, which adds the certificate columns). Only a CONNACK with return
// code 0 ("Connection Accepted") is an event: a broker that refuses anonymous clients is not
// this report's business (scan_mqtt lists it). Nothing follows the CONNACK: no SUBSCRIBE, no
// PUBLISH; the connection is closed.
#include <string>

#include "core/catalogue.h"
#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/mqtt/mqtt.h"
#include "sensors/scanner/probes/starttls/starttls.h"

namespace vantage::scanner {
namespace {

constexpr size_t kConnackSize = 4;

Result<nlohmann::json> anonymous_only(std::string_view connack) {
  auto f = mqtt_parse_connack(connack);
  if (!f) return f.error();
  if ((*f)["hex_code"] != "00") return Error::invalid("the broker refuses anonymous clients");
  f->erase("anonymous_access");  // implied by the report type, no column for it
  return f;
}

class MqttAnonExchange : public Exchange {
 public:
  explicit MqttAnonExchange(bool tls) {
    if (tls) tls_ = std::make_unique<TlsExchange>(std::string());
  }

  std::string start() override { return tls_ ? tls_->start() : mqtt_connect_request(); }

  std::string feed(std::string_view chunk, bool* done) override {
    std::string send;
    std::optional<std::string> plain =
        tls_ ? tls_->carry(chunk, mqtt_connect_request, &send, done) : std::string(chunk);
    if (!plain) return send;
    buf_.append(plain->substr(0, kConnackSize - std::min(buf_.size(), kConnackSize)));
    if (buf_.size() >= kConnackSize) *done = true;
    return {};
  }

  Result<nlohmann::json> result() override {
    auto f = anonymous_only(buf_);
    if (!f) return f.error();
    add_tls_columns(*f, tls_.get());
    return f;
  }

 private:
  std::unique_ptr<TlsExchange> tls_;
  std::string buf_;
};

struct Plain : MqttAnonExchange {
  Plain() : MqttAnonExchange(false) {}
};
struct OverTls : MqttAnonExchange {
  OverTls() : MqttAnonExchange(true) {}
};

const std::vector<std::string> kColumns = {"raw_response", "hex_code", "code"};

}  // namespace

ProbeModule mqtt_anon_module() {
  return exchange_module<Plain>("mqtt_anon", "scan_mqtt_anon", 1883, kColumns);
}

ProbeModule mqtts_anon_module() {
  // The certificate columns scan_mqtt_anon has (it lacks handshake, self_signed and
  // cert_expired, which the exchange still computes; the output drops them).
  std::vector<std::string> columns = kColumns;
  const auto* type = core::Catalogue::builtin().find("scan_mqtt_anon");
  for (const auto& c : tls_certificate_columns())
    if (type && type->column_index(c) >= 0) columns.push_back(c);
  auto m = exchange_module<OverTls>("mqtts_anon", "scan_mqtt_anon", 8883, std::move(columns));
  m.tag = "mqtt_anon";
  return m;
}

}  // namespace vantage::scanner
