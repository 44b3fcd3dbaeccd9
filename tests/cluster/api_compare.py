"""Asks two `vantage api serve` instances -- one on the SQLite store, one on the ClickHouse store
(the environment's VANTAGE_STORE_* settings) -- the same api2 calls (stats, types, the report list) and requires equal answers.

  api_compare.py VANTAGE SQLITE_DIR CLICKHOUSE_DIR KEY SECRET DAY

Both data directories hold the same registry and API key. Everything on 127.0.0.1, port 0.
"""
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request


def start(vantage, data, env):
    server = subprocess.Popen([vantage, "--data-dir", data, "api", "serve", "--listen",
                               "127.0.0.1:0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env=env)
    line = server.stdout.readline()
    m = re.search(r"api=[^:]+:(\d+)", line)
    if not m:
        server.kill()
        raise SystemExit(f"api_compare: server did not announce its port: {line!r}")
    return server, f"http://127.0.0.1:{m.group(1)}"


def call(base, key, secret, method, params):
    body = json.dumps({**params, "apikey": key}).encode()
    req = urllib.request.Request(base + "/api2/" + method, data=body)
    req.add_header("HMAC2", hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def normalised(answer):
    """The answer as text, without what differs by build and not by store: a report's download
    id (a token of that build's manifest) and the server's own port in links."""
    if isinstance(answer, list):
        answer = [{k: v for k, v in e.items() if k != "id"} if isinstance(e, dict) else e
                  for e in answer]
    return re.sub(r"127\.0\.0\.1:\d+", "HOST", json.dumps(answer, sort_keys=True))


def main():
    vantage, sql_dir, ch_dir, key, secret, day = sys.argv[1:7]
    plain = {k: v for k, v in os.environ.items() if not k.startswith("VANTAGE_STORE_")}
    servers = []
    try:
        a, base_a = start(vantage, sql_dir, plain)
        servers.append(a)
        b, base_b = start(vantage, ch_dir, dict(os.environ))
        servers.append(b)
        calls = [("reports/stats", {"date": day}),
                 ("reports/types", {"date": day}),
                 ("reports/list", {"date": day})]
        failures = 0
        for method, params in calls:
            sa, ra = call(base_a, key, secret, method, params)
            sb, rb = call(base_b, key, secret, method, params)
            ra, rb = normalised(ra), normalised(rb)
            if ra in ("[]", "{}"):  # equal but empty would prove nothing
                failures += 1
                print(f"api_compare: {method} {params}: empty answer from the SQLite store",
                      file=sys.stderr)
            elif sa != 200 or sa != sb or ra != rb:
                failures += 1
                print(f"api_compare: {method} {params}: sqlite {sa} {str(ra)[:300]} / "
                      f"clickhouse {sb} {str(rb)[:300]}", file=sys.stderr)
            else:
                print(f"api_compare: {method} {params}: equal ({len(ra)} bytes)")
        sys.exit(1 if failures else 0)
    finally:
        for s in servers:
            s.terminate()
            try:
                s.wait(timeout=10)
            except subprocess.TimeoutExpired:
                s.kill()


main()
