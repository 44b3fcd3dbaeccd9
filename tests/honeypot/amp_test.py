#!/usr/bin/env python3
"""The UDP amplification honeypot with real tools and a spoofed flood.

1. Tools (127.0.0.1, attack threshold 1 so one request is reported): dig (A, and ANY over
   UDP), snmpget / snmpbulkget, scapy's NTP mode 7 monlist and mode 6 readvar, an SSDP
   M-SEARCH, memcached "stats", chargen and a CLDAP rootDSE search (socat) -- each tool gets its
   answer, and each service reports one event4_honeypot_ddos_amp event with the request.
2. Flood (root): the honeypot in one network namespace, an attacker in another (veth between,
   addresses inside the namespaces only). The attacker sends, with scapy, requests whose source
   is spoofed to three victims, to every amplification service; one victim also only scans.
   Exactly one event per victim and service with the right count and bytes; the scan none;
   the bytes the honeypot sent back (the veth's tx counter) stay within the configured budget.
Then IntelMQ's rules over the reports built from all events.

Usage: amp_test.py VANTAGE_BINARY SOURCE_DIR   (exit 77 when not root: namespaces need it)
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hp_util  # noqa: E402
from hp_util import check  # noqa: E402

VANTAGE, SRC = sys.argv[1], sys.argv[2]
PY = "/usr/bin/python3"  # Debian's, with python3-scapy
PID = os.getpid()
NS_HP, NS_ATK = f"vamp_hp{PID}", f"vamp_atk{PID}"
HP_IP, ATK_IP = "10.77.0.1", "10.77.0.2"
VICTIMS = ["10.99.0.11", "10.99.0.12", "10.99.0.13"]
SCANNER = "10.99.0.50"
FLOOD = 150  # requests per victim and service
BUDGET_REPLIES, BUDGET_BYTES = 5, 4096

# The requests attack tools send, by service: (port, payload, summary the event names).
def _hex(text):
    return bytes.fromhex(text.replace(" ", ""))


REQUESTS = {
    # ANY isc.org with EDNS (4096), as DNS amplification tools send it.
    "dns": (53, _hex("abcd 0100 0001 0000 0000 0001 03697363 036f7267 00 00ff 0001"
                     " 00 0029 1000 00000000 0000"), "ANY isc.org"),
    "ntp": (123, _hex("17 00 03 2a 00000000"), "monlist"),
    "ssdp": (1900, b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n'
                   b'MAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n',
             "M-SEARCH ssdp:all"),
    "chargen": (19, b"\x01", "chargen 1 bytes"),
    # GetBulk, community public, 1.3.6.1.2.1, max-repetitions 20.
    "snmp": (161, _hex("3026 020101 0406 7075626c6963 a519 0204 00000007 020100 020114"
                       " 300b 3009 0605 2b06010201 0500"), "v2c getbulk public 1.3.6.1.2.1"),
    "memcached": (11211, _hex("0001 0000 0001 0000") + b"stats\r\n", "stats"),
    # searchRequest base "" (rootDSE), filter (objectclass=*).
    "cldap": (389, _hex("3025 020101 6320 0400 0a0100 0a0100 020100 020100 010100"
                        " 870b 6f626a656374636c617373 3000"), "searchRequest rootDSE"),
}


def sh(*cmd, check_rc=True, **kw):
    r = subprocess.run(list(cmd), capture_output=True, text=True, **kw)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
    return r


def tools_phase(work):
    print("== tools against 127.0.0.1")
    names = list(REQUESTS)
    hp = hp_util.Honeypot(VANTAGE, work, [f"{n}=127.0.0.1:0" for n in names],
                          env={"VANTAGE_HONEYPOT_AMP_ATTACK_MIN_REQUESTS": "1",
                               "VANTAGE_HONEYPOT_AMP_ATTACK_IDLE_S": "1",
                               "VANTAGE_HONEYPOT_AMP_REPLIES_PER_MINUTE": "20",
                               "VANTAGE_HONEYPOT_AMP_REPLY_BYTES_PER_MINUTE": "100000"})
    p = hp.ports
    r = sh("dig", "+tries=1", "+time=3", "@127.0.0.1", "-p", str(p["dns"]), "A", "example.com")
    check("192.0.2.1" in r.stdout, "dig A example.com: answered")
    r = sh("dig", "+tries=1", "+time=3", "+notcp", "@127.0.0.1", "-p", str(p["dns"]), "ANY",
           "isc.org")
    check("ANSWER: 6" in r.stdout, "dig +notcp ANY isc.org: six records")
    r = sh("snmpget", "-v2c", "-c", "public", "-t", "3", "-r", "0", f"127.0.0.1:{p['snmp']}",
           "1.3.6.1.2.1.1.1.0", check_rc=False)
    check("Linux gw-edge-01" in r.stdout, "snmpget sysDescr.0: answered")
    r = sh("snmpbulkget", "-v2c", "-c", "public", "-Cr10", "-t", "3", "-r", "0",
           f"127.0.0.1:{p['snmp']}", "1.3.6.1.2.1.1", check_rc=False)
    check(r.stdout.count("\n") >= 7, "snmpbulkget: the system group")
    scapy = f"""
import sys
from scapy.all import NTP, NTPPrivate, NTPControl, raw
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(raw(NTPPrivate(mode=7, implementation='XNTPD', request_code='REQ_MON_GETLIST_1')),
         ('127.0.0.1', {p['ntp']}))
r = NTP(s.recv(4096)); print('monlist', len(r), r.nb_items)
s.sendto(raw(NTPControl(op_code=2)), ('127.0.0.1', {p['ntp']}))
r = NTP(s.recv(4096)); print('readvar', r.op_code, bytes(r.data)[:12])
"""
    r = sh(PY, "-c", scapy, check_rc=False)
    check("monlist 440 6" in r.stdout, f"scapy NTP monlist: 6 entries ({r.stdout.strip()}"
                                       f"{r.stderr.strip()[-200:]})")
    check("readvar" in r.stdout and "version=" in r.stdout, "scapy NTP mode 6 readvar: answered")
    for name, want in (("ssdp", b"HTTP/1.1 200 OK"), ("memcached", b"STAT pid"),
                       ("chargen", b"!\"#$%"), ("cldap", b"defaultNamingContext")):
        payload = REQUESTS[name][1]
        r = subprocess.run(["socat", "-t", "2", "-", f"UDP:127.0.0.1:{p[name]}"], input=payload,
                           capture_output=True, timeout=10)
        check(want in r.stdout, f"socat {name}: answered ({len(r.stdout)} bytes)")
    time.sleep(2.5)  # idle: every "attack" (one request) ends
    hp.stop()
    by_service = {}
    for e in hp.events("event4_honeypot_ddos_amp"):
        by_service.setdefault(e["fields"]["application"], []).append(e["fields"])
    want = {"dns": {"A example.com", "ANY isc.org"}, "ntp": {"monlist"},
            "snmp": {"v2c get public 1.3.6.1.2.1.1.1.0", "v2c getbulk public 1.3.6.1.2.1.1"},
            "ssdp": {"M-SEARCH ssdp:all"}, "memcached": {"stats"}, "chargen": {"chargen 1 bytes"},
            "cldap": {"searchRequest rootDSE"}}
    for name, requests in want.items():
        got = by_service.get(name, [])
        # One source (127.0.0.1) per service: the first request names the event.
        check(len(got) == 1 and got[0]["request"] in requests and got[0]["src_ip"] == "127.0.0.1"
              and int(got[0]["dst_port"]) == p[name],
              f"{name}: one ddos_amp event with its request ({[g['request'] for g in got]})")
    return hp


def counters(dev):
    base = f"/sys/class/net/{dev}/statistics/"
    out = sh("ip", "netns", "exec", NS_HP, "cat", base + "tx_bytes", base + "tx_packets").stdout
    tx_bytes, tx_packets = out.split()
    return int(tx_bytes), int(tx_packets)


def netns_up():
    sh("ip", "netns", "add", NS_HP)
    sh("ip", "netns", "add", NS_ATK)
    sh("ip", "link", "add", "vamp_h", "netns", NS_HP, "type", "veth", "peer", "vamp_a", "netns",
       NS_ATK)
    for ns, dev, ip in ((NS_HP, "vamp_h", HP_IP), (NS_ATK, "vamp_a", ATK_IP)):
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", ip + "/24", "dev", dev)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", dev, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
    # Replies to the (spoofed) victims go to the attacker's side of the veth, where they are
    # dropped: they cross the honeypot's interface, whose counters measure them.
    sh("ip", "netns", "exec", NS_HP, "ip", "route", "add", "10.99.0.0/24", "via", ATK_IP)


def netns_down():
    for ns in (NS_HP, NS_ATK):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def flood_phase(work):
    print("== spoofed flood between network namespaces")
    netns_up()
    names = list(REQUESTS)
    hp = hp_util.Honeypot(VANTAGE, work, [f"{n}={HP_IP}:{REQUESTS[n][0]}" for n in names],
                          netns=NS_HP,
                          env={"VANTAGE_HONEYPOT_AMP_ATTACK_MIN_REQUESTS": "100",
                               "VANTAGE_HONEYPOT_AMP_ATTACK_IDLE_S": "2",
                               "VANTAGE_HONEYPOT_AMP_REPLIES_PER_MINUTE": str(BUDGET_REPLIES),
                               "VANTAGE_HONEYPOT_AMP_REPLY_BYTES_PER_MINUTE": str(BUDGET_BYTES)})
    # Warm the neighbour entries first so the counters see only the replies.
    sh("ip", "netns", "exec", NS_ATK, "ping", "-c", "1", "-W", "2", HP_IP, check_rc=False)
    tx0, pk0 = counters("vamp_h")
    spec = [(v, n) for v in VICTIMS for n in names]
    reqs = {n: (REQUESTS[n][0], REQUESTS[n][1].hex()) for n in names}
    scapy = f"""
from scapy.all import IP, UDP, Raw, send, conf
import random
conf.verb = 0
reqs = {{n: (p, bytes.fromhex(h)) for n, (p, h) in {reqs!r}.items()}}
pkts = []
for victim, name in {spec!r}:
    port, payload = reqs[name]
    for i in range({FLOOD}):
        pkts.append(IP(src=victim, dst="{HP_IP}") / UDP(sport=random.randint(1024, 65535),
                                                        dport=port) / Raw(payload))
for i in range(10):  # a scanner: below the attack threshold
    pkts.append(IP(src="{SCANNER}", dst="{HP_IP}") / UDP(sport=40000 + i, dport=53) /
                Raw(reqs["dns"][1]))
random.shuffle(pkts)
send(pkts, iface="vamp_a", inter=0)
print(len(pkts))
"""
    t0 = time.time()
    r = sh("ip", "netns", "exec", NS_ATK, PY, "-c", scapy, check_rc=False, timeout=120)
    sent = int(r.stdout.strip() or 0)
    check(sent == len(spec) * FLOOD + 10,
          f"scapy sent {sent} spoofed requests in {time.time() - t0:.1f} s {r.stderr[-300:]}")
    time.sleep(4)  # > attack_idle: every attack ends and is reported
    tx1, pk1 = counters("vamp_h")
    hp.stop()
    status = hp.status()  # written once more as the sensor stops
    events = hp.events("event4_honeypot_ddos_amp")
    seen = {}
    for e in events:
        f = e["fields"]
        seen.setdefault((f["src_ip"], f["application"]), []).append(f)
    check(len(events) == len(spec), f"{len(events)} ddos_amp events for {len(spec)} "
                                    f"(victim, service) attacks")
    for victim, name in spec:
        port, payload, summary = REQUESTS[name]
        got = seen.get((victim, name), [])
        size = len(payload)
        ok = len(got) == 1 and int(got[0]["count"]) == FLOOD and \
            int(got[0]["bytes"]) == FLOOD * size and got[0]["request"] == summary and \
            int(got[0]["dst_port"]) == port and got[0]["dst_ip"] == HP_IP and \
            float(got[0]["max_pps"]) >= 1 and float(got[0]["avg_pps"]) > 0
        check(ok, f"{victim} via {name}: one event, count {FLOOD}, bytes {FLOOD * size} "
                  f"({[(g['count'], g['bytes'], g['request']) for g in got]})")
    check(not any(ip == SCANNER for ip, _ in seen), "the scanner (10 requests) is no attack")
    # Budget: per victim and service at most BUDGET_REPLIES replies and BUDGET_BYTES bytes of
    # payload; on the wire each packet adds Ethernet (14), IP (20) and UDP (8) headers.
    sent_bytes, sent_packets = tx1 - tx0, pk1 - pk0
    sources = len(spec) + 1
    bound = sources * (BUDGET_BYTES + BUDGET_REPLIES * 42) + 10 * 64  # + a few ARP/ICMP
    print(f"  veth tx: {sent_bytes} bytes in {sent_packets} packets; budget bound {bound} bytes; "
          f"requests received {FLOOD * len(spec) + 10}")
    check(sent_bytes <= bound, f"bytes sent back ({sent_bytes}) within the budget ({bound})")
    check(sent_packets <= sources * BUDGET_REPLIES + 10,
          f"replies sent back ({sent_packets}) within {BUDGET_REPLIES} per source and service")
    svc = status.get("services", {})
    suppressed = sum(s.get("suppressed", 0) for s in svc.values())
    check(suppressed >= len(spec) * (FLOOD - BUDGET_REPLIES),
          f"requests left unanswered over the budget: {suppressed}")
    return hp


def main():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("amp_test: needs root and iproute2 for network namespaces; skipped")
        return 77
    r = subprocess.run([PY, "-c", "import scapy"], capture_output=True)
    if r.returncode != 0:
        print("amp_test: python3-scapy missing (scripts/install-deps.sh --test)")
        return 1
    work = hp_util.workdir("vantage_amp_")
    try:
        os.makedirs(os.path.join(work, "tools"))
        os.makedirs(os.path.join(work, "flood"))
        os.chmod(os.path.join(work, "tools"), 0o755)
        os.chmod(os.path.join(work, "flood"), 0o755)
        a = tools_phase(os.path.join(work, "tools"))
        b = flood_phase(os.path.join(work, "flood"))
        # Both inboxes' events into one pipeline: an organisation owns the victims' range and
        # the loopback.
        merged = os.path.join(work, "inbox")
        os.makedirs(merged)
        for inbox in (a.inbox, b.inbox):
            for f in os.listdir(inbox):
                if f.endswith(".jsonl"):
                    shutil.copy(os.path.join(inbox, f), os.path.join(merged, os.path.basename(
                        inbox.rstrip("/").rsplit("/", 2)[-2]) + "-" + f))
        hp_util.intelmq_reports(VANTAGE, work, merged, ["10.99.0.0/24", "127.0.0.0/8"])
    finally:
        netns_down()
        shutil.rmtree(work, ignore_errors=True)
    return hp_util.finish()


if __name__ == "__main__":
    sys.exit(main())
