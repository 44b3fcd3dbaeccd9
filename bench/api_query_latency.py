#!/usr/bin/env python3
"""Latency of one organisation's api2 calls that read the event store: reports/query (rows and
a facet), reports/stats and reports/list, each called twice (the second, warm, is printed).

Usage: bench/api_query_latency.py KEY SECRET PORT DATE
  against `vantage api serve --listen 127.0.0.1:PORT` (loopback only). The figures in
  bench/README.md used a store from `KEEP=DIR bash bench/report_bench.sh BINARY 300000 100000`
  (DATE 2026-01-05) and a key issued to its largest organisation, synthetic_200:
  `vantage --data-dir DIR/data key issue synthetic_200`.
"""
import hashlib
import hmac
import json
import sys
import time
import urllib.request

key, secret, port, date = sys.argv[1:5]


def call(method, params):
    body = json.dumps(dict(params, apikey=key)).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api2/{method}", data=body,
                                 headers={"HMAC2": sig})
    start = time.time()
    with urllib.request.urlopen(req, timeout=60) as r:
        data = r.read()
    return time.time() - start, data


for method, params in [("reports/query", {"query": {"geo": "US"}, "date": date, "limit": 1000}),
                       ("reports/query", {"query": {"geo": "US"}, "date": date, "limit": 100,
                                          "facet": "port"}),
                       ("reports/stats", {"date": date}),
                       ("reports/list", {"date": date, "limit": 10})]:
    for _ in range(2):
        seconds, data = call(method, params)
    print(f"{method} {json.dumps(params)}: {seconds * 1000:.0f} ms, {len(data)} bytes, "
          f"sha256 {hashlib.sha256(data).hexdigest()[:16]}")
