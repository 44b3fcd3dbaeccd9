#!/usr/bin/env python3
"""Webhook subscriptions end to end against `vantage serve` (Python 3 standard library only).

A receiver here (http.server on 127.0.0.1) checks every request the way docs/integrations.md
tells receivers to: X-Vantage-Signature over "<timestamp>.<body>" with the subscription's
secret, the replay window, JSON Lines. It records each delivery id and event.

  1. two organisations, one subscription each: each gets exactly its events at or above its
     threshold (isolation, filters), within seconds of the push;
  2. failures injected -- HTTP 500, a receiver slower than the subscription's timeout, the
     receiver gone (connection refused) -- are retried with back-off; the refused batch is
     dead-lettered after integrations.max_attempts and listed by `vantage subscription
     dead-letters`; delivery goes on with the next batch; `vantage subscription log` shows
     every attempt;
  3. kill -9 of the service three times while events are being pushed (each push retried by
     the client until acknowledged, as a sensor does): afterwards every event has arrived, none
     in two different deliveries, and a delivery seen twice (the service died between the
     receiver's answer and its record) carried the same body both times.

Usage: webhook_test.py VANTAGE_BINARY
"""
import http.server
import json
import random
import sys
import threading
import time

import harness

VANTAGE = sys.argv[1]
F = harness.Failures()
SECRET_A = "a-signing-secret-0123456789abcdef"
SECRET_B = "b-signing-secret-fedcba9876543210"


class Receiver:
    """A webhook endpoint: /a and /b with their own secrets; a mode switch for failures."""

    def __init__(self, port=0):
        self.lock = threading.Lock()
        self.mode = "ok"          # ok | 500 | slow
        self.fail_left = 0        # requests to fail in the current mode before going back to ok
        self.deliveries = {}      # path -> list of (delivery id, [event dicts], body)
        self.bodies = {}          # delivery id -> body bytes (first seen)
        self.rejected = []        # why requests were refused (must stay empty)
        self.requests = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                path = self.path
                secret = {"/a": SECRET_A, "/b": SECRET_B}.get(path)
                with receiver.lock:
                    receiver.requests += 1
                    mode = receiver.mode if receiver.fail_left > 0 else "ok"
                    if receiver.fail_left > 0:
                        receiver.fail_left -= 1
                if mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                if mode == "slow":
                    time.sleep(3.5)  # the subscriptions' timeout_s is 2
                    try:
                        self.send_response(200)
                        self.end_headers()
                    except OSError:
                        pass
                    return
                why = harness.verify_signature(secret, self.headers, body) if secret else "path"
                if not why and self.headers.get("Content-Type") != "application/x-ndjson":
                    why = "content type " + str(self.headers.get("Content-Type"))
                events = []
                if not why:
                    try:
                        events = [json.loads(l) for l in body.decode().splitlines() if l.strip()]
                    except ValueError as e:
                        why = f"not JSON Lines: {e}"
                if why:
                    with receiver.lock:
                        receiver.rejected.append(why)
                    self.send_response(401)
                    self.end_headers()
                    return
                delivery = self.headers.get("X-Vantage-Delivery")
                with receiver.lock:
                    receiver.deliveries.setdefault(path, []).append((delivery, events, body))
                    receiver.bodies.setdefault(delivery, body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok":true}')

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self, path):
        with self.lock:
            return [e for _, evs, _ in self.deliveries.get(path, []) for e in evs]

    def set_failures(self, mode, count):
        with self.lock:
            self.mode, self.fail_left = mode, count


def key_of(e):
    return (e["row"]["ip"], e["row"]["port"])


def main():
    v = harness.Vantage(VANTAGE)
    receiver = Receiver()
    try:
        v.org("org_a", "192.0.2.0/24")
        v.org("org_b", "198.51.100.0/24")
        ikey, isecret = v.key(ingest=True)
        url = f"http://127.0.0.1:{receiver.port}"
        sub_a, _ = v.subscribe("org_a", "soc", "webhook", url + "/a", "--min-severity", "high",
                               "--window", "1", "--option", "timeout_s=2", secret=SECRET_A)
        sub_b, _ = v.subscribe("org_b", "all", "webhook", url + "/b", "--min-severity", "info",
                               "--window", "0", "--option", "timeout_s=2", secret=SECRET_B)
        base = v.serve()

        # 1. Filters and isolation.
        sev = ["info", "low", "medium", "high", "critical"]
        a_events = [harness.scan_event(f"192.0.2.{i + 1}", 1000 + i, sev[i % 5]) for i in range(20)]
        b_events = [harness.scan_event(f"198.51.100.{i + 1}", 2000 + i, sev[i % 5]) for i in range(10)]
        started = time.time()
        status, _ = harness.push(base, ikey, isecret, a_events + b_events)
        F.check(status == 200, f"push answered {status}")
        want_a = {(e["ip"], e["port"]) for e in a_events if e["severity"] in ("high", "critical")}
        want_b = {(e["ip"], e["port"]) for e in b_events}
        harness.wait_for(lambda: len(receiver.events("/a")) >= len(want_a) and
                         len(receiver.events("/b")) >= len(want_b), timeout=30)
        took = time.time() - started
        got_a = [key_of(e) for e in receiver.events("/a")]
        got_b = [key_of(e) for e in receiver.events("/b")]
        F.check(sorted(got_a) == sorted(want_a), f"org_a got {sorted(got_a)}, wants {sorted(want_a)}")
        F.check(sorted(got_b) == sorted(want_b), f"org_b got {len(got_b)} events, wants {len(want_b)}")
        F.check(all(e["org"] == "org_a" for e in receiver.events("/a")), "foreign event at org_a")
        F.check(all(e["org"] == "org_b" for e in receiver.events("/b")), "foreign event at org_b")
        F.check(took < 15, f"first alerts took {took:.1f} s")
        # Events of one delivery are in store order (ids ascending).
        ids = [e["id"] for e in receiver.events("/a")]
        F.check(ids == sorted(ids), f"org_a events out of order: {ids}")

        # 2. Failures: two 500s, then one answer slower than the timeout -> retried, delivered.
        receiver.set_failures("500", 2)
        n_before = len(receiver.events("/a"))
        harness.push(base, ikey, isecret, [harness.scan_event("192.0.2.100", 3000)])
        F.check(harness.wait_for(lambda: len(receiver.events("/a")) == n_before + 1, timeout=30),
                "event not delivered after two 500s")
        receiver.set_failures("slow", 1)
        harness.push(base, ikey, isecret, [harness.scan_event("192.0.2.101", 3001)])
        F.check(harness.wait_for(lambda: len(receiver.events("/a")) == n_before + 2, timeout=30),
                "event not delivered after a timeout")
        log = v.cli("subscription", "log", str(sub_a), "--limit", "100").stdout
        F.check(log.count("\tretry\t500\t") >= 2, "log lacks the two 500 retries:\n" + log)
        F.check("Timeout was reached" in log or "timed out" in log.lower(),
                "log lacks the timeout:\n" + log)

        # The receiver gone: connection refused until the batch is dead (4 attempts).
        port = receiver.port
        receiver.stop()
        n_before = len(receiver.events("/a"))
        harness.push(base, ikey, isecret, [harness.scan_event("192.0.2.102", 3002),
                                           harness.scan_event("192.0.2.103", 3003)])
        F.check(harness.wait_for(lambda: "dead" in v.cli("subscription", "log", str(sub_a)).stdout,
                                 timeout=30), "refused batch never dead-lettered")
        dead = v.cli("subscription", "dead-letters", str(sub_a), "--payload").stdout
        F.check("2 events" in dead and "4 attempts" in dead, "dead letters:\n" + dead)
        F.check("192.0.2.102" in dead and "192.0.2.103" in dead, "dead letter lacks its body")
        F.check("Couldn't connect" in dead or "refused" in dead.lower(), "dead letter lacks why")
        listing = v.cli("subscription", "list", "org_a", "--json").stdout
        state = json.loads(listing)[0]["state"]
        F.check(state["dead_events"] == 2, f"list shows {state}")
        # Back again on the same port: the next batch is delivered.
        receiver2 = Receiver(port)
        receiver2.deliveries, receiver2.bodies = receiver.deliveries, receiver.bodies
        receiver = receiver2
        harness.push(base, ikey, isecret, [harness.scan_event("192.0.2.104", 3004)])
        F.check(harness.wait_for(lambda: len(receiver.events("/a")) == n_before + 1, timeout=30),
                "delivery did not go on after the dead letter")
        F.check(("192.0.2.102", 3002) not in {key_of(e) for e in receiver.events("/a")},
                "a dead-lettered event was delivered after all")

        # 3. kill -9 while events stream in.
        rng = random.Random(20260115)
        bodies = [[harness.scan_event(f"192.0.2.{1 + (b * 7 + k) % 250}", 10000 + b * 10 + k)
                   for k in range(5)] for b in range(60)]
        state = {"next": 0, "done": False}

        def pusher():
            for b in bodies:
                while True:  # a sensor retries until the service acknowledges
                    if state.get("base"):
                        status, _ = harness.push(state["base"], ikey, isecret, b, timeout=10)
                        if status == 200:
                            break
                    time.sleep(0.05)
                state["next"] += 1
                time.sleep(0.02)
            state["done"] = True

        state["base"] = base
        t = threading.Thread(target=pusher)
        t.start()
        for kill in range(3):
            time.sleep(0.3 + rng.random() * 0.7)
            state["base"] = None
            v.kill9()
            state["base"] = v.serve()
        t.join(timeout=120)
        F.check(state["done"], "pusher did not finish")
        want = {(e["ip"], e["port"]) for b in bodies for e in b}
        harness.wait_for(lambda: want <= {key_of(e) for e in receiver.events("/a")}, timeout=60)
        time.sleep(1.0)  # a duplicate would arrive now
        seen = {}
        for delivery, events, body in receiver.deliveries.get("/a", []):
            for e in events:
                k = key_of(e)
                if k in want:
                    seen.setdefault(k, set()).add(delivery)
        missing = want - set(seen)
        twice = {k: d for k, d in seen.items() if len(d) > 1}
        F.check(not missing, f"lost after kill -9: {sorted(missing)[:10]} ({len(missing)})")
        F.check(not twice, f"delivered in two deliveries: {list(twice.items())[:5]}")
        replays = 0
        with receiver.lock:
            counts = {}
            for delivery, _, body in receiver.deliveries.get("/a", []):
                counts[delivery] = counts.get(delivery, 0) + 1
                F.check(body == receiver.bodies[delivery], f"delivery {delivery} re-sent changed")
            replays = sum(c - 1 for c in counts.values())
        F.check(replays <= 3, f"{replays} re-sent deliveries after 3 kills")
        F.check(not receiver.rejected, f"receiver refused requests: {receiver.rejected[:5]}")
        F.check(receiver.events("/b") and all(e["org"] == "org_b" for e in receiver.events("/b")),
                "org_b's deliveries changed")
        metrics = harness.urllib.request.urlopen(v.base + "/metrics", timeout=10).read().decode()
        F.check("vantage_integrations_events_delivered_total" in metrics, "metrics lack integrations")
        code = v.stop()
        F.check(code == 0, f"serve exited {code}")
        print(f"webhook_test: filters/isolation, 500/timeout retries, refused -> dead letter, "
              f"3x kill -9 ({len(want)} events, {replays} re-sent deliveries): "
              f"{'ok' if not F.items else 'FAILED'}")
    finally:
        receiver.stop()
        v.cleanup()
    F.finish()


main()
