#!/usr/bin/env python3
"""The web honeypot against real curl: every test request of every shipped exploit rule
(conf/honeypot/http_rules.json) is replayed with curl, over HTTP and (its first test) over
HTTPS, and must come back as an event4_honeypot_http_scan event naming that rule's CVE; every
benign request of the file must come back with no CVE. A rule without a test request fails
here (and at load). Then the events go through the pipeline into reports that must pass
IntelMQ's rules.

Usage: http_rules_test.py VANTAGE_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hp_util  # noqa: E402
from hp_util import check  # noqa: E402

VANTAGE, SRC = sys.argv[1], sys.argv[2]
RULES = os.path.join(SRC, "conf", "honeypot", "http_rules.json")


def curl(port, scheme, req, marker, bodies):
    """One request with curl as the fixture says; `marker` goes in a header of its own so the
    event can be told apart (its request_raw carries every header)."""
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", "-g",
           "--max-time", "10", "-X", req.get("method", "GET"), "-H", f"X-Vantage-Test: {marker}"]
    if scheme == "https":
        cmd.append("-k")
    for name, value in req.get("headers", {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if "body" in req:
        path = os.path.join(bodies, f"{marker}.body")
        with open(path, "wb") as f:
            f.write(req["body"].encode())
        cmd += ["--data-binary", "@" + path]
    cmd.append(f"{scheme}://127.0.0.1:{port}{req['target']}")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return r.stdout.strip()


def main():
    rules = json.load(open(RULES))
    work = hp_util.workdir("vantage_http_rules_")
    bodies = os.path.join(work, "bodies")
    os.makedirs(bodies)
    try:
        hp = hp_util.Honeypot(VANTAGE, work, ["http=127.0.0.1:0", "https=127.0.0.1:0"],
                              env={"VANTAGE_HONEYPOT_RULES_DIR": os.path.dirname(RULES)})
        expect = {}  # marker -> (scheme, cve or None, rule id)
        n = 0
        for rule in rules["rules"]:
            check(len(rule.get("tests", [])) > 0, f"rule {rule['id']} has a test request")
            for i, t in enumerate(rule.get("tests", [])):
                for scheme in (["http", "https"] if i == 0 else ["http"]):
                    n += 1
                    marker = f"t{n}"
                    code = curl(hp.ports[scheme], scheme, t, marker, bodies)
                    check(code in ("200", "404"), f"{rule['id']} test {i + 1} over {scheme}: "
                                                  f"answered ({code})")
                    expect[marker] = (scheme, rule["cve"], rule["id"])
        for i, b in enumerate(rules.get("benign", [])):
            n += 1
            marker = f"t{n}"
            code = curl(hp.ports["http"], "http", b, marker, bodies)
            check(code in ("200", "404"), f"benign {i + 1} answered ({code})")
            expect[marker] = ("http", None, f"benign #{i + 1}")
        hp.stop()
        events = hp.events()
        got = {}
        for e in events:
            raw = hp_util.raw_request(e)
            for line in raw.split("\r\n"):
                if line.startswith("X-Vantage-Test: "):
                    got.setdefault(line.split(": ", 1)[1], []).append(e["fields"])
        check(len(events) == len(expect),
              f"one event per request: {len(events)} events for {len(expect)} requests")
        wrong = 0
        for marker, (scheme, cve, what) in expect.items():
            evs = got.get(marker, [])
            ok = len(evs) == 1 and evs[0].get("vulnerability_id") == cve and \
                evs[0].get("url_scheme") == scheme
            if not ok:
                wrong += 1
                print(f"  {what} over {scheme}: want {cve}, got "
                      f"{[e.get('vulnerability_id') for e in evs]}")
        check(wrong == 0, f"{len(expect) - wrong}/{len(expect)} requests classified as their "
                          f"rule says ({len(rules['rules'])} rules, "
                          f"{len(set(r['cve'] for r in rules['rules']))} CVEs)")
        sample = next((e["fields"] for e in events if e["fields"].get("vulnerability_id")), {})
        for col in ("pattern", "http_url", "http_request_method", "url_scheme",
                    "vulnerability_enum", "vulnerability_id", "vulnerability_class",
                    "vulnerability_score", "vulnerability_severity", "vulnerability_version",
                    "threat_framework", "threat_tactic_id", "threat_technique_id",
                    "target_vendor", "target_product", "target_class", "request_raw",
                    "src_ip", "src_port", "dst_ip", "dst_port", "public_source"):
            check(col in sample, f"a classified event has {col}")
        with_body = [e["fields"] for e in events if e["fields"].get("body_raw")]
        check(with_body and all(len(f.get("file_sha256", "")) == 64 and
                                len(f.get("file_md5", "")) == 32 for f in with_body),
              f"{len(with_body)} events with a body carry body_raw, file_md5, file_sha256")
        hp_util.intelmq_reports(VANTAGE, work, hp.inbox, ["127.0.0.0/8"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return hp_util.finish()


if __name__ == "__main__":
    sys.exit(main())
