#include "service/report_mail.h"

#include <map>
#include <vector>

#include "delivery/deliverer.h"
#include "delivery/delivery_log.h"
#include "delivery/smtp.h"

namespace vantage::service {

namespace {

std::string download_base(const config::Config& c) {
  std::string base = c.download_root.empty() ? "http://" + c.api_listen + "/dl/" : c.download_root;
  if (!base.empty() && base.back() != '/') base.push_back('/');
  return base;
}

}  // namespace

Result<MailOutcome> deliver_built_reports(registry::Registry& registry, const GlobalOptions& global,
                                          DayNumber day, const report::BuildSummary& summary) {
  const auto& cfg = global.config;
  if (cfg.smtp_url.empty()) return Error::invalid("smtp.url is not configured");
  auto log = delivery::DeliveryLog::open(delivery::default_delivery_log_path(global.data_dir));
  if (!log) return Error{log.error().code, "delivery log: " + log.error().message};
  auto smtp = delivery::CurlSmtpTransport::create(delivery::smtp_options_from_config(cfg));
  if (!smtp) return Error{smtp.error().code, "cannot set up mail: " + smtp.error().message};
  auto opts = delivery::deliverer_options_from_config(cfg);
  if (!opts) return Error{opts.error().code, "cannot set up mail: " + opts.error().message};
  delivery::Deliverer deliverer(*opts, **smtp, **log);
  std::map<uint32_t, std::vector<const report::BuiltReport*>> by_org;
  for (const auto& r : summary.reports) by_org[r.entry.org_id].push_back(&r);
  MailOutcome out;
  for (const auto& [org_id, reports] : by_org) {
    auto rec = registry.org_record(org_id);
    if (!rec) continue;
    delivery::OrgDelivery od;
    od.org_id = std::to_string(org_id);
    od.short_name = rec->org.short_name;
    od.recipients = rec->recipients;
    od.pgp_public_key = rec->org.pgp_key;
    od.date = format_date(day);
    od.summary = report::summary_text(rec->org.short_name, day, reports);
    for (const auto* r : reports) {
      od.reports.push_back({r->entry.id, r->entry.file_name, r->entry.path, r->entry.pack_offset,
                            static_cast<uint64_t>(r->entry.size),
                            static_cast<uint64_t>(r->entry.rows), r->entry.type, od.date,
                            download_base(cfg) + r->entry.id});
    }
    auto result = deliverer.deliver_reports(od);
    if (!result) return Error{result.error().code, "delivery log: " + result.error().message};
    out.delivered += result->count(delivery::kStatusDelivered);
    out.not_delivered += result->mails.size() - result->count(delivery::kStatusDelivered);
  }
  return out;
}

}  // namespace vantage::service
