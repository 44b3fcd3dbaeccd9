#!/usr/bin/env python3
"""End-to-end test of `vantage api serve` with a stdlib client behaving like the real ones.

Seeds a temporary data dir through the CLI (synthetic organisations, events, ingest, report
build, API keys), starts the server on port 0, and checks every api2 method, the error table,
the client quirks of docs/shadowserver-api.md (urllib's "Hmac2" header and form Content-Type,
Perl-style compact bodies, IntelMQ's odd spacing, numbers as strings) and downloads.

Usage: api_client_test.py VANTAGE_BINARY
"""
import gzip
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

VANTAGE = sys.argv[1]
DAY = "2026-01-15"
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(data, *args):
    return subprocess.run([VANTAGE, "--data-dir", data, *args], check=True, capture_output=True,
                          text=True, timeout=300).stdout


def issue(data, org, *extra):
    out = run(data, "key", "issue", *([org] if org else []), *extra)
    key = re.search(r"^key:\s+(\S+)", out, re.M).group(1)
    secret = re.search(r"^secret:\s+(\S+)", out, re.M).group(1)
    return key, secret


class Client:
    def __init__(self, base, key, secret):
        self.base, self.key, self.secret = base, key, secret

    def raw(self, method, body: bytes, header="Hmac2", sig=None, http_method="POST", ctype=True):
        req = urllib.request.Request(self.base + "/api2/" + method, data=body, method=http_method)
        if ctype:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        if header:
            mac = sig if sig is not None else hmac.new(self.secret.encode(), body,
                                                       hashlib.sha256).hexdigest()
            req.add_header(header, mac)
        try:
            with urllib.request.urlopen(req, timeout=45) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def call(self, method, params=None, compact=False, want=200):
        params = dict(params or {})
        params["apikey"] = self.key  # call-api.py puts apikey last (insertion order)
        body = json.dumps(params, separators=(",", ":") if compact else None).encode()
        status, _, data = self.raw(method, body)
        check(status == want, f"{method} {params} -> {status} {data[:200]!r}")
        try:
            return json.loads(data)
        except ValueError:
            return data.decode(errors="replace")


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=45) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def main():
    work = tempfile.mkdtemp(prefix="vantage_api_e2e_")
    data = os.path.join(work, "d")
    server = None
    try:
        run(data, "generate", "--registry-only", "--orgs", "40", "--seed", "11")
        feed = os.path.join(work, "feed.jsonl")
        run(data, "generate", "-n", "20000", "--seed", "11", "--date", DAY, "-o", feed)
        run(data, "ingest", "-q", feed)
        built = run(data, "report", "build", "--date", DAY)
        check(built.strip() != "", "report build produced reports")
        # Organisations that received reports: short name from the file name.
        orgs = sorted({re.match(r"\d{4}-\d{2}-\d{2}-[^-]+-([^-]+)-", os.path.basename(
            line.split("\t")[0])).group(1) for line in built.splitlines() if line.strip()})
        check(len(orgs) >= 3, f"at least 3 organisations with reports ({len(orgs)})")
        keys = {o: issue(data, o) for o in orgs[:6]}
        ingest_key = issue(data, None, "--ingest")

        server = subprocess.Popen([VANTAGE, "--data-dir", data, "api", "serve", "--listen",
                                   "127.0.0.1:0", "--download-root", "http://127.0.0.1/dl/",
                                   "--download-listen", "127.0.0.1:0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = server.stdout.readline()
        m = re.search(r"api=[^:]+:(\d+) download_prefix=(\S+) download=(\d+)", line)
        check(m is not None, f"server announces its ports: {line!r}")
        base = f"http://127.0.0.1:{m.group(1)}"
        dl_base = f"http://127.0.0.1:{m.group(3)}"
        prefix = m.group(2)

        org = orgs[0]
        c = Client(base, *keys[org])
        check("pong" in c.call("test/ping"), "ping")
        check("pong" in c.call("test/ping", compact=True), "ping, Perl-style compact body")
        info = c.call("key/info")
        check(isinstance(info, list) and len(info) == 1 and info[0]["apikey"] == c.key
              and isinstance(info[0]["query_limit"], str), f"key/info shape {info}")
        check(c.call("reports/subscribed") == [org], "subscribed")
        types = c.call("reports/types", {"date": f"{DAY}:{DAY}"})
        check(len(types) >= 1 and all(isinstance(t, str) for t in types), "types")
        detail = c.call("reports/types", {"date": "-3650:now", "detail": "true"})
        check(all({"type", "description", "url"} <= set(d) for d in detail), "types detail")
        lst = c.call("reports/list", {"date": DAY})
        check(len(lst) >= 1, "list has the org's reports")
        check(all(e["report"] == org and e["timestamp"] == DAY for e in lst), "list entries")
        check(all(len(e["id"]) == 50 and re.fullmatch(r"[A-Za-z0-9_-]+", e["id"]) for e in lst),
              "50-char ids")
        check([e["timestamp"] for e in lst] == sorted(e["timestamp"] for e in lst), "sorted")
        # IntelMQ builds the body by hand with odd spacing.
        body = ('{ "apikey": "%s" ,"date": "%s:%s" ,"reports": ["%s"]}' % (c.key, DAY, DAY, org)
                ).encode()
        status, _, raw = c.raw("reports/list", body)
        check(status == 200 and len(json.loads(raw)) == len(lst), "IntelMQ spacing")
        # Uppercase header, no Content-Type (LWP).
        status, _, _ = c.raw("test/ping", json.dumps({"apikey": c.key}).encode(), header="HMAC2",
                             ctype=False)
        check(status == 200, "HMAC2 upper-case without Content-Type")
        one_type = lst[0]["type"]
        check(all(e["type"] == one_type for e in c.call("reports/list", {"date": DAY,
              "type": one_type})), "type as string")
        check(len(c.call("reports/list", {"date": DAY, "types": [one_type], "limit": "1"})) == 1,
              "types + limit as string")
        check(c.call("reports/list", {"date": "2000-01-01"}) == [], "empty range -> []")
        check(len(c.call("reports/list", {"date": f"{DAY}:now", "id": ""})) == len(
            c.call("reports/list", {"date": f"{DAY}:now"})), "empty id does not filter")
        test = c.call("reports/list", {"reports": ["test"], "limit": 3})
        check(len(test) == 3 and all(e["id"] == "test:" + e["type"] and e["timestamp"] ==
                                     "2010-02-10" for e in test), "test list")
        stats = c.call("reports/stats", {"date": DAY})
        check(stats[0] == ["date", "type", "events"] and len(stats) >= 2, "stats header row")
        schema = c.call("reports/schema", {"type": one_type.replace("_", "-")})
        check("timestamp" in schema, "schema")
        rows = c.call("reports/download", {"id": lst[0]["id"], "limit": "2"})
        check(isinstance(rows, list) and 1 <= len(rows) <= 2 and "timestamp" in rows[0],
              "legacy download")
        sample = c.call("reports/download", {"id": "test:scan_vnc", "limit": 3})
        check(isinstance(sample, list) and len(sample) >= 1, "legacy download test id")

        # reports/query: the org's filter kind is the file name's last part.
        filt = lst[0]["file"].rsplit("-", 1)[1][:-4]
        field = {"asn": "asn", "cidr": "ip", "geo": "geo", "domain": "domain"}[filt]
        nf = c.call("reports/query", {"query": {"port": 80}}, want=400)
        check("No supported report filters found" in str(nf), "filter rule text")
        if field in ("asn", "ip", "geo") and rows and str(rows[0].get(field, "")):
            value = str(rows[0][field])
            q = c.call("reports/query", {"date": DAY, "query": {field: value}, "limit": "5"})
            check(isinstance(q, list) and 1 <= len(q) <= 5, f"query by {field}")
            check(c.call("reports/query", {"date": DAY, "query": {field: value}, "limit": 5,
                                           "page": "100000"}) == [], "[] past the end")
            facet = c.call("reports/query", {"date": DAY, "query": {field: value},
                                             "facet": "type"})
            check(isinstance(facet, list) and len(facet) >= 1, "facet")
            c.call("reports/device-info", {"query": {field: value}})

        # Errors.
        check(c.raw("reports/list", b"not json")[0] == 400, "400 bad JSON")
        check(c.raw("reports/list", b'{"date":"now"}')[0] == 401, "401 no apikey")
        check(c.raw("reports/list", json.dumps({"apikey": c.key}).encode(), sig="0" * 64)[0]
              == 401, "401 bad HMAC")
        check(c.raw("reports/list", json.dumps({"apikey": c.key}).encode(), header=None)[0]
              == 401, "401 missing HMAC")
        check(Client(base, "nosuchkey", "x").raw("test/ping", b'{"apikey":"nosuchkey"}')[0] == 401,
              "401 unknown key")
        check(c.raw("reports/nothing", json.dumps({"apikey": c.key}).encode())[0] == 404, "404")
        check(get(base + "/api2/test/ping")[0] == 405, "405 GET")
        c.call("reports/list", {"date": "2026-13-01"}, want=400)
        ik = Client(base, *ingest_key)
        ik.call("reports/list", want=403)

        # Downloads on both the prefix and the dedicated listener.
        for entry in lst[:3]:
            for url in (dl_base + "/" + entry["id"], base + prefix + entry["id"]):
                status, headers, payload = get(url, {"Accept-Encoding": "identity"})
                check(status == 200, f"download {url}")
                check(headers.get("Content-Disposition") == "attachment; filename=" + entry["file"],
                      "Content-Disposition unquoted")
                check(headers.get("Content-Type") == "text/csv; charset=utf-8", "csv type")
                check(int(headers.get("Content-Length", "-1")) == len(payload) > 0, "length")
                check(payload.startswith(b'"timestamp"'), "CSV header")
        eid = lst[0]["id"]
        check(get(dl_base + "/" + eid[:27] + "?" + eid[27:])[0] == 404, "split unknown id -> 404")
        status, headers, payload = get(dl_base + "/test:scan_vnc")
        check(status == 200 and b'"timestamp"' in payload, "test:<type> download")
        check(get(dl_base + "/unknownid")[0] == 404, "unknown id 404")
        for bad in ("/../reports.sqlite", "/%2e%2e/reports.sqlite", "/..%2Fevents.sqlite",
                    "/a/b"):
            check(get(dl_base + bad)[0] == 404, f"traversal {bad}")
        status, headers, payload = get(base + "/api2/test/ping", None)
        # gzip only when asked for (API answers are small; check the large list).
        req = urllib.request.Request(base + "/api2/reports/list", data=json.dumps(
            {"reports": ["test"], "apikey": c.key}).encode())
        req.add_header("HMAC2", hmac.new(c.secret.encode(), req.data, hashlib.sha256).hexdigest())
        req.add_header("Accept-Encoding", "gzip")
        with urllib.request.urlopen(req, timeout=45) as r:
            check(r.headers.get("Content-Encoding") == "gzip", "gzip when accepted")
            check(len(json.loads(gzip.decompress(r.read()))) > 100, "gzip body")

        # Isolation: no key sees another org's reports, ids or downloads via the API.
        seen = {}
        for o, (k, s) in keys.items():
            cl = Client(base, k, s)
            ids = {e["id"] for e in cl.call("reports/list", {"date": "-3650:now"})}
            check(all(e["report"] == o for e in cl.call("reports/list", {"date": "-3650:now"})),
                  f"{o} sees only its own list")
            seen[o] = (cl, ids)
        for o, (cl, ids) in seen.items():
            for other, (_, other_ids) in seen.items():
                if other == o:
                    continue
                check(not (ids & other_ids), f"{o} and {other} share ids")
                for oid in list(other_ids)[:2]:
                    cl.call("reports/download", {"id": oid}, want=404)
                check(cl.call("reports/list", {"reports": [other], "date": "-3650:now"}) == [],
                      f"{o} cannot list {other}")
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"api_client_test: {len(FAILURES)} failure(s)", file=sys.stderr)
        return 1
    print("api_client_test: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
