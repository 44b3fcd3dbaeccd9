# Sourced by tests/scanner/probes_more_e2e.sh and bench/probe_more_bench.sh: the servers the
# scan types of branch scan-more are tested against, all started inside the target namespace
# $N (netns_bed.sh) on their well-known ports of $TA, in a private mount namespace (a tmpfs
# /run). Real Debian 12 servers: rsync (rsync --daemon), epmd with one Erlang node, Apache
# ActiveMQ (activemq), BIRD 2 (bird2), Dante (dante-server), Mosquitto (anonymous on 1883 and
# 8883/TLS, not on 1884), Samba as an AD DC (samba-ad-dc: the endpoint mapper on 135 and CLDAP
# on 389/udp), Kamailio over UDP. Scripted (tests/scanner/more_responders.py): AFP, ADB, Cisco
# Smart Install, Radmin, TR-069, Hadoop, Exchange OWA, an Exim 4.92.1 greeting (for the Exim
# checks), DB2, ARD, RDPEUDP, the Netis backdoor, and an ordinary web page on 80.
#
#   more_servers_start SRC      writes $T/services.sh and starts it in $N; returns at once
#   more_servers_wait SECONDS   waits until every server listens (sets MISSING to those that
#                               did not come up)
# Needs: T, N, TA, BED_PIDS (netns_bed.sh). Server processes are killed through $T/pids.

more_servers_start() {
  local src=$1
  mkdir -p "$T"/{rsync/pub,amq/data,amq/tmp,erl,bird,dc,mosq,kam}
  chown -R activemq "$T/amq" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 30 \
    -subj "/C=NL/O=Vantage Test/CN=probe.vantage.test" 2>/dev/null
  chmod 644 "$T/tls.key"
  FP=$(openssl x509 -in "$T/tls.crt" -noout -fingerprint -sha256 | cut -d= -f2)

  printf 'Welcome to the Vantage test mirror\n' >"$T/rsync/motd"
  cat >"$T/rsync/rsyncd.conf" <<EOF
use chroot = no
motd file = $T/rsync/motd
pid file = $T/rsync/rsyncd.pid
[pub]
  path = $T/rsync/pub
  comment = Public mirror
[backup]
  path = $T/rsync/pub
  comment = Nightly backups
  auth users = backup
  secrets file = $T/rsync/secrets
[hidden]
  path = $T/rsync/pub
  list = no
EOF
  cat >"$T/amq/activemq.xml" <<EOF
<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" persistent="false"
          brokerName="vantage" dataDirectory="$T/amq/data">
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://$TA:61616"/>
    </transportConnectors>
  </broker>
</beans>
EOF
  cat >"$T/bird/bird.conf" <<EOF
router id 192.0.2.179;
protocol device {}
protocol bgp vantage {
  local $TA as 65010;
  neighbor range ${TA%.*}.0/24 as 65020;
  passive on;
  ipv4 { import none; export none; };
}
EOF
  cat >"$T/danted.conf" <<EOF
logoutput: $T/danted.log
internal: $TA port = 1080
external: $TA
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
# Never relay anything: every SOCKS request is refused.
socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }
EOF
  cat >"$T/mosq/mosquitto.conf" <<EOF
per_listener_settings true
listener 1883 $TA
allow_anonymous true
listener 8883 $TA
certfile $T/tls.crt
keyfile $T/tls.key
allow_anonymous true
listener 1884 $TA
allow_anonymous false
EOF
  cat >"$T/kam/kamailio.cfg" <<EOF
#!KAMAILIO
debug=0
log_stderror=yes
children=1
listen=udp:$TA:5060
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "pv.so"
loadmodule "sl.so"
loadmodule "siputils.so"
server_header="Server: kamailio (vantage test)"
request_route {
  if (method=="OPTIONS") { options_reply(); exit; }
  sl_send_reply("404", "Not here");
}
EOF
  local erts
  erts=$(ls -d /usr/lib/erlang/erts-*/bin 2>/dev/null | head -1)
  cat >"$T/services.sh" <<EOF
mount -t tmpfs tmpfs /run && mkdir -p /run/samba /run/mosquitto
export PATH=\$PATH:/usr/sbin:/sbin TDB_NO_FSYNC=1
start() { "\$@" >>"$T/services.log" 2>&1 & echo \$! >>"$T/pids"; }
# Samba AD DC first: provisioning takes longest (CLDAP on 389/udp, endpoint mapper on 135).
( samba-tool domain provision --targetdir="$T/dc" --realm=VANTAGE.TEST --domain=VANTAGE \
    --adminpass='Vantage-Test-1!' --server-role=dc --dns-backend=NONE --host-name=vdc \
    --host-ip=$TA --option="interfaces=$TA" --option="bind interfaces only=yes" \
    --option="server services=rpc, ldap, cldap" >"$T/dc/provision.log" 2>&1 &&
  exec samba -i -M single -s "$T/dc/etc/smb.conf" ) >>"$T/services.log" 2>&1 & echo \$! >>"$T/pids"
start rsync --daemon --no-detach --address=$TA --port=873 --config="$T/rsync/rsyncd.conf"
start "$erts/epmd" -address 127.0.0.1,$TA
( sleep 0.5; HOME="$T/erl" exec erl -sname vantage_node -noshell -eval 'timer:sleep(infinity)' ) \
  >>"$T/services.log" 2>&1 & echo \$! >>"$T/pids"
# ActiveMQ's broker jar run directly as the activemq user (Debian's wrapper would su, leaving a
# JVM outside the process the test kills, and would impose a 512 MB heap).
start setpriv --reuid activemq --regid activemq --init-groups java -Xms64M -Xmx128M \
  -Djava.awt.headless=true -Djava.io.tmpdir="$T/amq/tmp" -Dactivemq.home=/usr/share/activemq \
  -Dactivemq.base="$T/amq" -Dactivemq.conf="$T/amq" -Dactivemq.data="$T/amq/data" \
  -Dactivemq.classpath="$T/amq" --add-reads=java.xml=java.logging \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED \
  --add-opens=java.base/java.security=ALL-UNNAMED --add-opens=java.naming/javax.naming.spi=ALL-UNNAMED \
  -jar /usr/share/activemq/bin/activemq.jar start xbean:file:$T/amq/activemq.xml
start bird -f -c "$T/bird/bird.conf" -s "$T/bird/bird.ctl" -P "$T/bird/bird.pid"
start danted -f "$T/danted.conf" -p "$T/danted.pid"
start mosquitto -c "$T/mosq/mosquitto.conf"
start kamailio -DD -E -f "$T/kam/kamailio.cfg" -P "$T/kam/pid" -Y "$T/kam"
start python3 "$src/tests/scanner/more_responders.py" "$T/ports" "$T/tls.crt" "$T/tls.key" \
  --host $TA --default-ports --seconds \${RESPONDER_SECONDS:-170}
touch "$T/started"
exec sleep \${RESPONDER_SECONDS:-170}  # the pid the test kills
EOF
  ip netns exec "$N" unshare -m --propagation private bash "$T/services.sh" & BED_PIDS+=($!)
}

# Listening checks, in the target namespace: "tcp PORT" or "udp PORT" per server.
MORE_LISTENERS="tcp:873 tcp:4369 tcp:61616 tcp:179 tcp:1080 tcp:1883 tcp:8883 tcp:1884 udp:5060
tcp:135 udp:389 tcp:25 tcp:548 tcp:5555 tcp:4786 tcp:4899 tcp:7547 tcp:50070 tcp:50075 tcp:443 tcp:80
udp:523 udp:3283 udp:3389 udp:53413"

more_servers_wait() {
  local deadline=$((SECONDS + $1)) l proto port
  MISSING=""
  for l in $MORE_LISTENERS; do
    proto=${l%:*} port=${l#*:}
    until ip netns exec "$N" ss -Hln${proto:0:1} "sport = :$port" | grep -q .; do
      ((SECONDS >= deadline)) && { MISSING="$MISSING $l"; break; }
      sleep 0.2
    done
  done
  # epmd knows the Erlang node once it has registered.
  until ip netns exec "$N" "$(ls -d /usr/lib/erlang/erts-*/bin | head -1)/epmd" -names 2>/dev/null |
    grep -q vantage_node; do
    ((SECONDS >= deadline)) && { MISSING="$MISSING epmd-node"; break; }
    sleep 0.2
  done
}
