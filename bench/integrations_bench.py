#!/usr/bin/env python3
"""Push integrations benchmark (issue #21): alert latency under background load, and delivery
throughput per subscription kind. Everything on 127.0.0.1; Python 3 standard library, plus
Debian's rsyslogd for the syslog kind (skipped with a note where it is missing).

  latency     `vantage serve`; background load pushed to POST /ingest at --rate events/s
              (low-severity scan events of an organisation with no subscription: stored,
              folded and read past by the dispatcher, never delivered); every --probe-interval
              one critical event of another organisation whose webhook subscription has no
              batching window. Latency = from the start of the probe's POST /ingest to its
              receipt by the webhook receiver (signature checked), p50/p90/p99/max.
  throughput  per kind (webhook, syslog into rsyslogd, elastic _bulk, splunk HEC): --events
              events stored for a subscription created disabled (its cursor before them), then
              the subscription enabled; events/s = events / (last receipt - enable). Batches of
              --max-batch events. The receivers for webhook, _bulk and HEC are Python (they count,
              they do not validate): their cost is part of the figure.

Usage: integrations_bench.py VANTAGE_BINARY [--rate 10000] [--duration 60]
                             [--probe-interval 0.2] [--events 50000] [--max-batch 500]
                             [--post-events 2500] [--pushers 2] [--only latency|throughput]
"""
import argparse
import hashlib
import hmac
import http.server
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integrations"))
import harness  # noqa: E402

SECRET = "bench-signing-secret"


class CountingReceiver:
    """HTTP receiver for webhook, _bulk and HEC bodies; counts events and receipt times."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.last = 0.0
        self.probe_times = {}  # port -> receipt time (latency probes)
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.time()
                if self.path == "/hook":
                    if harness.verify_signature(SECRET, self.headers, body):
                        self.answer(401, b"{}")
                        return
                    n = body.count(b"\n")
                    for line in body.splitlines():
                        if b'"probe"' in line:
                            e = json.loads(line)
                            rec.probe_times[e["row"]["port"]] = now
                    answer = b'{"ok":true}'
                elif self.path == "/_bulk":
                    n = body.count(b"\n") // 2
                    items = ",".join(['{"create":{"status":201}}'] * n)
                    answer = ('{"took":1,"errors":false,"items":[' + items + "]}").encode()
                else:  # HEC
                    n = body.count(b'"event":')
                    answer = b'{"text":"Success","code":0}'
                with rec.lock:
                    rec.count += n
                    rec.last = now
                self.answer(200, answer)

            def answer(self, status, data):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def signed_push(base, key, secret, body):
    import urllib.request
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(base + "/ingest", data=body, method="POST",
                                 headers={"X-Vantage-Key": key, "HMAC2": mac})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status


def bench_latency(args, binary):
    v = harness.Vantage(binary, name="latency")
    rec = CountingReceiver()
    try:
        v.org("org_bg", "100.64.0.0/10")
        v.org("org_alert", "192.0.2.0/24")
        key, secret = v.key(ingest=True)
        v.subscribe("org_alert", "alerts", "webhook", f"http://127.0.0.1:{rec.port}/hook",
                    "--min-severity", "critical", "--window", "0", secret=SECRET)
        # A subscription on the background organisation too, above its events' severity: the
        # dispatcher reads every background event and delivers none.
        v.subscribe("org_bg", "bg", "webhook", f"http://127.0.0.1:{rec.port}/hook",
                    "--min-severity", "critical", secret=SECRET)
        # Default settings (poll 250 ms, retry 2 s): the service as an operator runs it.
        v.env = dict(os.environ)
        base = v.serve()
        stop = threading.Event()
        sent = [0]
        per_post = args.post_events
        threads = args.pushers

        def background(offset):
            n = offset
            interval = per_post * threads / args.rate
            next_at = time.time()
            while not stop.is_set():
                ts = harness.now_text()
                lines = []
                for _ in range(per_post):
                    n += threads
                    lines.append('{"type":"scan_http","timestamp":"%s","ip":"100.%d.%d.%d",'
                                 '"port":%d,"severity":"low","tag":"bg"}'
                                 % (ts, 64 + (n >> 24) % 64, (n >> 16) & 255, (n >> 8) & 255, n & 65535))
                try:
                    signed_push(base, key, secret, ("\n".join(lines) + "\n").encode())
                    sent[0] += per_post
                except OSError as e:
                    print("background push failed:", e, flush=True)
                next_at += interval
                delay = next_at - time.time()
                if delay > 0:
                    time.sleep(delay)

        workers = [threading.Thread(target=background, args=(i,), daemon=True) for i in range(threads)]
        start = time.time()
        for w in workers:
            w.start()
        time.sleep(3)  # load established
        probes = {}
        port = 20000
        end = time.time() + args.duration
        while time.time() < end:
            port += 1
            body = (json.dumps({"type": "scan_http", "timestamp": harness.now_text(),
                                "ip": f"192.0.2.{port % 250 + 1}", "port": port,
                                "severity": "critical", "tag": "probe"}) + "\n").encode()
            t0 = time.time()
            signed_push(base, key, secret, body)
            probes[port] = t0
            time.sleep(args.probe_interval)
        harness.wait_for(lambda: all(p in rec.probe_times for p in probes), timeout=120)
        stop.set()
        for w in workers:
            w.join(timeout=30)
        elapsed = time.time() - start
        lat = [(rec.probe_times[p] - t0) * 1000 for p, t0 in probes.items() if p in rec.probe_times]
        lost = len(probes) - len(lat)
        load = os.getloadavg()
        print(f"latency: background {sent[0] / elapsed:.0f} events/s pushed (target {args.rate}), "
              f"{len(lat)} probes, {lost} not received, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        if lat:
            print(f"latency: push -> webhook receipt p50 {pct(lat, 50):.0f} ms, p90 {pct(lat, 90):.0f} ms, "
                  f"p99 {pct(lat, 99):.0f} ms, max {max(lat):.0f} ms, mean {statistics.mean(lat):.0f} ms")
        v.stop()
    finally:
        rec.stop()
        v.cleanup()


def start_rsyslog(root):
    port = harness.free_port()
    d = os.path.join(root, "rsyslog")
    os.makedirs(os.path.join(d, "work"), exist_ok=True)
    with open(os.path.join(d, "rsyslog.conf"), "w") as f:
        f.write(f'''global(workDirectory="{d}/work" maxMessageSize="64k")
module(load="imptcp")
input(type="imptcp" address="127.0.0.1" port="{port}" ruleset="r")
ruleset(name="r") {{ action(type="omfile" file="{d}/out.log") }}
''')
    proc = subprocess.Popen(["rsyslogd", "-n", "-f", f"{d}/rsyslog.conf", "-i", f"{d}/pid"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    harness.wait_for(up, timeout=20)
    return proc, port, os.path.join(d, "out.log")


def count_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def bench_throughput(args, binary):
    v = harness.Vantage(binary, name="throughput")
    rec = CountingReceiver()
    rsyslog = None
    try:
        key, secret = v.key(ingest=True)
        kinds = [("webhook", f"http://127.0.0.1:{rec.port}/hook", ["--secret-file"]),
                 ("elastic", f"http://127.0.0.1:{rec.port}", []),
                 ("splunk", f"http://127.0.0.1:{rec.port}", [])]
        if shutil.which("rsyslogd"):
            rsyslog, sport, slog = start_rsyslog(v.root)
            kinds.insert(1, ("syslog", f"127.0.0.1:{sport}", []))
        else:
            print("throughput: syslog skipped (rsyslogd not installed)")
        subs = {}
        for i, (kind, address, _) in enumerate(kinds):
            org = f"org_{kind}"
            v.org(org, f"10.{i}.0.0/16")
            extra = ["--option", "tls=false"] if kind == "syslog" else []
            sub, _ = v.subscribe(org, kind, kind, address, "--min-severity", "info", "--window", "0",
                                 "--max-batch", str(args.max_batch), "--disabled", *extra,
                                 secret=SECRET if kind != "syslog" else None)
            subs[kind] = sub
        base = v.serve()
        for i, (kind, _, _) in enumerate(kinds):
            ts = harness.now_text()
            for chunk in range(0, args.events, 5000):
                lines = ['{"type":"scan_http","timestamp":"%s","ip":"10.%d.%d.%d","port":%d,'
                         '"severity":"high","tag":"bench"}'
                         % (ts, i, (n >> 8) & 255, n & 255, 1 + n // 65536)
                         for n in range(chunk, min(args.events, chunk + 5000))]
                signed_push(base, key, secret, ("\n".join(lines) + "\n").encode())
        time.sleep(2)
        for kind, _, _ in kinds:
            before = count_lines(slog) if kind == "syslog" else rec.count
            t0 = time.time()
            v.cli("subscription", "set", str(subs[kind]), "--enable")
            if kind == "syslog":
                done = harness.wait_for(lambda: count_lines(slog) - before >= args.events, timeout=600, step=0.2)
                t1 = os.path.getmtime(slog)
                got = count_lines(slog) - before
            else:
                done = harness.wait_for(lambda: rec.count - before >= args.events, timeout=600, step=0.05)
                t1 = rec.last
                got = rec.count - before
            v.cli("subscription", "set", str(subs[kind]), "--disable")
            load = os.getloadavg()
            print(f"throughput: {kind:8s} {got} events in {t1 - t0:.2f} s = {got / (t1 - t0):.0f} "
                  f"events/s (batches of {args.max_batch}{'' if done else ', INCOMPLETE'}), "
                  f"load average {load[0]:.2f}")
        v.stop()
    finally:
        rec.stop()
        if rsyslog:
            rsyslog.send_signal(signal.SIGTERM)
            rsyslog.wait(timeout=20)
        v.cleanup()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vantage")
    p.add_argument("--rate", type=int, default=10000)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--probe-interval", type=float, default=0.2)
    p.add_argument("--events", type=int, default=50000)
    p.add_argument("--max-batch", type=int, default=500)
    p.add_argument("--post-events", type=int, default=2500, help="background events per POST")
    p.add_argument("--pushers", type=int, default=2, help="background POST threads")
    p.add_argument("--only", choices=["latency", "throughput"])
    args = p.parse_args()
    print(f"integrations_bench: {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.only in (None, "latency"):
        bench_latency(args, args.vantage)
    if args.only in (None, "throughput"):
        bench_throughput(args, args.vantage)


main()
