#!/usr/bin/env python3
"""Hostile input against the scan honeypots (127.0.0.1 only): garbage, half-open connections
and requests cut short, slowloris, an oversized header line, an oversized datagram, and 10,000
concurrent idle connections. Nothing may crash, memory stays bounded (the honeypot's RSS per
idle connection is measured and printed), every connection closed by a bound is closed, and
nothing that was logged is lost (events shipped = connections that sent something; the journal
counts no loss).

Usage: bad_input_test.py VANTAGE_BINARY SOURCE_DIR
"""
import os
import random
import resource
import shutil
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hp_util  # noqa: E402
from hp_util import check  # noqa: E402

VANTAGE, SRC = sys.argv[1], sys.argv[2]
IDLE = 10000
TCP = ["http", "rdp", "smb", "adb", "modbus", "s7"]


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def closed_by_peer(s, within):
    """True when the honeypot closes `s` within `within` seconds (it may answer first)."""
    s.settimeout(within)
    deadline = time.time() + within
    try:
        while time.time() < deadline:
            data = s.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True  # closed with our bytes unread
    except socket.timeout:
        return False
    return False


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < IDLE + 500:
        print(f"bad_input_test: descriptor limit {hard} < {IDLE + 500}; skipped")
        return 77
    resource.setrlimit(resource.RLIMIT_NOFILE, (IDLE + 500, hard))
    work = hp_util.workdir("vantage_badinput_")
    random.seed(7)
    expected = 0  # connections or datagrams that must each leave one event
    try:
        hp = hp_util.Honeypot(VANTAGE, work, [f"{s}=127.0.0.1:0" for s in TCP] + ["dns=127.0.0.1:0"],
                              env={"VANTAGE_HONEYPOT_IDLE_TIMEOUT_S": "2",
                                   "VANTAGE_HONEYPOT_SESSION_TIMEOUT_S": "5",
                                   "VANTAGE_HONEYPOT_MAX_CONNECTIONS": str(IDLE + 1000)})
        p = hp.ports
        # 1. Garbage: every service logs the bytes and closes (or times out).
        for name in TCP:
            for i in range(3):
                s = connect(p[name])
                s.sendall(bytes(random.getrandbits(8) for _ in range(2048)))
                closed = closed_by_peer(s, 4)
                s.close()
                expected += 1
                check(closed, f"{name}: garbage #{i + 1} closed by the honeypot")
        # 2. Half a request, then the client leaves (half-open from its side).
        halves = {"http": b"GET /half HTTP/1.1\r\nHost: x", "rdp": bytes.fromhex("0300002a25e0"),
                  "smb": bytes.fromhex("000000a0ff534d42"), "adb": b"CNXN\x01\x00",
                  "modbus": bytes.fromhex("00010000000601"), "s7": bytes.fromhex("03000016")}
        for name, half in halves.items():
            s = connect(p[name])
            s.sendall(half)
            s.shutdown(socket.SHUT_WR)
            time.sleep(0.1)
            s.close()
            expected += 1
        # 3. Slowloris: a header byte every 0.4 s keeps it from going idle; the session bound
        #    (5 s) ends it, and what it sent is logged.
        s = connect(p["http"])
        s.sendall(b"GET /slow HTTP/1.1\r\n")
        start = time.time()
        try:
            while time.time() - start < 9:
                s.sendall(b"X")
                time.sleep(0.4)
        except (BrokenPipeError, ConnectionResetError):
            pass
        took = time.time() - start
        s.close()
        expected += 1
        check(took < 8, f"slowloris closed by the session bound after {took:.1f} s")
        # 4. An oversized header line (no line end in 200 KiB): refused at the parser's head
        #    bound (16 KiB), logged as malformed with its first bytes.
        s = connect(p["http"])
        try:
            s.sendall(b"GET /" + b"A" * 200000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        check(closed_by_peer(s, 4), "oversized line: closed at the head bound")
        s.close()
        expected += 1
        # 5. An oversized datagram (cut at 9,216 bytes) and garbage to the DNS amplifier: no
        #    reply, counted.
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(0.5)
        for payload in (b"\x00" * 20000, b"\xff" * 50):
            u.sendto(payload, ("127.0.0.1", p["dns"]))
            try:
                u.recv(4096)
                check(False, "the DNS honeypot answered a non-query")
            except socket.timeout:
                pass
        u.close()
        # 6. 10,000 concurrent idle connections, each having sent half a request.
        time.sleep(2.5)  # the connections above are gone
        base = rss_kib(hp.proc.pid)
        socks = []
        t0 = time.time()
        for i in range(IDLE):
            s = socket.socket()
            s.connect(("127.0.0.1", p["http"]))
            s.sendall(b"GET /idle HTTP/1.1\r\n")
            socks.append(s)
        time.sleep(0.5)
        held = rss_kib(hp.proc.pid)
        per = (held - base) * 1024 / IDLE
        print(f"  {IDLE} idle connections in {time.time() - t0:.1f} s: RSS {base} -> {held} KiB,"
              f" {per:.0f} bytes per idle connection")
        check(per < 4096, f"bounded memory: {per:.0f} bytes per idle connection (< 4 KiB)")
        # The idle bound closes them all; each logged once (http-incomplete).
        time.sleep(3)
        open_still = 0
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) != b"":
                    open_still += 1
            except BlockingIOError:
                open_still += 1
            except (ConnectionResetError, OSError):
                pass
            s.close()
        check(open_still == 0, f"idle connections closed by the honeypot ({open_still} still open)")
        expected += IDLE
        check(hp.proc.poll() is None, "the honeypot is still running")
        hp.stop()
        status = hp.status()
        events = hp.events()
        check(len(events) == expected,
              f"one event per connection that sent something: {len(events)} of {expected}")
        check(status["journal"]["records_lost"] == 0, "journal: no record lost")
        closed = status["tcp"]["closed"]
        check(closed.get("idle_timeout", 0) >= IDLE, f"closed by the idle bound: {closed}")
        check(closed.get("session_timeout", 0) >= 1, "the session bound fired (slowloris)")
        tags = {}
        for e in events:
            t = e["fields"].get("tag", "")
            tags[t] = tags.get(t, 0) + 1
        print(f"  tags: {tags}")
        check(tags.get("http-incomplete", 0) == IDLE + 2 and tags.get("http-malformed", 0) == 4,
              "cut-short (idle, half, slowloris) and garbage/oversized requests logged as such")
        check(status["services"]["dns"]["not_requests"] == 2, "datagrams that are no query counted")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return hp_util.finish()


if __name__ == "__main__":
    sys.exit(main())
