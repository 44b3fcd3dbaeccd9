#!/usr/bin/env python3
"""`vantage up` end to end (issue #10's done-when): start it in a temp data dir, wait until it
says it is up, call the API with the printed demo key, download one report, fetch dashboard
statistics, stop it with Ctrl-C (SIGINT) and check it stopped cleanly; then start it again on
an occupied port and check it continues with the same data on a free port; kill that run with
SIGKILL and check its sensors stop by themselves.

Usage: up_test.py <vantage binary>
"""
import hashlib
import hmac
import http.client
import json
import os
import re
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

VANTAGE = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def start(data_dir, listen, env):
    cmd = [VANTAGE, "--data-dir", data_dir, "up", "--listen", listen, "--history-days", "3",
           "--history-events-per-day", "1500", "--feed-interval", "2", "--feed-events", "40"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True, bufsize=1)


def read_until_up(proc, limit_s):
    """Collects stdout until the banner's last line; returns the text. A reader thread,
    because select() on a buffered pipe misses lines already in Python's buffer."""
    lines = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    out = ""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        out += line
        if line.startswith("Stop with Ctrl-C"):
            return out
    return out


def api(base, key, secret, method, params=None):
    body = json.dumps(dict(params or {}, apikey=key)).encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(base + "/api2/" + method, data=body, headers={"HMAC2": mac})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.headers, r.read()


def portal_sign_in(base, login, password):
    """GET /portal/api/session (pre-session cookie + CSRF token), then POST login; returns the
    login answer's status and body. Cookies by hand: http.cookiejar keeps no Secure cookie
    over plain HTTP, which browsers do keep on 127.0.0.1."""
    host = base.split("//", 1)[1]
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("GET", "/portal/api/session")
    r = conn.getresponse()
    pre = json.loads(r.read())
    cookie = "; ".join(c.split(";")[0] for c in r.headers.get_all("Set-Cookie") or [])
    conn.request("POST", "/portal/api/login", body=json.dumps({"login": login, "password": password}),
                 headers={"Cookie": cookie, "X-CSRF-Token": pre.get("csrf", ""),
                          "Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read())


def sensor_pids(data_dir):
    """The processes running a sensor of this data directory (`vantage ... honeypot|sinkhole`)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if data_dir.encode() in b" ".join(argv) and (b"honeypot" in argv or b"sinkhole" in argv):
            pids.append(int(entry))
    return pids


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return -9, err
    return proc.returncode, err


with tempfile.TemporaryDirectory(prefix="vantage-up-") as tmp:
    data = os.path.join(tmp, "data")
    env = dict(os.environ, VANTAGE_DASHBOARD_MIN_COUNT="1")
    proc = start(data, "127.0.0.1:0", env)
    out = read_until_up(proc, 240)
    print(out)
    check("Vantage is up -- DEMO constituency" in out, "banner says it is up and marks the demo")
    base = re.search(r"dashboard\s+(http://\S+)/\n", out)
    key = re.search(r"demo key\s+(\S+)", out)
    secret = re.search(r"demo secret\s+(\S+)", out)
    check(bool(base and key and secret), "banner prints dashboard URL, demo key and secret")
    check("[api]" in out and "uri = " in out, "banner prints a ~/.shadowserver.api")
    check(re.search(r"demo organisation demo_csirt_nl", out) is not None,
          "a national CSIRT is created")
    check(re.search(r"demo organisation demo_as\d+", out) is not None,
          "organisations by real ASNs are created")
    if not (base and key and secret):
        proc.kill()
        print(proc.communicate()[1][-3000:])
        sys.exit(1)
    base, key, secret = base.group(1), key.group(1), secret.group(1)
    api_file = open(os.path.join(data, "demo", "shadowserver.api")).read()
    check(f"key = {key}" in api_file and f"uri = {base}/api2/" in api_file,
          "demo/shadowserver.api holds the key and this run's URI")
    check(oct(os.stat(os.path.join(data, "demo", "credentials")).st_mode & 0o777) == "0o600",
          "demo credentials are private (0600)")
    check(all(re.search(rf"{page}\s+{re.escape(base)}/{page}.html", out)
              for page in ("portal", "console", "register", "remediation")),
          "banner lists the portal, console, registration and remediation pages")
    op = re.search(r"demo operator\s+(\S+)\s+password (\S+)", out)
    org_user = re.search(r"demo org user\s+(\S+)\s+password (\S+)", out)
    check(bool(op and org_user), "banner prints the demo operator and organisation accounts once")
    if op and org_user:
        st, who = portal_sign_in(base, op.group(1), op.group(2))
        check(st == 200 and who["account"]["role"] == "operator", f"demo operator signs in ({st})")
        st, who = portal_sign_in(base, org_user.group(1), org_user.group(2))
        check(st == 200 and who["account"].get("org") == "demo_csirt_nl",
              f"demo organisation user signs in ({st})")

    check(api(base, key, secret, "test/ping") == {"pong": "pong"}
          or "pong" in json.dumps(api(base, key, secret, "test/ping")), "api2 test/ping")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    first = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400))
    reports = api(base, key, secret, "reports/list", {"date": f"{first}:{today}", "limit": 1000})
    check(isinstance(reports, list) and len(reports) > 0, f"reports/list: {len(reports)} reports")
    if reports:
        # Entries name the type's documentation in "url"; files are at <download root>/<id>.
        status, headers, body = get(base + "/dl/" + reports[0]["id"])
        lines = body.decode().splitlines()
        check(status == 200 and len(lines) >= 2 and lines[0].startswith('"timestamp"'),
              f"downloaded {reports[0]['file']}: {len(lines) - 1} rows")

    status, _, body = get(base + "/dash/api/meta")
    meta = json.loads(body)
    check(status == 200 and meta["last_day"] is not None and len(meta["types"]) > 5,
          f"dashboard meta: {meta['first_day']}..{meta['last_day']}, {len(meta['types'])} types")
    status, _, body = get(base + f"/dash/api/stats?group=day&from={first}&to={today}")
    stats = json.loads(body)
    check(status == 200 and stats["total"] >= 3 * 1000,
          f"dashboard stats: {stats['total']} events over {len(stats['rows'])} days")
    status, _, body = get(base + "/")
    check(status in (200, 503), f"dashboard page answers ({status})")
    status, _, body = get(base + "/metrics")
    check(status == 200 and b"vantage_events_accepted_total" in body, "metrics")

    # The live feed and the loopback scan land in the inbox and get ingested.
    deadline = time.time() + 60
    done = []
    while time.time() < deadline:
        done = os.listdir(os.path.join(data, "inbox", "done"))
        if any(n.startswith("demo-feed-") for n in done) and any(n.startswith("scan-") for n in done):
            break
        time.sleep(1)
    check(any(n.startswith("demo-feed-") for n in done), "synthetic feed batches are ingested")
    check(any(n.startswith("scan-") for n in done), "loopback scan results are ingested")

    # The honeypot runs as a child process, listed in the banner; what it logs reaches the
    # pipeline through the push endpoint (shipped only once the service committed it).
    hp = re.search(r"honeypot\s+.*redis (\S+):(\d+)", out)
    check(hp is not None, "banner lists the honeypot's services")
    status_path = os.path.join(data, "sensors", "honeypot", "status.json")
    if hp:
        with socket.create_connection((hp.group(1), int(hp.group(2))), timeout=10) as s:
            s.sendall(b"AUTH up-test-password\r\nQUIT\r\n")
            reply = s.recv(200)
        check(reply.startswith(b"-ERR invalid password"), "the redis honeypot refuses the login")
        shipped = {}
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                shipped = json.load(open(status_path))
            except (OSError, ValueError):
                shipped = {}
            if (shipped.get("journal", {}).get("records", 0) >= 1 and
                    shipped.get("shipper", {}).get("shipped", 0) >= 1 and
                    shipped.get("shipper", {}).get("backlog", 1) == 0):
                break
            time.sleep(0.5)
        check(shipped.get("shipper", {}).get("shipped", 0) >= 1 and
              shipped.get("shipper", {}).get("backlog", 1) == 0,
              f"the honeypot's events are pushed into the pipeline: {shipped.get('shipper')}")

    # The demo attacker (hydra, when installed) brute-forces the honeypots: as root from a demo
    # organisation's address in private network namespaces, its events arrive through the
    # inbox; otherwise from 127.0.0.1 into the loopback honeypot.
    in_netns = os.geteuid() == 0 and shutil.which("ip") is not None
    if shutil.which("hydra"):
        deadline = time.time() + 120
        attacked = False
        while time.time() < deadline and not attacked:
            if in_netns:
                attacked = any(n.startswith("demo-attack-")
                               for n in os.listdir(os.path.join(data, "inbox", "done")))
            else:
                try:
                    attacked = json.load(open(status_path))["journal"]["records"] >= 10
                except (OSError, ValueError, KeyError):
                    pass
            time.sleep(1)
        check(attacked, "the demo attacker's logins reach the pipeline (%s)" %
              ("network namespaces" if in_netns else "loopback"))
    # The sinkhole likewise: listed in the banner, answering for the demo zone, driven by the
    # demo's loopback bots, its events pushed into the pipeline, its domain watch in /metrics.
    sk = re.search(r"sinkhole\s+.*dns (\S+):(\d+)", out)
    check(sk is not None, "banner lists the sinkhole's services")
    if sk:
        q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x03www\x0bnecurs-demo\x04test\x00" + \
            struct.pack(">HH", 1, 1)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        u.sendto(q, (sk.group(1), int(sk.group(2))))
        answer = u.recv(512)
        u.close()
        check(answer[:2] == q[:2] and answer[3] & 0xF == 0 and answer[7] >= 1,
              "the sinkhole answers for the demo zone")
        status_path = os.path.join(data, "sensors", "sinkhole", "status.json")
        shipped = {}
        deadline = time.time() + 40
        while time.time() < deadline:
            try:
                shipped = json.load(open(status_path))
            except (OSError, ValueError):
                shipped = {}
            if (shipped.get("services", {}).get("sinkhole", {}).get("counters", {}).get("http_requests", 0) >= 5
                    and shipped.get("shipper", {}).get("shipped", 0) >= 1):
                break
            time.sleep(0.5)
        check(shipped.get("services", {}).get("sinkhole", {}).get("counters", {}).get("http_requests", 0) >= 5,
              "the demo bots call the sinkhole")
        check(shipped.get("shipper", {}).get("shipped", 0) >= 1,
              f"the sinkhole's events are pushed into the pipeline: {shipped.get('shipper')}")
        status, _, body = get(base + "/metrics")
        check(b'vantage_sensor_warnings{sensor="sinkhole",service="domain-watch"} 1' in body,
              "/metrics shows the sinkhole's domain watch (the demo's lapsed registration)")

    # The push integrations' demo: loopback receivers get the demo CSIRT's critical events live,
    # and the dashboard's organisation view lists the subscriptions with their delivery state.
    check("webhook     http://127.0.0.1:" in out and "syslog      127.0.0.1:" in out,
          "banner names the demo webhook and syslog receivers")
    hook_file = os.path.join(data, "demo", "webhook-received.jsonl")
    syslog_file = os.path.join(data, "demo", "syslog-received.log")
    deadline = time.time() + 60
    while time.time() < deadline and not (os.path.exists(hook_file) and os.path.exists(syslog_file)):
        time.sleep(1)
    hooked = [json.loads(l) for l in open(hook_file)] if os.path.exists(hook_file) else []
    logged = open(syslog_file).read().splitlines() if os.path.exists(syslog_file) else []
    check(hooked and all(e["severity"] == "critical" and e["org"] == "demo_csirt_nl" for e in hooked),
          f"demo webhook receiver got {len(hooked)} critical events of the CSIRT")
    check(logged and all("CEF:0|Vantage|" in l and 'org="demo_csirt_nl"' in l for l in logged),
          f"demo syslog receiver got {len(logged)} RFC 5424/CEF messages")
    body = json.dumps({"apikey": key}).encode()
    req = urllib.request.Request(base + "/dash/api/org/subscriptions", data=body, headers={
        "HMAC2": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()})
    with urllib.request.urlopen(req, timeout=30) as r:
        subs = {s["name"]: s for s in json.loads(r.read())["subscriptions"]}
    check(set(subs) == {"demo-webhook", "demo-syslog"} and
          all(s["state"]["delivered_events"] > 0 for s in subs.values()),
          f"dashboard org view lists the subscriptions: {[(n, s['state']['delivered_events']) for n, s in subs.items()]}")

    rc, err = stop(proc)
    check(rc == 0 and "stopped cleanly" in err, f"Ctrl-C stops cleanly (exit {rc})")
    if in_netns:
        check(not any(os.path.exists("/run/netns/vantage-demo-%s-%d" % (side, proc.pid))
                      for side in ("hp", "atk")), "the demo attacker's network namespaces are gone")

    # Second start: the configured port is taken -> a free port, same data, no new demo.
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    taken = blocker.getsockname()[1]
    proc = start(data, f"127.0.0.1:{taken}", env)
    out2 = read_until_up(proc, 120)
    print(out2)
    base2 = re.search(r"dashboard\s+(http://\S+)/\n", out2)
    check(base2 is not None and not base2.group(1).endswith(f":{taken}"),
          "port in use: it comes up on another port")
    check("demo organisation" not in out2 and "demo secret" not in out2
          and not re.search(r"password \S", out2),
          "second start reuses the demo constituency and does not print secrets again")
    hook2 = re.search(r"webhook\s+(http://\S+)", out2)
    listed = subprocess.run([VANTAGE, "--data-dir", data, "subscription", "list", "demo_csirt_nl",
                             "--json"], capture_output=True, text=True).stdout
    check(hook2 is not None and hook2.group(1) in listed,
          "second start re-points the demo subscriptions at its receivers")
    if base2:
        r2 = api(base2.group(1), key, secret, "reports/list",
                 {"date": f"{first}:{today}", "limit": 1000})
        check(len(r2) == len(reports), "the same reports are there after a restart")
    # Killed with SIGKILL, `up` cannot stop its sensors: they must notice and stop themselves
    # (an orphaned honeypot keeps its ports and pushes to a dead endpoint).
    sensors = sensor_pids(data)
    check(len(sensors) >= 2, f"the second run started its sensors: {sensors}")
    proc.kill()
    _, err = proc.communicate()
    blocker.close()
    deadline = time.time() + 20
    while sensor_pids(data) and time.time() < deadline:
        time.sleep(0.2)
    left = sensor_pids(data)
    check(not left, f"a killed `vantage up` leaves no sensor running: {left}")
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    for side in ("hp", "atk"):  # what SIGKILL left behind in netns mode
        ns = "vantage-demo-%s-%d" % (side, proc.pid)
        if os.path.exists("/run/netns/" + ns):
            subprocess.run(["ip", "netns", "del", ns], check=False)
    check("cannot listen on 127.0.0.1:%d" % taken in err, "the port conflict is explained")

print("\n%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
