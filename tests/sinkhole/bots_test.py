#!/usr/bin/env python3
"""`vantage sinkhole` against synthetic bots on loopback, with the shipped example data
(conf/sinkhole): every family of families.json calls home through its sinkholed domain, every
shipped rule's request pattern (curl, Python sockets, `openssl s_client -servername`) is named
by its family, unknown requests are logged as "unknown", IPv6 clients give event6 rows, a
Referer gives a referer row; then hostile input -- malformed DNS packets (compression loops,
truncated labels, huge counts), HTTP garbage, a slowloris of 300 connections -- must not crash
it, must stay within bounded memory, and must be counted as malformed.

Usage: bots_test.py VANTAGE SOURCE_DIR
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def name_wire(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_query(qid, name, qtype=1):
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name_wire(name) + struct.pack(">HH", qtype, 1)


def udp_ask(port, payload, family=socket.AF_INET, host="127.0.0.1", wait=True):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(payload, (host, port))
    try:
        return s.recv(4096) if wait else b""
    except socket.timeout:
        return b""
    finally:
        s.close()


def tcp_send(port, payload, host="127.0.0.1", family=socket.AF_INET, read=True):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect((host, port))
    s.sendall(payload)
    got = b""
    if read:
        try:
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        except (socket.timeout, ConnectionResetError):
            pass
    s.close()
    return got


def curl(port, path, host_header, *extra, host="127.0.0.1"):
    url = f"http://{host}:{port}{path}" if ":" not in host else f"http://[{host}]:{port}{path}"
    r = subprocess.run(["curl", "-s", "-g", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                        "-H", f"Host: {host_header}", *extra, url],
                       capture_output=True, text=True)
    return r.stdout


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    vantage, source = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="vantage_sinkhole_bots_")
    os.chmod(tmp, 0o755)  # the sensor drops to `nobody` when the test runs as root
    conf = os.path.join(tmp, "conf")
    shutil.copytree(os.path.join(source, "conf", "sinkhole"), conf)
    inbox = os.path.join(tmp, "inbox")
    os.makedirs(inbox)
    os.chmod(inbox, 0o777)
    cfg = os.path.join(tmp, "vantage.toml")
    with open(cfg, "w") as f:
        f.write(f"""[sinkhole]
domains = "{conf}/domains.txt"
families = "{conf}/families.json"
rules = "{conf}/rules.json"
sensor_name = "bots-test"
idle_timeout_s = 1
session_timeout_s = 2
""")
    listen = ["dns=127.0.0.1:0", "http=127.0.0.1:0", "https=127.0.0.1:0", "tcp=127.0.0.1:0",
              "udp=127.0.0.1:0", "http=[::1]:0", "tcp=[::1]:0"]
    args = [vantage, "--config", cfg, "--data-dir", os.path.join(tmp, "data"), "sinkhole",
            "--inbox", inbox]
    for l in listen:
        args += ["--listen", l]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ports = {}
    deadline = time.time() + 20
    while len(ports) < len(listen) and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.match(r"sinkhole: (\S+) listening on (\S+):(\d+)", line)
        if m:
            ports[(m.group(1), "6" if m.group(2).startswith("[") else "4")] = int(m.group(3))
    check(len(ports) == len(listen), f"every service listens: {ports}")
    if len(ports) != len(listen):
        proc.kill()
        return 1
    http, https, dns = ports[("http", "4")], ports[("https", "4")], ports[("dns", "4")]
    expected = []  # (match on fields, expected family, what)

    # 1. Every family calls home through its sinkholed domain (GET /, no rule).
    families = json.load(open(os.path.join(conf, "families.json")))["families"]
    domains = {}
    for line in open(os.path.join(conf, "domains.txt")):
        m = re.match(r"domain\s+(\S+)\s+family=(\S+)", line)
        if m and m.group(2) not in domains:
            domains[m.group(2)] = m.group(1)
    for fam in families:
        name = fam["name"]
        if name == "unknown":
            continue
        check(name in domains, f"the example domains have one for {name}")
        if name in domains:
            host = "www." + domains[name]
            check(curl(http, "/", host) == "200", f"{name}: GET / to {host} answered")
            expected.append(({"http_host": host, "http_url": "/"}, name, f"{name} via its domain"))
            # And its DNS answer points at the sinkhole.
            reply = udp_ask(dns, dns_query(100, host))
            check(len(reply) > 12 and reply[3] & 0xF == 0 and struct.unpack(">H", reply[6:8])[0] >= 1,
                  f"{name}: {host} resolves at the sinkhole")

    # 2. Every shipped rule's request pattern, from a host no domain explains.
    other = "unlisted.example"
    curl(http, "/get.php?type=slg&id=4242", other)
    expected.append(({"http_url": "/get.php?type=slg&id=4242"}, "bebloh", "bebloh rule"))
    curl(http, "/b?ver=2&lg=en&phid=" + "A" * 64 + "&r=7", other)
    expected.append(({"http_url": "/b?ver=2&lg=en&phid=" + "A" * 64 + "&r=7"}, "bzub", "bzub rule"))
    curl(http, "/be/", other, "-X", "POST", "-H", "Cache-Control: no-cache", "--data",
         "id=x_0102ABCD&build_id=77")
    expected.append(({"http_url": "/be/"}, "blackenergy", "blackenergy rule"))
    curl(http, "/s.php?userid=12345678_abc", other)
    expected.append(({"http_url": "/s.php?userid=12345678_abc"}, "nethell", "nethell rule"))
    curl(http, "/search?q=17", "www.conficker-demo.test")
    expected.append(({"http_url": "/search?q=17"}, "conficker", "conficker rule"))
    curl(http, "/files/config.bin", other)
    expected.append(({"http_url": "/files/config.bin"}, "zeus", "zeus config rule"))
    rng = random.Random(1)
    body = bytes(rng.randrange(256) for _ in range(64))
    tcp_send(http, b"POST /panel/gate.php HTTP/1.1\r\nHost: " + other.encode() +
             b"\r\nContent-Length: 64\r\nConnection: close\r\n\r\n" + body)
    expected.append(({"http_url": "/panel/gate.php"}, "zeus", "zeus gate rule (python)"))
    curl(http, "/forum/db.php", other, "-X", "POST", "--data-binary", "\x01\x02")
    expected.append(({"http_url": "/forum/db.php"}, "necurs", "necurs rule"))
    curl(http, "/and/image.php", other, "-X", "POST", "--data", "aGVsbG8gd29ybGQhIQ==")
    expected.append(({"http_url": "/and/image.php"}, "andromeda", "andromeda rule"))
    curl(http, "/logo.gif?f63ac=-1836", "www.sality-demo.test")
    expected.append(({"http_url": "/logo.gif?f63ac=-1836"}, "sality", "sality rule"))
    curl(http, "/x7/q", "www.emotet-demo.test", "-X", "POST", "--data", "a=b%20c&d=3")
    expected.append(({"http_url": "/x7/q"}, "emotet", "emotet rule"))
    # HTTPS with SNI through openssl s_client.
    r = subprocess.run(["openssl", "s_client", "-quiet", "-connect", f"127.0.0.1:{https}",
                        "-servername", "www.dridex-demo.test"],
                       input=b"GET /dx HTTP/1.1\r\nHost: www.dridex-demo.test\r\nConnection: close\r\n\r\n",
                       capture_output=True, timeout=10)
    check(b"200 OK" in r.stdout, "openssl s_client: HTTPS answered")
    expected.append(({"http_url": "/dx", "ssl_servername": "www.dridex-demo.test",
                      "application": "https"}, "dridex", "dridex over HTTPS (SNI)"))
    # Raw first packets.
    tcp_send(ports[("tcp", "4")], b"\x00\x00\x00\x01\x04bot1", read=False)
    tcp_send(ports[("tcp", "4")], b"\x00\xff\x10\x00\x00\x00" + bytes(16), read=False)
    udp_ask(ports[("udp", "4")], b"\x13\x37unknown-protocol", wait=False)
    # IPv6 clients, an unknown request, a Referer from another site.
    curl(ports[("http", "6")], "/v6", "www.necurs-demo.test", host="::1")
    expected.append(({"http_url": "/v6"}, "necurs", "IPv6 client"))
    tcp_send(ports[("tcp", "6")], b"\x00\x00\x00\x01\x02v6", host="::1", family=socket.AF_INET6,
             read=False)
    curl(http, "/nothing-known", "nowhere.example")
    expected.append(({"http_url": "/nothing-known"}, "unknown", "unknown request, still logged"))
    curl(http, "/r", "www.zeus-demo.test", "-H", "Referer: http://192.0.2.44/compromised.html")

    # 3. Hostile input.
    pid = proc.pid
    rss_before = rss_kib(pid)
    rnd = random.Random(7)
    bad = [b"", b"\x00", bytes(11), dns_query(1, "a.test")[:15]]  # short, truncated label
    bad.append(struct.pack(">HHHHHH", 2, 0, 1, 0, 0, 0) + b"\xc0\x0c" + b"\0\1\0\1")  # loop
    bad.append(struct.pack(">HHHHHH", 3, 0, 1, 0, 0, 0) + b"\x01a\xc0\x0c" + b"\0\1\0\1")
    bad.append(struct.pack(">HHHHHH", 4, 0, 0xffff, 0xffff, 0xffff, 0xffff) + b"\x01a\0\0\1\0\1")
    bad.append(struct.pack(">HHHHHH", 5, 0, 1, 0, 0, 0) + b"\x3f" + b"a" * 10)  # label past end
    bad.append(struct.pack(">HHHHHH", 6, 0, 1, 0, 0, 0) + (b"\x3f" + b"a" * 63) * 5 + b"\0\0\1\0\1")
    bad += [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 600))) for _ in range(300)]
    for b in bad:
        udp_ask(dns, b, wait=False)
    for _ in range(50):
        tcp_send(http, bytes(rnd.randrange(1, 256) for _ in range(rnd.randrange(1, 3000))))
    # Slowloris: 300 connections sending a header line a byte at a time.
    slow = []
    for _ in range(300):
        s = socket.socket()
        s.connect(("127.0.0.1", http))
        s.sendall(b"GET / HTTP/1.1\r\nHost: slow.example\r\nX-a: ")
        slow.append(s)
    end = time.time() + 3
    while time.time() < end:
        for s in slow:
            try:
                s.send(b"a")
            except OSError:
                pass
        time.sleep(0.5)
    for s in slow:
        s.close()
    time.sleep(1.5)
    rss_after = rss_kib(pid)
    check(proc.poll() is None, "still running after the hostile input")
    check(rss_after - rss_before < 64 * 1024,
          f"memory bounded: RSS {rss_before} -> {rss_after} KiB")
    reply = udp_ask(dns, dns_query(9, "www.necurs-demo.test"))
    check(len(reply) > 12, "still answering DNS")

    # Status file: the counters of what was refused.
    time.sleep(5.5)  # written every 5 s
    status = json.load(open(os.path.join(tmp, "data", "sensors", "sinkhole", "status.json")))
    c = status["services"]["sinkhole"]["counters"]
    print("counters:", json.dumps(c))
    check(c["dns_formerr"] + c["dns_dropped"] + c["dns_notimp"] >= len(bad),
          f"every malformed DNS packet counted ({len(bad)} sent)")
    check(c["http_malformed"] >= 40, "HTTP garbage counted as malformed")
    check(c["http_incomplete"] >= 300, "slowloris connections counted as incomplete")
    check(status["services"]["sinkhole"]["aside"]["malformed_kept"] > 0, "malformed input kept aside")

    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    check(proc.returncode == 0, f"clean stop (exit {proc.returncode})")

    events = []
    for name in sorted(os.listdir(inbox)):
        with open(os.path.join(inbox, name)) as f:
            events += [json.loads(l) for l in f if l.strip()]
    by_type = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e["fields"])
    http_rows = by_type.get("event4_sinkhole_http", []) + by_type.get("event6_sinkhole_http", [])
    for match, family, what in expected:
        rows = [r for r in http_rows if all(r.get(k) == v for k, v in match.items())]
        check(len(rows) == 1 and rows[0].get("family") == family,
              f"{what}: family {family} (got {[r.get('family') for r in rows]})")
    raw = by_type.get("event4_sinkhole", []) + by_type.get("event6_sinkhole", [])
    fams = sorted(r["family"] for r in raw if r.get("dst_port") in (ports[("tcp", "4")], ports[("tcp", "6")], ports[("udp", "4")]))
    check(fams == ["mirai", "mirai", "ramnit", "unknown"], f"raw first packets: {fams}")
    check(any(r["src_ip"] == "::1" for r in by_type.get("event6_sinkhole_http", [])), "event6_sinkhole_http from ::1")
    check(any(r["src_ip"] == "::1" for r in by_type.get("event6_sinkhole", [])), "event6_sinkhole from ::1")
    ref = by_type.get("event4_sinkhole_http_referer", [])
    check(len(ref) == 1 and ref[0].get("http_referer_ip") == "192.0.2.44" and ref[0].get("family") == "zeus",
          f"referer row for the referring site: {ref}")
    garbage = [r for r in raw if r.get("dst_port") == http]
    check(len(garbage) >= 300, f"HTTP garbage and slowloris logged as raw events ({len(garbage)})")
    shutil.rmtree(tmp, ignore_errors=True)
    print("FAILED:" if FAILURES else "all passed", *FAILURES, sep="\n  ")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
