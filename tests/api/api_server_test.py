#!/usr/bin/env python3
"""`vantage api serve` over TLS, and immediate key revocation, with the stdlib client.

  api_server_test.py tls VANTAGE      HTTPS with a self-signed certificate made at test time
                                      (openssl req -x509): HMAC-signed calls, a download, a
                                      wrong signature; a plain-HTTP request to the TLS port
                                      gets no HTTP answer; a client that does not trust the
                                      certificate is refused.
  api_server_test.py revoke VANTAGE   a key revoked (or rotated without overlap) through the
                                      CLI while the server runs fails on the very next call,
                                      although the server caches key lookups.

Everything runs on 127.0.0.1 with port 0; every wait is bounded.
"""
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DAY = "2026-01-15"
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(vantage, data, *args):
    return subprocess.run([vantage, "--data-dir", data, *args], check=True, capture_output=True,
                          text=True, timeout=120).stdout


def issue(vantage, data, org):
    out = run(vantage, data, "key", "issue", org)
    return (re.search(r"^key:\s+(\S+)", out, re.M).group(1),
            re.search(r"^secret:\s+(\S+)", out, re.M).group(1))


def seed(vantage, work):
    """A small data dir with reports; returns (data dir, organisations that got reports)."""
    data = os.path.join(work, "d")
    run(vantage, data, "generate", "--registry-only", "--orgs", "10", "--seed", "5")
    feed = os.path.join(work, "feed.jsonl")
    run(vantage, data, "generate", "-n", "3000", "--seed", "5", "--date", DAY, "-o", feed)
    run(vantage, data, "ingest", "-q", feed)
    built = run(vantage, data, "report", "build", "--date", DAY)
    orgs = sorted({re.match(r"\d{4}-\d{2}-\d{2}-[^-]+-([^-]+)-", os.path.basename(
        line.split("\t")[0])).group(1) for line in built.splitlines() if line.strip()})
    return data, orgs


def start(vantage, data, *extra):
    server = subprocess.Popen([vantage, "--data-dir", data, "api", "serve", "--listen",
                               "127.0.0.1:0", *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = server.stdout.readline()  # the server prints it once it listens
    m = re.search(r"api=[^:]+:(\d+) download_prefix=(\S+)", line)
    if not m:
        server.kill()
        raise SystemExit(f"server did not announce its port: {line!r}")
    return server, int(m.group(1)), m.group(2)


def stop(server):
    if server:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def call(base, key, secret, method, params=None, context=None, sig=None):
    """One api2 call the way call-api.py makes it; returns (status, parsed body)."""
    body = json.dumps({**(params or {}), "apikey": key}).encode()
    req = urllib.request.Request(base + "/api2/" + method, data=body)
    req.add_header("HMAC2", sig or hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
    try:
        with urllib.request.urlopen(req, timeout=20, context=context) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def test_tls(vantage, work):
    data, orgs = seed(vantage, work)
    check(len(orgs) >= 1, "some organisation got reports")
    key, secret = issue(vantage, data, orgs[0])
    cert, pkey = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", pkey,
                    "-out", cert], check=True, capture_output=True, timeout=60)
    server = None
    try:
        server, port, prefix = start(vantage, data, "--tls-cert", cert, "--tls-key", pkey)
        base = f"https://127.0.0.1:{port}"
        ctx = ssl.create_default_context(cafile=cert)  # trusts exactly this certificate
        status, pong = call(base, key, secret, "test/ping", context=ctx)
        check(status == 200 and "pong" in pong, f"ping over HTTPS: {status} {pong}")
        status, info = call(base, key, secret, "key/info", context=ctx)
        check(status == 200 and info[0]["user"] == orgs[0], f"key/info over HTTPS: {info}")
        list_status, lst = call(base, key, secret, "reports/list", {"date": DAY}, context=ctx)
        check(list_status == 200 and len(lst) >= 1 and all(e["report"] == orgs[0] for e in lst),
              f"reports/list over HTTPS: {list_status} {str(lst)[:200]}")
        status, _ = call(base, key, secret, "reports/list", context=ctx, sig="0" * 64)
        check(status == 401, f"wrong HMAC over HTTPS -> {status}")
        if list_status == 200 and lst:
            req = urllib.request.Request(base + prefix + lst[0]["id"],
                                         headers={"Accept-Encoding": "identity"})
            with urllib.request.urlopen(req, timeout=20, context=ctx) as r:
                payload = r.read()
                check(r.status == 200 and payload.startswith(b'"timestamp"') and
                      int(r.headers["Content-Length"]) == len(payload), "download over HTTPS")

        # Plain HTTP to the TLS port: the server expects a ClientHello, so no HTTP answer.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /api2/test/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            got = b""
            try:
                while len(got) < 65536:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            check(not got.startswith(b"HTTP/"), f"plain HTTP on the TLS port answered {got[:60]!r}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api2/test/ping", data=b"{}",
                                   timeout=10)
            check(False, "urllib plain HTTP to the TLS port succeeded")
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            check(not isinstance(e, urllib.error.HTTPError), f"plain HTTP got an HTTP status {e}")

        # A client with the default trust store does not trust the self-signed certificate.
        try:
            call(base, key, secret, "test/ping", context=ssl.create_default_context())
            check(False, "an untrusted certificate was accepted")
        except urllib.error.URLError as e:
            check(isinstance(e.reason, ssl.SSLCertVerificationError), f"refused: {e.reason}")

        # The server still serves after all that.
        status, _ = call(base, key, secret, "test/ping", context=ctx)
        check(status == 200, "still serving HTTPS")
    finally:
        stop(server)

    # Broken TLS configuration: a clear error and a non-zero exit, not a server without TLS.
    bad = subprocess.run([vantage, "--data-dir", data, "api", "serve", "--listen",
                          "127.0.0.1:0", "--tls-cert", os.path.join(work, "missing.pem"),
                          "--tls-key", pkey], capture_output=True, text=True, timeout=30)
    check(bad.returncode != 0 and "TLS" in bad.stderr, f"missing certificate: {bad.stderr!r}")


def test_revoke(vantage, work):
    data, orgs = seed(vantage, work)
    check(len(orgs) >= 1, "some organisation got reports")
    org = orgs[0]
    keys = [issue(vantage, data, org) for _ in range(4)]
    server = None
    try:
        server, port, _ = start(vantage, data)
        base = f"http://127.0.0.1:{port}"
        for key, secret in keys:
            for _ in range(3):  # warm the server's key cache
                status, _ = call(base, key, secret, "reports/list", {"date": DAY})
                check(status == 200, f"key works before revocation ({status})")
        # Revoke each key in turn; the very next call (well inside the 2 s cache) fails.
        for i, (key, secret) in enumerate(keys[:3]):
            t0 = time.monotonic()
            run(vantage, data, "key", "revoke", key)
            status, body = call(base, key, secret, "reports/list", {"date": DAY})
            elapsed = time.monotonic() - t0
            check(status == 401, f"revoked key {i} -> {status} {str(body)[:120]} ({elapsed:.2f}s after)")
            status, _ = call(base, *keys[3], "test/ping")
            check(status == 200, "a key not revoked keeps working")
        # Rotation without overlap: the old secret stops at once, the new one works.
        key, old = keys[3]
        out = run(vantage, data, "key", "rotate", key, "--overlap", "0")
        new = re.search(r"^secret:\s+(\S+)", out, re.M).group(1)
        status, _ = call(base, key, old, "test/ping")
        check(status == 401, f"old secret after rotation -> {status}")
        status, _ = call(base, key, new, "test/ping")
        check(status == 200, f"new secret after rotation -> {status}")
    finally:
        stop(server)


def main():
    mode, vantage = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix=f"vantage_api_{mode}_")
    try:
        {"tls": test_tls, "revoke": test_revoke}[mode](vantage, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"api_server_test {mode}: {len(FAILURES)} failure(s)", file=sys.stderr)
        return 1
    print(f"api_server_test {mode}: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
