#!/usr/bin/env python3
"""MISP feed subscriptions end to end against `vantage serve`.

MISP reads a feed as PyMISP's feed generator writes it: manifest.json (event uuid -> info,
Orgc, Tag, date, analysis, threat_level_id, timestamp), hashes.csv ("<md5 of attribute
value>,<event uuid>") and one <uuid>.json per event ({"Event": {..., "Attribute": [...]}}).
This test fetches all three the way MISP's feed fetcher does (GET with the configured
Authorization header) and checks:

  * one MISP event per (day, report type) of the subscription's events (its types, at or
    above its severity), each attribute the constituent address of one event row, to_ids
    false, with every row of the organisation present and no row of another organisation;
  * hashes.csv lists md5(value) of every attribute with its event's uuid;
  * uuids are stable between fetches;
  * no credentials -> 401; a wrong secret -> 401; another organisation's valid key -> 404,
    as for an unknown feed; a disabled subscription's feed -> 404.

Usage: misp_test.py VANTAGE_BINARY
"""
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request

import harness

VANTAGE = sys.argv[1]
F = harness.Failures()


def get(url, key=None, secret=None):
    headers = {"User-Agent": "MISP"}
    if key:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    v = harness.Vantage(VANTAGE)
    try:
        v.org("org_a", "192.0.2.0/24")
        v.org("org_b", "198.51.100.0/24")
        ikey, isecret = v.key(ingest=True)
        akey, asecret = v.key("org_a")
        bkey, bsecret = v.key("org_b")
        sub, out = v.subscribe("org_a", "misp", "misp", "", "--min-severity", "medium",
                               "--types", "scan_http,scan_ftp")
        F.check("/misp/org_a/misp" in out, "add prints the feed URL: " + out)
        base = v.serve()
        sev = ["low", "medium", "high", "critical"]
        rows = [harness.scan_event(f"192.0.2.{i + 1}", 7000 + i, sev[i % 4],
                                   ["scan_http", "scan_ftp", "scan_rdp"][i % 3]) for i in range(36)]
        foreign = [harness.scan_event(f"198.51.100.{i + 1}", 7100 + i, "critical") for i in range(6)]
        status, _ = harness.push(base, ikey, isecret, rows + foreign)
        F.check(status == 200, f"push {status}")
        feed = f"{base}/misp/org_a/misp"

        s, body = get(feed + "/manifest.json", akey, asecret)
        F.check(s == 200, f"manifest {s} {body[:100]}")
        manifest = json.loads(body)
        want = {(r["ip"], r["type"]) for r in rows
                if r["type"] in ("scan_http", "scan_ftp") and r["severity"] != "low"}
        F.check(len(manifest) == 2, f"{len(manifest)} MISP events, want one per type: {manifest}")
        got, values = set(), {}
        for uuid, meta in manifest.items():
            for k in ("info", "Orgc", "Tag", "date", "analysis", "threat_level_id", "timestamp"):
                F.check(k in meta, f"manifest entry lacks {k}")
            F.check(meta["threat_level_id"] == 1, f"critical events are threat level 1: {meta}")
            s, ev = get(f"{feed}/{uuid}.json", akey, asecret)
            F.check(s == 200, f"event {uuid}: {s}")
            event = json.loads(ev)["Event"]
            F.check(event["uuid"] == uuid and event["published"] is True, "event header")
            type_ = next(t["name"].split('"')[1] for t in event["Tag"] if t["name"].startswith("vantage:"))
            for a in event["Attribute"]:
                F.check(a["type"] == "ip-dst" and a["to_ids"] is False and
                        a["category"] == "Network activity", f"attribute {a}")
                got.add((a["value"], type_))
                values.setdefault(uuid, []).append(a["value"])
                F.check(f"{type_} port=" in a["comment"] and "Vantage event" in a["comment"],
                        f"attribute comment {a['comment']}")
        F.check(got == want, f"feed rows {sorted(got - want)[:3]} extra, {sorted(want - got)[:3]} missing")
        F.check(not any(v.startswith("198.51.100.") for vals in values.values() for v in vals),
                "org_b's address in org_a's feed")
        s, hashes = get(feed + "/hashes.csv", akey, asecret)
        lines = set(hashes.decode().split())
        wanted = {f"{hashlib.md5(val.encode()).hexdigest()},{uuid}"
                  for uuid, vals in values.items() for val in vals}
        F.check(s == 200 and lines == wanted, f"hashes.csv: {len(lines)} lines, want {len(wanted)}")
        s, again = get(feed + "/manifest.json", akey, asecret)
        F.check(set(json.loads(again)) == set(manifest), "uuids changed between fetches")

        F.check(get(feed + "/manifest.json")[0] == 401, "no credentials not 401")
        F.check(get(feed + "/manifest.json", akey, "wrong")[0] == 401, "wrong secret not 401")
        F.check(get(feed + "/manifest.json", bkey, bsecret)[0] == 404, "org_b's key not 404")
        F.check(get(f"{base}/misp/org_b/misp/manifest.json", bkey, bsecret)[0] == 404,
                "a feed that does not exist not 404")
        v.cli("subscription", "set", str(sub), "--disable")
        F.check(get(feed + "/manifest.json", akey, asecret)[0] == 404, "disabled feed not 404")
        print(f"misp_test: feed of {len(want)} rows in {len(manifest)} events, hashes, stable "
              f"uuids, 401/404 answers: {'ok' if not F.items else 'FAILED'}")
    finally:
        v.cleanup(keep=bool(F.items))
    F.finish()


main()
