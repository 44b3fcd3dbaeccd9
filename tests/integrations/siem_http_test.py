#!/usr/bin/env python3
"""Elasticsearch/OpenSearch `_bulk` and Splunk HTTP Event Collector subscriptions end to end.

Debian 12 packages neither Elasticsearch/OpenSearch nor Splunk, so the receivers here are
scripted (Python standard library) and check the exact request shape of the documented APIs,
answering as the real servers do:

  _bulk  POST /_bulk, Content-Type application/x-ndjson, "Authorization: ApiKey <key>"; the
         body is newline-delimited JSON ending in a newline, action/metadata lines
         ({"create": {"_index": ..., "_id": ...}}) each followed by its source document; the
         answer {"took", "errors", "items": [{"create": {"_index", "_id", "status", ...}}]}
         with 201 per created document and 409 version_conflict_engine_exception for an _id
         that exists. Injected: one 429 item (Vantage must send the batch again; the items
         created the first time answer 409 and count as delivered) and a 400
         mapper_parsing_exception for one document (kept as rejected, not retried).
  HEC    POST /services/collector/event, "Authorization: Splunk <token>"; the body is one or
         more JSON objects, each with "event" (and time, host, source, sourcetype); answers
         {"text": "Success", "code": 0}, 401 "Token is required" (code 2), 403 "Invalid token"
         (code 4), 400 "Invalid data format" (code 6) and 503 "Server is busy" (code 9).
         Injected: one 503; a subscription with a wrong token is refused every time and its
         batches are dead-lettered.

Checks: each event of the organisation arrives exactly once per destination with its ECS
fields (elastic) or its Vantage JSON in the HEC envelope (splunk); nothing of another
organisation arrives; every request had the documented shape.

Usage: siem_http_test.py VANTAGE_BINARY
"""
import http.server
import json
import sys
import threading

import harness

VANTAGE = sys.argv[1]
F = harness.Failures()
ES_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
HEC_TOKEN = "8b7a4a1c-0d1e-4f3a-9c2b-5e6f7a8b9c0d"


class Receivers:
    def __init__(self):
        self.lock = threading.Lock()
        self.docs = {}          # _id -> ECS document (Elasticsearch)
        self.hec = []           # HEC events (envelopes)
        self.shape_errors = []  # what did not follow the documented API
        self.fail_item_429 = 1
        self.hec_busy = 1
        self.es_requests = 0
        self.hec_requests = 0
        self.poison_ip = None   # a document with this source.ip gets a mapping error
        r = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/_bulk":
                    return self.bulk(body)
                if self.path == "/services/collector/event":
                    return self.collector(body)
                with r.lock:
                    r.shape_errors.append("unexpected path " + self.path)
                self.reply(404, {"error": "no handler"})

            def bulk(self, body):
                with r.lock:
                    r.es_requests += 1
                ctype = self.headers.get("Content-Type", "")
                if not ctype.startswith("application/x-ndjson"):
                    r.shape_errors.append("_bulk content type " + ctype)
                if self.headers.get("Authorization") != "ApiKey " + ES_KEY:
                    return self.reply(401, {"error": {"type": "security_exception"}, "status": 401})
                text = body.decode()
                if not text.endswith("\n"):
                    r.shape_errors.append("_bulk body does not end with a newline")
                    return self.reply(400, {"error": "The bulk request must be terminated by a newline"})
                lines = text[:-1].split("\n")
                if len(lines) % 2:
                    r.shape_errors.append("_bulk: odd number of lines")
                    return self.reply(400, {"error": "malformed"})
                items, errors = [], False
                for i in range(0, len(lines), 2):
                    action, source = json.loads(lines[i]), json.loads(lines[i + 1])
                    if list(action) != ["create"] or set(action["create"]) != {"_index", "_id"}:
                        r.shape_errors.append("_bulk action " + lines[i])
                    meta = action.get("create", {})
                    _id, index = meta.get("_id"), meta.get("_index")
                    if not isinstance(source, dict) or "@timestamp" not in source:
                        r.shape_errors.append("_bulk source without @timestamp")
                    with r.lock:
                        if r.fail_item_429 > 0:
                            r.fail_item_429 -= 1
                            items.append({"create": {"_index": index, "_id": _id, "status": 429,
                                                     "error": {"type": "es_rejected_execution_exception"}}})
                            errors = True
                            continue
                        if source.get("source", {}).get("ip") == r.poison_ip:
                            items.append({"create": {"_index": index, "_id": _id, "status": 400,
                                                     "error": {"type": "mapper_parsing_exception",
                                                               "reason": "failed to parse field"}}})
                            errors = True
                            continue
                        if _id in r.docs:
                            items.append({"create": {"_index": index, "_id": _id, "status": 409,
                                                     "error": {"type": "version_conflict_engine_exception"}}})
                            errors = True
                            continue
                        r.docs[_id] = (index, source)
                    items.append({"create": {"_index": index, "_id": _id, "_version": 1,
                                             "result": "created", "status": 201}})
                self.reply(200, {"took": 3, "errors": errors, "items": items})

            def collector(self, body):
                with r.lock:
                    r.hec_requests += 1
                auth = self.headers.get("Authorization")
                if not auth:
                    return self.reply(401, {"text": "Token is required", "code": 2})
                if auth != "Splunk " + HEC_TOKEN:
                    return self.reply(403, {"text": "Invalid token", "code": 4})
                with r.lock:
                    if r.hec_busy > 0:
                        r.hec_busy -= 1
                        return self.reply(503, {"text": "Server is busy", "code": 9})
                # Concatenated JSON objects (whitespace between them allowed).
                dec, text, pos, events = json.JSONDecoder(), body.decode(), 0, []
                while pos < len(text):
                    while pos < len(text) and text[pos].isspace():
                        pos += 1
                    if pos >= len(text):
                        break
                    try:
                        obj, pos = dec.raw_decode(text, pos)
                    except ValueError:
                        return self.reply(400, {"text": "Invalid data format", "code": 6,
                                                "invalid-event-number": len(events)})
                    if not isinstance(obj, dict) or "event" not in obj or \
                            not isinstance(obj.get("time", 0), (int, float)):
                        return self.reply(400, {"text": "Invalid data format", "code": 6,
                                                "invalid-event-number": len(events)})
                    events.append(obj)
                with r.lock:
                    r.hec.extend(events)
                self.reply(200, {"text": "Success", "code": 0})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def main():
    v = harness.Vantage(VANTAGE)
    rec = Receivers()
    try:
        v.org("org_a", "192.0.2.0/24")
        v.org("org_b", "198.51.100.0/24")
        ikey, isecret = v.key(ingest=True)
        base_url = f"http://127.0.0.1:{rec.port}"
        es, _ = v.subscribe("org_a", "elastic", "elastic", base_url, "--min-severity", "medium",
                            "--window", "1", "--option", "index=vantage-org_a", secret=ES_KEY)
        hec, _ = v.subscribe("org_a", "splunk", "splunk", base_url, "--min-severity", "medium",
                             "--window", "1", "--option", "sourcetype=vantage:test", secret=HEC_TOKEN)
        wrong, _ = v.subscribe("org_a", "splunk-wrong", "splunk", base_url, "--window", "0",
                               secret="not-the-token")
        # The same kinds for org_b: they must only see org_b's events.
        v.subscribe("org_b", "elastic", "elastic", base_url, "--min-severity", "info",
                    "--option", "index=vantage-org_b", secret=ES_KEY)
        base = v.serve()
        rec.poison_ip = "192.0.2.99"
        sev = ["low", "medium", "high", "critical"]
        rows = [harness.scan_event(f"192.0.2.{i + 1}", 5000 + i, sev[i % 4]) for i in range(40)]
        rows.append(harness.scan_event("192.0.2.99", 5999, "critical"))
        foreign = [harness.scan_event(f"198.51.100.{i + 1}", 6000 + i, "critical") for i in range(5)]
        status, _ = harness.push(base, ikey, isecret, rows + foreign)
        F.check(status == 200, f"push {status}")
        want = {(r["ip"], r["port"]) for r in rows if r["severity"] != "low"}
        want_es = want - {("192.0.2.99", 5999)}

        def es_got(index):
            with rec.lock:
                return {(d["source"]["ip"], d["source"]["port"])
                        for i, d in rec.docs.values() if i == index}

        def hec_got():
            with rec.lock:
                return [(e["event"]["row"]["ip"], e["event"]["row"]["port"]) for e in rec.hec]

        harness.wait_for(lambda: es_got("vantage-org_a") >= want_es and len(hec_got()) >= len(want),
                         timeout=40)
        F.check(es_got("vantage-org_a") == want_es,
                f"elastic: {len(es_got('vantage-org_a'))} documents, want {len(want_es)}")
        F.check(sorted(hec_got()) == sorted(want), f"splunk: {len(hec_got())} events, want {len(want)}")
        F.check(len(hec_got()) == len(set(hec_got())), "splunk: an event twice")
        harness.wait_for(lambda: len(es_got("vantage-org_b")) >= 5, timeout=30)
        F.check(es_got("vantage-org_b") == {(r["ip"], r["port"]) for r in foreign},
                "org_b's index holds other events")
        with rec.lock:
            for _id, (index, doc) in rec.docs.items():
                org = doc["organization"]["name"]
                F.check(_id == f"{org}:{doc['event']['id']}", f"_id {_id} for {org}")
                F.check(index == "vantage-" + org, f"{org}'s document in {index}")
                F.check(doc["ecs"]["version"] and doc["event"]["kind"] == "alert" and
                        doc["event"]["dataset"] == "vantage.scan_http", f"ECS fields of {_id}")
                F.check(doc["@timestamp"].endswith("Z") and doc["source"]["port"] >= 5000,
                        f"ECS values of {_id}")
            for e in rec.hec:
                F.check(e["sourcetype"] == "vantage:test" and e["source"] == "vantage" and
                        isinstance(e["time"], int) and e["event"]["org"] == "org_a",
                        f"HEC envelope {e}")
        F.check(not rec.shape_errors, f"requests off the documented shape: {rec.shape_errors[:5]}")
        # The 429 item made Vantage send its batch again; the mapping error was kept aside.
        log = v.cli("subscription", "log", str(es), "--limit", "50").stdout
        F.check("items answered 429/5xx" in log, "no retry after the 429 item:\n" + log)
        listing = {s["name"]: s for s in json.loads(v.cli("subscription", "list", "org_a", "--json").stdout)}
        F.check(listing["elastic"]["state"]["rejected_items"] == 1,
                f"rejected items: {listing['elastic']['state']}")
        hlog = v.cli("subscription", "log", str(hec)).stdout
        F.check("\tretry\t503\t" in hlog and "Server is busy" in hlog, "no HEC 503 retry:\n" + hlog)
        F.check(harness.wait_for(lambda: "dead" in v.cli("subscription", "log", str(wrong)).stdout,
                                 timeout=30), "wrong token never dead-lettered")
        wlog = v.cli("subscription", "log", str(wrong)).stdout
        F.check("403" in wlog and "Invalid token" in wlog, "wrong token log:\n" + wlog)
        print(f"siem_http_test: _bulk ({len(want_es)} docs, 429 retried, 1 rejected) and HEC "
              f"({len(want)} events, 503 retried, bad token dead-lettered): "
              f"{'ok' if not F.items else 'FAILED'}")
    finally:
        rec.stop()
        v.cleanup(keep=bool(F.items))
    F.finish()


main()
