"""Asks two servers the same questions and requires equal answers.

  api_compare.py VANTAGE SQLITE_DIR CLICKHOUSE_DIR KEY SECRET DAY
      starts two `vantage api serve` -- one on the SQLite store, one on the ClickHouse store
      (the environment's VANTAGE_STORE_* settings) -- and compares the api2 calls
      reports/stats, reports/types and reports/list.
  api_compare.py --urls EMBEDDED_BASE CLUSTER_BASE KEY SECRET DAY [QUERY_JSON]
      two running servers that serve api2 and the dashboard (`vantage serve` on the embedded
      store, `vantage cluster run --role api` on the cluster's): the api2 calls above plus
      reports/query (QUERY_JSON: a filter the key's organisation owns) and reports/subscribed,
      and the dashboard's JSON -- the public /dash/api/meta and /dash/api/stats (every grouping
      the pages ask for) and the organisation's /dash/api/org/{whoami,stats,reports}.

Both sides hold the same registry and API key. Everything on 127.0.0.1.
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


def get(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def post(base, path, key, secret, params):
    body = json.dumps({**params, "apikey": key}).encode()
    req = urllib.request.Request(base + path, data=body)
    req.add_header("HMAC2", hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def call(base, key, secret, method, params):
    return post(base, "/api2/" + method, key, secret, params)


def normalised(answer):
    """The answer as text, without what differs by build and not by store: a report's download
    id (a token of that build's manifest) and the server's own port in links."""
    if isinstance(answer, list):
        answer = [{k: v for k, v in e.items() if k != "id"} if isinstance(e, dict) else e
                  for e in answer]
    return re.sub(r"127\.0\.0\.1:\d+", "HOST", json.dumps(answer, sort_keys=True))


def without_ids(answer):
    """Download ids and links differ by build (a token of that build's manifest), not by store."""
    if isinstance(answer, dict):
        return {k: without_ids(v) for k, v in answer.items()
                if k not in ("id", "download", "url", "generated")}
    if isinstance(answer, list):
        return [without_ids(v) for v in answer]
    return answer


def compare_running(base_a, base_b, key, secret, day, query):
    day_range = {"date": day}
    asks = [("api2 reports/stats", lambda b: call(b, key, secret, "reports/stats", day_range)),
            ("api2 reports/types", lambda b: call(b, key, secret, "reports/types", day_range)),
            ("api2 reports/list", lambda b: call(b, key, secret, "reports/list", day_range)),
            ("api2 reports/subscribed", lambda b: call(b, key, secret, "reports/subscribed", {}))]
    if query:
        q = {"query": {**json.loads(query), "date": day}, "limit": 1000}
        asks.append(("api2 reports/query", lambda b: call(b, key, secret, "reports/query", q)))
    span = f"from={day}&to={day}"
    asks.append(("dash meta", lambda b: get(b, "/dash/api/meta")))
    for group in ["day", "type", "geo", "severity", "tag", "geo,region", "type,geo",
                  "day,type", "type,severity", "day,tag", "geo,tag"]:
        path = f"/dash/api/stats?group={group}&{span}"
        asks.append((f"dash {path}", lambda b, p=path: get(b, p)))
    for params in [{}, {"group": "type"}, {"group": "geo"}]:
        p = {**params, "from": day, "to": day}
        for method in ["whoami", "stats", "reports"]:
            asks.append((f"dash org/{method} {params}",
                         lambda b, m=method, p=p: post(b, "/dash/api/org/" + m, key, secret, p)))
    failures = 0
    for name, ask in asks:
        sa, ra = ask(base_a)
        sb, rb = ask(base_b)
        no_rows = isinstance(ra, dict) and ra.get("rows") == []
        ra, rb = normalised(without_ids(ra)), normalised(without_ids(rb))
        if sa != 200 or no_rows or ra in ("[]", "{}", '""'):  # equal but empty proves nothing
            failures += 1
            print(f"api_compare: {name}: embedded answered {sa} {ra[:300]}", file=sys.stderr)
        elif sa != sb or ra != rb:
            failures += 1
            print(f"api_compare: {name}: embedded {sa} {ra[:300]} / cluster {sb} {rb[:300]}",
                  file=sys.stderr)
    print(f"api_compare: {len(asks) - failures} of {len(asks)} api2 and dashboard answers equal")
    return failures


def main():
    if sys.argv[1] == "--urls":
        base_a, base_b, key, secret, day = sys.argv[2:7]
        query = sys.argv[7] if len(sys.argv) > 7 else ""
        sys.exit(1 if compare_running(base_a, base_b, key, secret, day, query) else 0)
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
