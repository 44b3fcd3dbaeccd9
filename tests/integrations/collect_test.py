#!/usr/bin/env python3
"""`vantage collect` against a second Vantage as the upstream, and report downloads at the root.

Upstream (`vantage serve` on its own port): a national CSIRT claiming 192.0.2.0/24 and
198.51.100.0/24, another organisation claiming 203.0.113.0/24; events of three types in all
three ranges; the day's reports built. Downstream (another data directory, no service): three
organisations inside the CSIRT's ranges (192.0.2.0/25, 192.0.2.128/25, 198.51.100.0/24).

  1. `vantage collect` with the CSIRT's upstream key (a call-api.py style credentials file)
     lists the upstream reports, downloads each at the upstream's root (GET /<id>, the
     dl.shadowserver.org form) and ingests them; the downstream day's reports then hold, per
     organisation, exactly the upstream CSIRT's rows in its range -- column by column -- and
     nothing of the other upstream organisation;
  2. running it again fetches nothing new;
  3. a collector-shaped request (IntelMQ's: GET <root>/<id> with a requests-like User-Agent,
     Accept and Accept-Encoding, plus jnimmo's harmless Authorization header) gets the same
     bytes as /dl/<id>; the dashboard still answers at / and other root paths are not ids.

Usage: collect_test.py VANTAGE_BINARY
"""
import csv
import glob
import ipaddress
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.request

import harness

VANTAGE = sys.argv[1]
# The report files are read from disk below: the one-file-per-report layout (report.layout).
os.environ["VANTAGE_REPORT_LAYOUT"] = "files"
F = harness.Failures()


def report_rows(data_dir, day):
    """{org short name: [row dicts]} from the reports built for `day`."""
    out = {}
    y, m, d = day.split("-")
    for path in glob.glob(os.path.join(data_dir, "reports", y, m, d, "*.csv")):
        name = os.path.basename(path)
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        for org in ("up_csirt", "up_other", "down_x", "down_y", "down_z"):
            if f"-{org}-" in name:
                out.setdefault(org, []).extend(rows)
    return out


def canon(row):
    return tuple(sorted(row.items()))


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def main():
    up = harness.Vantage(VANTAGE, name="upstream")
    down = harness.Vantage(VANTAGE, root=up.root, name="downstream")
    try:
        day = time.strftime("%Y-%m-%d", time.gmtime())
        up.org("up_csirt", "192.0.2.0/24", "198.51.100.0/24")
        up.org("up_other", "203.0.113.0/24")
        events = []
        for i in range(60):
            net = ["192.0.2", "198.51.100", "203.0.113"][i % 3]
            type_ = ["scan_http", "scan_ftp", "scan_rdp"][(i // 3) % 3]
            events.append(harness.scan_event(f"{net}.{(i * 37) % 254 + 1}", 1000 + i,
                                             ["low", "high", "critical"][i % 3], type_))
        path = os.path.join(up.root, "upstream-events.jsonl")
        with open(path, "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
        up.cli("ingest", path)
        up.cli("report", "build", "--date", day)
        key, secret = up.key("up_csirt")
        base = up.serve()

        down.org("down_x", "192.0.2.0/25")
        down.org("down_y", "192.0.2.128/25")
        down.org("down_z", "198.51.100.0/24")
        cred = os.path.join(up.root, "shadowserver.api")
        with open(cred, "w") as f:
            f.write(f"[api]\nkey = {key}\nsecret = {secret}\nuri = {base}/api2/\n")
        os.chmod(cred, 0o600)

        # 1. Collect and compare.
        out = down.cli("collect", "--credentials", cred, "--date", "-1:now").stdout
        F.check("failed" in out and " 0 failed" in out, "collect: " + out)
        down.cli("report", "build", "--date", day)
        up_rows = report_rows(up.data, day)
        down_rows = report_rows(down.data, day)
        F.check(up_rows.get("up_csirt"), "upstream built no CSIRT reports")
        nets = {"down_x": "192.0.2.0/25", "down_y": "192.0.2.128/25", "down_z": "198.51.100.0/24"}
        for org, net in nets.items():
            want = sorted({canon(r) for r in up_rows["up_csirt"]
                           if ipaddress.ip_address(r["ip"]) in ipaddress.ip_network(net)})
            got = sorted(canon(r) for r in down_rows.get(org, []))
            F.check(want and got == want,
                    f"{org}: {len(got)} rows downstream, {len(want)} upstream rows in {net}")
        other = {r["ip"] for r in up_rows.get("up_other", [])}
        leaked = [r for rows in down_rows.values() for r in rows if r["ip"] in other]
        F.check(other and not leaked, f"the other upstream organisation's rows came down: {leaked[:2]}")
        listed = int(out.split(" listed")[0].split()[-1])
        fetched = int(out.split(" fetched")[0].split()[-1])
        F.check(listed == fetched == len(glob.glob(os.path.join(
            up.data, "reports", *day.split("-"), "*-up_csirt-*.csv"))), "collect: " + out)

        # 2. Nothing new the second time.
        again = down.cli("collect", "--credentials", cred, "--date", "-1:now").stdout
        F.check(", 0 fetched " in again and f"{listed} fetched before" in again, "re-run: " + again)

        # 3. A collector-shaped download at the root equals /dl/<id>.
        with sqlite3.connect(os.path.join(up.data, "reports.sqlite")) as db:
            manifest_ids = [r[0] for r in db.execute("SELECT id FROM reports")]
        F.check(manifest_ids and all(len(i) == 50 for i in manifest_ids), f"ids {manifest_ids[:2]}")
        rid = manifest_ids[0]
        intelmq = {"User-Agent": "IntelMQ-Bot", "Accept": "*/*", "Accept-Encoding": "gzip, deflate",
                   "Connection": "keep-alive", "Authorization": "Bearer " + key}
        s1, body1, h1 = get(f"{base}/{rid}", intelmq)
        s2, body2, _ = get(f"{base}/dl/{rid}")
        F.check(s1 == 200 and body1 == body2 and body1.startswith(b'"timestamp"'),
                f"GET /<id>: {s1}, {len(body1)} bytes vs {len(body2)}")
        F.check("attachment; filename=" in h1.get("Content-Disposition", ""), "no file name")
        s3, page, _ = get(base + "/")
        F.check((s3 == 200 and b"<html" in page.lower()) or (s3 == 503 and b"dashboard" in page),
                f"GET / answered {s3}")
        for path in ("/" + "x" * 49, "/" + "x" * 51, "/" + "x" * 49 + "%2F", "/index.html"):
            status, _, _ = get(base + path)
            F.check(status != 200 or path == "/index.html", f"GET {path} answered {status}")
        s4, _, _ = get(f"{base}/{'A' * 50}")
        F.check(s4 == 404, f"an unknown id at the root answered {s4}")
        print(f"collect_test: {fetched} upstream reports collected and re-routed to 3 downstream "
              f"organisations, re-run fetched nothing, root download = /dl/: "
              f"{'ok' if not F.items else 'FAILED'}")
    finally:
        down.stop()
        up.cleanup(keep=bool(F.items))
    F.finish()


main()
