#pragma once
// Vantage configuration: one TOML file for everything. Every setting is declared exactly once
// (settings.cc: name, type, default, description, validation) and that one declaration drives
// parsing, environment overrides (VANTAGE_<SECTION>_<NAME>), `vantage config show`, and the
// generated reference docs/configuration.md. Parsed once at start into an immutable Config.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace vantage::config {

struct Config {
  // [paths]
  std::string data_dir;
  std::string catalogue;
  // [enrich]
  std::string asn_v4;
  std::string asn_v6;
  std::string geo_v4;
  std::string geo_v6;
  std::string sector_table;
  bool reverse_dns = false;
  int64_t reload_interval_s = 0;
  // [pipeline]
  std::string rules;
  std::string inbox_dir;
  int64_t batch_size = 0;
  int64_t queue_depth = 0;
  int64_t processing_threads = 0;
  int64_t spool_flush_events = 0;
  int64_t watch_interval_ms = 0;
  // [store]
  std::string store_engine;
  std::string clickhouse_url;
  std::vector<std::string> clickhouse_shard_urls;
  std::string clickhouse_database;
  std::string clickhouse_cluster;
  int64_t clickhouse_connect_timeout_ms = 0;
  int64_t clickhouse_request_timeout_ms = 0;
  int64_t clickhouse_retries = 0;
  int64_t clickhouse_retry_backoff_ms = 0;
  // [api]
  std::string api_listen;
  std::string download_root;
  std::string tls_cert;
  std::string tls_key;
  int64_t api_threads = 0;
  int64_t rate_limit_per_minute = 0;
  // [dashboard]
  std::string web_root;
  int64_t dashboard_min_count = 0;
  // [report]
  std::string report_dir;
  std::string day_close_utc;
  bool delta_mode = false;
  std::string report_layout;
  // [smtp]
  std::string smtp_url;
  std::string smtp_from;
  std::string smtp_user;
  std::string smtp_password;
  std::string mail_mode;
  std::string attachment;
  int64_t max_attachment_bytes = 0;
  std::string smtp_starttls;
  std::string smtp_ca_file;
  std::string smtp_list_id;
  int64_t smtp_max_attempts = 0;
  int64_t smtp_retry_initial_s = 0;
  std::string smtp_sign_key;
  std::string smtp_sign_passphrase;
  // [scan]
  bool scan_enabled = false;
  std::vector<std::string> scan_targets;
  std::vector<std::string> scan_ports;
  int64_t scan_rate = 0;
  int64_t scan_interval_minutes = 0;
  std::vector<std::string> scan_schedule;
  std::vector<std::string> scan_allow_reserved;
  int64_t scan_max_addresses = 0;
  // [sensor] -- shared by the listening sensors (honeypot, sinkhole)
  std::string sensor_user;
  std::string sensor_push_url;
  std::string sensor_ingest_key;
  std::string sensor_ingest_secret;
  // [honeypot]
  std::vector<std::string> honeypot_listen;
  std::string honeypot_sensor_name;
  std::string honeypot_mode;
  std::string honeypot_rules_dir;
  int64_t honeypot_threads = 0;
  int64_t honeypot_max_connections = 0;
  int64_t honeypot_idle_timeout_s = 0;
  int64_t honeypot_session_timeout_s = 0;
  int64_t honeypot_max_attempts = 0;
  std::string honeypot_ssh_host_key;
  std::string honeypot_ssh_version;
  std::string honeypot_extra_tag;
  std::string honeypot_http_server;
  std::string honeypot_tls_cert;
  std::string honeypot_tls_key;
  int64_t honeypot_amp_replies_per_minute = 0;
  int64_t honeypot_amp_reply_bytes_per_minute = 0;
  int64_t honeypot_amp_attack_min_requests = 0;
  int64_t honeypot_amp_attack_idle_s = 0;
  int64_t honeypot_amp_max_tracked = 0;
  int64_t honeypot_darknet_interval_s = 0;
  int64_t honeypot_darknet_max_tracked = 0;
  // [sinkhole]
  std::vector<std::string> sinkhole_listen;
  std::string sinkhole_sensor_name;
  std::string sinkhole_domains;
  std::string sinkhole_families;
  std::string sinkhole_rules;
  std::vector<std::string> sinkhole_addresses;
  std::vector<std::string> sinkhole_nameservers;
  int64_t sinkhole_ttl = 0;
  int64_t sinkhole_dns_period_s = 0;
  int64_t sinkhole_dga_slack_days = 0;
  std::string sinkhole_tls_cert;
  std::string sinkhole_tls_key;
  int64_t sinkhole_threads = 0;
  int64_t sinkhole_max_connections = 0;
  int64_t sinkhole_idle_timeout_s = 0;
  int64_t sinkhole_session_timeout_s = 0;
  int64_t sinkhole_first_packet_bytes = 0;
  int64_t sinkhole_reload_interval_s = 0;
  std::string sinkhole_resolver;
  int64_t sinkhole_watch_interval_s = 0;
  int64_t sinkhole_expiry_warn_days = 0;
  int64_t sinkhole_watch_dga_sample = 0;
  // [portal]
  bool portal_enabled = false;
  std::string portal_public_url;
  bool portal_registration = false;
  std::string portal_dns_resolver;
  int64_t portal_session_idle_minutes = 0;
  int64_t portal_session_max_hours = 0;
  int64_t portal_login_max_failures = 0;
  int64_t portal_login_window_s = 0;
  int64_t portal_argon2_memory_kib = 0;
  int64_t portal_argon2_iterations = 0;
  int64_t portal_confirm_hours = 0;
  // [remediation]
  int64_t remediation_fixed_after_cycles = 0;
  std::string remediation_cycle_source;
  std::vector<std::string> remediation_types;
  // [retention]
  int64_t retention_days = 0;
  // [log]
  std::string log_level;
  std::string log_format;
  // [integrations]
  bool integrations_enabled = true;
  int64_t integrations_poll_interval_ms = 0;
  int64_t integrations_max_attempts = 0;
  int64_t integrations_retry_initial_ms = 0;
  int64_t integrations_retry_max_s = 0;
  int64_t integrations_senders = 0;
  int64_t integrations_history_days = 0;
  std::string misp_org_name;
  // [cluster] (src/bus, `vantage cluster`)
  std::string cluster_role;
  std::string cluster_nats_urls;
  std::string cluster_stream;
  std::string cluster_subject_prefix;
  std::string cluster_consumer;
  int64_t cluster_replicas = 0;
  int64_t cluster_duplicate_window_s = 0;
  int64_t cluster_ack_wait_s = 0;
  bool cluster_ordered = true;
  int64_t cluster_fetch_batch = 0;
  int64_t cluster_publish_lines = 0;
  int64_t cluster_connect_attempts = 0;
};

enum class SettingType { kString, kPath, kInt, kBool, kStringList };

struct SettingInfo {
  std::string name;  // "section.key"
  SettingType type;
  std::string default_text;
  std::string description;
  bool secret = false;  // never printed
};

// Every declared setting, in declaration order.
const std::vector<SettingInfo>& settings();

// Defaults only.
Config defaults();

// Parses TOML text (unknown keys and invalid values are errors naming the setting), then
// applies environment overrides from `environ`-style "NAME=value" strings.
Result<Config> parse(std::string_view toml_text, const std::vector<std::string>& env);

// Loads `path` (a missing file means all defaults) and applies the process environment.
Result<Config> load(const std::string& path);

// "name = value" lines for `vantage config show` (secrets masked).
std::string show(const Config& c);
// Markdown reference generated from the declarations.
std::string reference_markdown();

}  // namespace vantage::config
