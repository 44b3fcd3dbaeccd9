#include "sensors/honeypot/honeypot.h"

namespace vantage::honeypot {

Result<std::vector<ServiceBinding>> parse_listen(const std::vector<std::string>& entries) {
  std::vector<ServiceBinding> out;
  if (entries.empty()) {
    for (const auto& s : builtin_services()) {
      if (!s.default_on) continue;
      out.push_back({&s, sensors::Endpoint{IpAddress::from_v4(0x7f000001), s.loopback_port}});
    }
    return out;
  }
  for (const auto& e : entries) {
    auto eq = e.find('=');
    if (eq == std::string::npos) {
      return Error::invalid("honeypot.listen entry '" + e + "': want SERVICE=HOST:PORT");
    }
    const ServiceModule* s = find_service(e.substr(0, eq));
    if (!s) {
      std::string known;
      for (const auto& b : builtin_services()) known += (known.empty() ? "" : ", ") + b.name;
      return Error::invalid("honeypot.listen entry '" + e + "': no service '" + e.substr(0, eq) +
                            "' (known: " + known + ")");
    }
    auto at = sensors::parse_endpoint(std::string_view(e).substr(eq + 1));
    if (!at) return Error::invalid("honeypot.listen entry '" + e + "': " + at.error().message);
    out.push_back({s, *at});
  }
  return out;
}

Result<std::unique_ptr<Honeypot>> Honeypot::create(HoneypotSettings settings,
                                                   const std::vector<ServiceBinding>& services,
                                                   sensors::SensorHostOptions host,
                                                   bool any_port_if_busy) {
  auto hp = std::unique_ptr<Honeypot>(new Honeypot());
  hp->settings_ = std::move(settings);
  auto h = sensors::SensorHost::create(std::move(host));
  if (!h) return h.error();
  hp->host_ = std::move(*h);
  ServiceContext ctx{&hp->settings_, hp->host_.get(), &hp->bound_};
  for (const auto& b : services) {
    auto bound = b.service->install(ctx, b.at);
    if (!bound && any_port_if_busy && b.at.port != 0) {
      bound = b.service->install(ctx, sensors::Endpoint{b.at.ip, 0});
    }
    if (!bound) return Error::io(b.service->name + ": " + bound.error().message);
    hp->bound_.emplace_back(b.service->name, *bound);
  }
  return hp;
}

}  // namespace vantage::honeypot
