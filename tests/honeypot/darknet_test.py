#!/usr/bin/env python3
"""The darknet (packet socket) in a private network namespace, probed with hping3 from a second
one: SYNs to unserved ports (also from a spoofed source), UDP datagrams, and traffic to ports
the honeypot's own services serve (HTTP 80/tcp, DNS 53/udp), which the darknet must leave to
them. Counts per source, port and protocol must equal what was sent; then IntelMQ's rules.

Usage: darknet_test.py VANTAGE_BINARY SOURCE_DIR   (exit 77 when not root)
"""
import collections
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hp_util  # noqa: E402
from hp_util import check  # noqa: E402

VANTAGE, SRC = sys.argv[1], sys.argv[2]
PID = os.getpid()
NS_HP, NS_ATK = f"vdk_hp{PID}", f"vdk_atk{PID}"
HP_IP, ATK_IP, SPOOFED = "10.78.0.1", "10.78.0.2", "10.99.2.7"


def sh(*cmd, ns=None, timeout=60):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)


def main():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("darknet_test: needs root for network namespaces and a packet socket; skipped")
        return 77
    if not shutil.which("hping3"):
        print("darknet_test: hping3 missing (scripts/install-deps.sh --test)")
        return 1
    work = hp_util.workdir("vantage_darknet_")
    try:
        sh("ip", "netns", "add", NS_HP)
        sh("ip", "netns", "add", NS_ATK)
        sh("ip", "link", "add", "vdk_h", "netns", NS_HP, "type", "veth", "peer", "vdk_a", "netns",
           NS_ATK)
        for ns, dev, ip in ((NS_HP, "vdk_h", HP_IP), (NS_ATK, "vdk_a", ATK_IP)):
            sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
            sh("ip", "addr", "add", ip + "/24", "dev", dev, ns=ns)
            sh("ip", "link", "set", dev, "up", ns=ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "route", "add", "10.99.0.0/16", "via", ATK_IP, ns=NS_HP)
        hp = hp_util.Honeypot(VANTAGE, work, [f"darknet={HP_IP}:0", f"http={HP_IP}:80",
                                              f"dns={HP_IP}:53"], netns=NS_HP,
                              env={"VANTAGE_HONEYPOT_DARKNET_INTERVAL_S": "2"})
        sent = collections.Counter()
        probes = [
            (["-S", "-p", "23", "-c", "5"], (ATK_IP, 23, "tcp"), True),
            (["-S", "-p", "445", "-c", "3"], (ATK_IP, 445, "tcp"), True),
            (["--udp", "-p", "5060", "-c", "2"], (ATK_IP, 5060, "udp"), True),
            (["-S", "-a", SPOOFED, "-p", "3389", "-c", "6"], (SPOOFED, 3389, "tcp"), True),
            (["-S", "-p", "80", "-c", "4"], (ATK_IP, 80, "tcp"), False),  # the http service's
            (["--udp", "-p", "53", "-c", "2"], (ATK_IP, 53, "udp"), False),  # the dns service's
        ]
        for args, key, counted in probes:
            r = sh("hping3", "-q", "-i", "u20000", *args, HP_IP, ns=NS_ATK)
            check(r.returncode in (0, 1), f"hping3 {' '.join(args)}")
            if counted:
                sent[key] += int(args[-1])
        time.sleep(2.5)  # an interval ends: its counts are reported
        hp.stop()
        status = hp.status()  # written once more as the sensor stops
        got = collections.Counter()
        events = hp.events("event4_honeypot_darknet")
        for e in events:
            f = e["fields"]
            check(f["dst_ip"] == HP_IP and f.get("src_port") is not None,
                  f"darknet event {f['src_ip']} -> {f['dst_port']}/{f['protocol']}: "
                  f"count {f['count']}")
            got[(f["src_ip"], int(f["dst_port"]), f["protocol"])] += int(f["count"])
        for key, n in sent.items():
            check(got.get(key) == n, f"{key}: {n} sent, {got.get(key)} counted")
        check(not any(k[1] in (80, 53) for k in got), "ports the services serve are theirs")
        dk = status.get("services", {}).get("darknet", {})
        check(dk.get("served", 0) >= 6, f"status: {dk.get('served')} packets to served ports")
        hp_util.intelmq_reports(VANTAGE, work, hp.inbox, ["10.78.0.0/24", "10.99.0.0/16"])
    finally:
        for ns in (NS_HP, NS_ATK):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return hp_util.finish()


if __name__ == "__main__":
    sys.exit(main())
