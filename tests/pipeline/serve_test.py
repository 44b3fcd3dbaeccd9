#!/usr/bin/env python3
"""`vantage serve` end to end (Python 3 standard library only): the HTTP push endpoint with an
ingest key and HMAC2, the inbox directory watch, /healthz and /metrics, and a clean stop on
SIGINT. Every request goes to 127.0.0.1 on a port the server picked itself.

Usage: serve_test.py VANTAGE_BINARY
"""
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

VANTAGE = sys.argv[1]
work = tempfile.mkdtemp(prefix="vantage-serve-")
data = os.path.join(work, "data")


def cli(*args):
    out = subprocess.run([VANTAGE, "--data-dir", data, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"vantage {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def push(base, key, secret, body, query="", mac=None):
    mac = mac or hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(base + "/ingest" + query, data=body, method="POST",
                                 headers={"X-Vantage-Key": key, "HMAC2": mac})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def main():
    cli("org", "add", "--name", "Serve test", "--short", "serve_org")
    cli("org", "resource", "add", "serve_org", "192.0.2.0/24")
    issued = cli("key", "issue", "--ingest", "--label", "test sensor")
    key = re.search(r"key:\s+(\S+)", issued).group(1)
    secret = re.search(r"secret:\s+(\S+)", issued).group(1)

    env = dict(os.environ, VANTAGE_PIPELINE_WATCH_INTERVAL_MS="100")
    proc = subprocess.Popen([VANTAGE, "--data-dir", data, "serve", "--listen", "127.0.0.1:0",
                             "--no-day-close"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        m = None
        for _ in range(100):  # log lines (spdlog writes to stdout) may come first
            line = proc.stdout.readline()
            m = re.search(r"listening (http://\S+) inbox=(\S+)", line)
            if m or not line:
                break
        assert m, "serve printed no 'listening' line"
        base, inbox = m.group(1), m.group(2)

        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            assert r.read() == b"ok\n"

        body = (b'{"type":"scan_http","timestamp":"2026-01-15 10:00:00","ip":"192.0.2.7","port":80}\n'
                b'{"type":"scan_http","timestamp":"2026-01-15 10:00:00","ip":"bad"}\n')
        status, answer = push(base, key, secret, body)
        assert status == 200 and answer == {"accepted": 1, "rejected": 1,
                                            "duplicate_body": False}, (status, answer)
        # A retry of the same body (lost acknowledgement) is recognised, not counted twice.
        status, answer = push(base, key, secret, body)
        assert status == 200 and answer["duplicate_body"] is True, answer
        # Wrong HMAC, unknown key, an API key instead of an ingest key: 401.
        assert push(base, key, secret, body, mac="0" * 64)[0] == 401
        assert push(base, "nope", secret, body)[0] == 401
        # CSV with an explicit type.
        csv = b'"timestamp","ip","port"\n"2026-01-15 11:00:00","192.0.2.8",22\n'
        status, answer = push(base, key, secret, csv, "?type=scan_ssh&format=csv")
        assert status == 200 and answer["accepted"] == 1, answer

        # The directory watch: a file dropped in is ingested once and moved to done/.
        tmp = os.path.join(inbox, "2026-01-15-scan_http-dropped-asn.csv.tmp")
        with open(tmp, "w") as f:
            f.write('"timestamp","ip","port"\n"2026-01-15 12:00:00","192.0.2.9",8080\n')
        os.rename(tmp, tmp[:-4])
        bad = os.path.join(inbox, "no-type-here.csv")
        with open(bad, "w") as f:
            f.write('"timestamp","ip"\n')
        deadline = time.time() + 30
        while time.time() < deadline:
            if os.path.exists(os.path.join(inbox, "done", os.path.basename(tmp[:-4]))) and \
               os.path.exists(os.path.join(inbox, "failed", "no-type-here.csv.error")):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"inbox not processed: {os.listdir(inbox)}")

        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
            metrics = r.read().decode()
        accepted = int(re.search(r"^vantage_events_accepted_total (\d+)$", metrics, re.M).group(1))
        assert accepted == 3, metrics
        # Every input is folded when it is done: nothing waits to be counted.
        unsettled = int(re.search(r"^vantage_store_unsettled_events (\d+)$", metrics, re.M).group(1))
        assert unsettled == 0, metrics
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    assert code == 0, f"serve exited with {code}"
    status = cli("status")
    assert "total: 3 accepted, 1 rejected" in status, status
    print("serve_test: push, duplicate push, bad keys, CSV push, inbox watch, metrics, clean stop: ok")
    print("1 passed, 0 failed")


try:
    main()
finally:
    shutil.rmtree(work, ignore_errors=True)
