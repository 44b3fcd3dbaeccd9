#include "pipeline/processor.h"

#include "common/hash.h"
#include "common/strings.h"

namespace vantage::pipeline {

namespace {}  // namespace

std::string_view constituent_domain(const core::Event& event) {
  const core::ReportType& type = *event.type();
  if (type.constituent_kind != core::ConstituentKind::kDomain &&
      type.constituent_kind != core::ConstituentKind::kUrl &&
      type.constituent_kind != core::ConstituentKind::kEmail) {
    return {};
  }
  int col = type.column_index(type.constituent_column);
  if (col < 0 || event.is_null(col) || event.kind(col) != core::ColumnKind::kString) return {};
  std::string_view v = event.string_at(col);
  if (type.constituent_kind == core::ConstituentKind::kEmail) {
    size_t at = v.rfind('@');
    return at == std::string_view::npos ? std::string_view() : v.substr(at + 1);
  }
  if (type.constituent_kind == core::ConstituentKind::kUrl) {
    size_t scheme = v.find("://");
    if (scheme != std::string_view::npos) v = v.substr(scheme + 3);
    size_t end = v.find_first_of("/?#");
    if (end != std::string_view::npos) v = v.substr(0, end);
    size_t at = v.rfind('@');
    if (at != std::string_view::npos) v = v.substr(at + 1);
    if (!v.empty() && v.front() != '[') {
      size_t colon = v.find(':');
      if (colon != std::string_view::npos) v = v.substr(0, colon);
    }
  }
  return v;
}

namespace {

store::MatchFilter filter_for(match::ReasonMask why) {
  if (why & match::kReasonCidr) return store::MatchFilter::kCidr;
  if (why & match::kReasonAsn) return store::MatchFilter::kAsn;
  if (why & match::kReasonDomain) return store::MatchFilter::kDomain;
  return store::MatchFilter::kGeo;
}

}  // namespace

std::string_view routing_domain(const core::Event& event) {
  std::string_view domain = constituent_domain(event);
  return domain.empty() ? event.hostname() : domain;
}

Processor::Processor(ProcessorInputs inputs) : in_(inputs) {}

void Processor::begin_batch() {
  if (in_.enricher) view_ = in_.enricher->view();
  if (in_.index) {
    auto current = in_.index->current();
    if (current && current != index_) match_buffer_ = match::MatchBuffer(*current);
    index_ = std::move(current);
  }
}

uint64_t Processor::event_key(const core::Event& event, std::string& scratch) {
  Hash64 h;
  h.add(event.type()->name);
  int ts = event.type()->common.timestamp;
  for (int col = 0; col < event.size(); ++col) {
    if (col == ts) continue;
    scratch.clear();
    if (event.is_null(col)) {
      h.add_u64(0x6e756c6c);  // "null", distinct from the empty string
      continue;
    }
    event.append_text(col, scratch);
    h.add(scratch);
  }
  return h.finish();
}

void Processor::enrich_side(core::Event& event, core::Side side, int ip_col_seen[3], int n) {
  const core::Endpoint& ep = event.type()->common.side[static_cast<int>(side)];
  if (ep.ip < 0) return;
  for (int i = 0; i < n; ++i) {
    if (ip_col_seen[i] == ep.ip) return;  // kPrimary aliases src/dst on event types
  }
  ip_col_seen[n] = ep.ip;
  auto ip = event.ip(side);
  if (!ip) return;
  view_->enrich(*ip, enrichment_);
  bool force = in_.re_enrich;
  if (force || !event.asn(side)) event.set_asn(enrichment_.asn, side);
  // Unknown is null (`,,` in the report), never an empty string.
  auto set_text_or_null = [&](int col, std::string_view v) {
    if (col < 0 || event.kind(col) != core::ColumnKind::kString) return;
    if (v.empty()) {
      event.set_null(col);
    } else {
      event.set_string(col, v);
    }
  };
  if (force || event.geo(side).empty()) {
    event.set_geo(std::string_view(enrichment_.geo), side);
    set_text_or_null(ep.region, enrichment_.region);
    set_text_or_null(ep.city, enrichment_.city);
  }
  if (force || !event.naics(side)) event.set_naics(enrichment_.naics, side);
  if (force || event.sector(side).empty()) set_text_or_null(ep.sector, enrichment_.sector);
  if (!enrichment_.hostname.empty() && event.hostname(side).empty()) {
    event.set_hostname(enrichment_.hostname, side);
  }
}

Outcome Processor::process(core::Event& event, store::EventRecord& out, std::string& field,
                           std::string& reason) {
  const core::ReportType& type = *event.type();
  auto ts = event.timestamp();
  if (!ts) {
    field = "timestamp";
    reason = "missing timestamp (it decides the report day)";
    return Outcome::kRejected;
  }

  if (view_) {
    int seen[3] = {-1, -1, -1};
    enrich_side(event, core::Side::kPrimary, seen, 0);
    enrich_side(event, core::Side::kSource, seen, 1);
    enrich_side(event, core::Side::kDestination, seen, 2);
  }

  auto primary_ip = event.ip();
  if (in_.rules && primary_ip && in_.rules->is_allowlisted_scanner(type.name, *primary_ip)) {
    return Outcome::kAllowlisted;
  }
  core::Severity severity = event.severity().value_or(type.default_severity);
  if (in_.rules) {
    if (auto o = in_.rules->severity_override(type.name, event.tag())) {
      severity = static_cast<core::Severity>(*o);
    }
  }
  event.set_severity(severity);

  out.day = day_of(*ts);
  out.type = type.name;
  out.timestamp = *ts;
  out.event_key = event_key(event, scratch_);
  out.ip = primary_ip ? primary_ip->to_string() : std::string();
  out.asn = event.asn().value_or(0);
  out.geo = std::string(event.geo());
  out.region = std::string(event.region());
  out.severity = static_cast<uint8_t>(severity);
  out.tag = std::string(event.tag());
  out.row.clear();
  event.encode(out.row);
  out.routes.clear();

  if (index_) {
    match::EventKeys keys;
    keys.ip = primary_ip;
    keys.asn = out.asn;
    keys.hostname = routing_domain(event);
    keys.country = event.geo();
    keys.report_type = type.name;
    keys.severity = static_cast<match::Severity>(severity);
    for (const auto& m : index_->match(keys, match_buffer_)) {
      out.routes.push_back({index_->org(m.org).org_id, filter_for(m.why)});
    }
  }
  return Outcome::kAccepted;
}

}  // namespace vantage::pipeline
