#!/usr/bin/env python3
"""Security of the portal and console against a real `vantage serve` (registered as
portal_security):

  * CSRF: a state change without the session's token, with another session's token or from a
    foreign Origin is refused and changes nothing; sign-in needs the pre-session token;
  * session fixation: a session id planted before sign-in (made up, or an attacker's own valid
    one) is dropped at sign-in; ids change at every sign-in; sign-out ends the session
    server-side; a duplicated ("tossed") cookie authenticates nobody;
  * one organisation never sees or changes another's data: a seeded random sequence of calls
    to every endpoint the portal lists, with the other organisation's ids, keys, addresses and
    resources mixed into the parameters;
  * operator-only actions are refused to organisations and to read-only viewers, and recorded;
  * TOTP sign-in (RFC 6238 computed here), replay refused;
  * brute force: failed sign-ins are throttled per name and per client address (429) until the
    window has passed, the right password included;
  * secrets never logged: passwords, the TOTP secret, session ids and issued API-key secrets
    appear in no log line, database file or mail.

Usage: portal_security_test.py VANTAGE [SEED]
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

VANTAGE = os.path.realpath(sys.argv[1])
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else int(time.time())
FAILURES = []
WINDOW = 20


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


class Client:
    """A browser-like client: a cookie jar, the CSRF token it was handed, an Origin."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}
        self.csrf = ""
        self.origin = f"http://127.0.0.1:{port}"

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        for c in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = c.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in c:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        conn.close()
        try:
            j = json.loads(raw)
        except ValueError:
            j = {"_raw": raw.decode(errors="replace")}
        if isinstance(j, dict) and isinstance(j.get("csrf"), str):
            self.csrf = j["csrf"]
        return resp.status, j, raw.decode(errors="replace")

    def session(self):
        return self.request("GET", "/portal/api/session")

    def call(self, endpoint, body=None, csrf=True, origin=True, extra=None):
        h = {}
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        if origin:
            h["Origin"] = self.origin
        h.update(extra or {})
        return self.request("POST", "/portal/api/" + endpoint, body if body is not None else {}, h)

    def login(self, login, password, totp=None):
        if not self.csrf:
            self.session()
        body = {"login": login, "password": password}
        if totp:
            body["totp"] = totp
        return self.call("login", body)


def totp_now(b32, t=None):
    key = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    counter = int((t or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def run(data, *args, stdin=None):
    return subprocess.run([VANTAGE, "--data-dir", data, *args], input=stdin, capture_output=True,
                          text=True, check=True, timeout=120).stdout


def main():
    print(f"seed {SEED} (rerun: portal_security_test.py VANTAGE {SEED})")
    rng = random.Random(SEED)
    work = tempfile.mkdtemp(prefix="vportal_sec_")
    data = os.path.join(work, "d")
    server = None
    passwords = {}
    try:
        # Two organisations with their own networks, recipients, keys and events.
        orgs = {"alpha_org": "198.51.100.0/25", "beta_org": "198.51.100.128/25"}
        for short, cidr in orgs.items():
            run(data, "org", "add", "--name", short.replace("_", " ").title(), "--short", short)
            run(data, "org", "resource", "add", short, cidr)
            run(data, "org", "approve", short, cidr)
            run(data, "org", "recipient", "add", short, f"reports-{short}@{short.split('_')[0]}.test")
        beta_key = re.search(r"^key:\s+(\S+)", run(data, "key", "issue", "beta_org"), re.M).group(1)
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        feed = os.path.join(work, "feed.jsonl")
        with open(feed, "w") as f:
            for i in range(1, 9):
                for last in (20 + i, 140 + i):  # alpha's /25, then beta's
                    f.write(json.dumps({"type": "scan_http", "fields": {
                        "timestamp": f"{day} 10:00:{i:02d}", "ip": f"198.51.100.{last}", "port": 8000 + i}}) + "\n")
        run(data, "ingest", "-q", feed)
        run(data, "report", "build", "--date", day)
        run(data, "remediation", "update")
        accounts = {"alice@alpha.test": ("org", "alpha_org"), "bob@beta.test": ("org", "beta_org"),
                    "ops": ("operator", None), "vic": ("viewer", None)}
        for login, (role, org) in accounts.items():
            passwords[login] = f"pw-{login}-{rng.getrandbits(64):016x}"
            args = ["portal", "user", "add", login, "--role", role, "--password-stdin"]
            if org:
                args += ["--org", org]
            run(data, *args, stdin=passwords[login] + "\n")

        env = dict(os.environ, VANTAGE_PORTAL_ARGON2_MEMORY_KIB="8192",
                   VANTAGE_PORTAL_ARGON2_ITERATIONS="1", VANTAGE_PORTAL_LOGIN_MAX_FAILURES="5",
                   VANTAGE_PORTAL_LOGIN_WINDOW_S=str(WINDOW))
        log = open(os.path.join(work, "serve.log"), "w")
        server = subprocess.Popen([VANTAGE, "--data-dir", data, "serve", "--listen", "127.0.0.1:0",
                                   "--no-day-close"], stdout=log, stderr=subprocess.STDOUT, env=env)
        port = None
        for _ in range(300):
            m = re.search(r"listening http://127\.0\.0\.1:(\d+)", open(log.name).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.1)
        check(port is not None, "vantage serve started")
        if not port:
            return

        # ---- CSRF ----------------------------------------------------------------------------
        anon = Client(port)
        anon.session()
        st, _, _ = anon.call("login", {"login": "alice@alpha.test", "password": passwords["alice@alpha.test"]}, csrf=False)
        check(st == 403, f"sign-in without the pre-session token refused ({st})")
        alice = Client(port)
        st, j, _ = alice.login("alice@alpha.test", passwords["alice@alpha.test"])
        check(st == 200 and j["account"]["org"] == "alpha_org", f"alice signs in ({st})")
        bob = Client(port)
        st, _, _ = bob.login("bob@beta.test", passwords["bob@beta.test"])
        check(st == 200, "bob signs in")
        for what, kw in [("no token", {"csrf": False}),
                         ("a wrong token", {"extra": {"X-CSRF-Token": "0" * 64}}),
                         ("bob's token", {"extra": {"X-CSRF-Token": bob.csrf}}),
                         ("a foreign Origin", {"extra": {"Origin": "http://evil.example"}}),
                         ("Origin null", {"extra": {"Origin": "null"}})]:
            st, _, _ = alice.call("org/recipient/add", {"email": "csrf@evil.example"}, **kw)
            check(st == 403, f"CSRF: state change with {what} refused ({st})")
        st, j, _ = alice.call("org")
        check("csrf@evil.example" not in json.dumps(j), "CSRF: nothing was added")
        st, _, _ = alice.call("org/recipient/add", {"email": "soc@alpha.test"})
        check(st == 200, "with the token, the same change works")
        r = alice.request("GET", "/portal/api/org")
        check(r[0] == 405, "GET cannot call a POST endpoint")

        # ---- session fixation ----------------------------------------------------------------
        victim = Client(port)
        victim.cookies["vantage_session"] = "f" * 64
        victim.session()
        st, _, _ = victim.login("alice@alpha.test", passwords["alice@alpha.test"])
        sid = victim.cookies.get("vantage_session", "")
        check(st == 200 and sid not in ("", "f" * 64), "fixation: a made-up session id is replaced at sign-in")
        planted = Client(port)
        planted.cookies["vantage_session"] = "f" * 64
        planted.csrf = victim.csrf
        check(planted.call("org")[0] == 401, "fixation: the made-up id authenticates nobody")
        attacker = Client(port)
        attacker.login("bob@beta.test", passwords["bob@beta.test"])
        evil_sid, evil_csrf = attacker.cookies["vantage_session"], attacker.csrf
        victim2 = Client(port)
        victim2.cookies["vantage_session"] = evil_sid
        victim2.session()
        st, j, _ = victim2.login("alice@alpha.test", passwords["alice@alpha.test"])
        check(st == 200 and victim2.cookies["vantage_session"] != evil_sid,
              "fixation: an attacker's own valid session planted before sign-in is replaced")
        check(attacker.call("org")[0] == 401, "fixation: and the planted session is ended")
        check(victim2.call("org")[1].get("org", {}).get("short_name") == "alpha_org",
              "fixation: the victim works in a session of her own")
        again = Client(port)
        again.login("alice@alpha.test", passwords["alice@alpha.test"])
        check(again.cookies["vantage_session"] != victim2.cookies["vantage_session"], "every sign-in gets a fresh id")
        tossed = Client(port)
        tossed.csrf = again.csrf
        st, _, _ = tossed.request("POST", "/portal/api/org", {}, {
            "X-CSRF-Token": again.csrf,
            "Cookie": f"vantage_session={again.cookies['vantage_session']}; vantage_session={'e' * 64}"})
        check(st == 401, f"a tossed second session cookie authenticates nobody ({st})")
        old = dict(again.cookies)
        old_csrf = again.csrf
        check(again.call("logout")[0] == 200, "sign-out")
        replay = Client(port)
        replay.cookies, replay.csrf = old, old_csrf
        check(replay.call("org")[0] == 401, "the signed-out session is dead server-side")
        del evil_csrf

        # ---- isolation: randomised calls over every endpoint ---------------------------------
        _, eps, _ = anon.request("GET", "/portal/api/endpoints")
        endpoints = {e["name"]: e["roles"] for e in eps["endpoints"]}
        check(len(endpoints) >= 40, f"the portal lists its endpoints ({len(endpoints)})")
        _, bob_org, _ = bob.call("org")
        b = bob_org["org"]
        b_markers = {b["short_name"], b["name"], str(beta_key), "reports-beta_org@beta.test",
                     "198.51.100.128/25", "bob@beta.test"} | {k["key"] for k in b["keys"]}
        b_markers |= {f"198.51.100.{140 + i}" for i in range(1, 9)}
        b_state = run(data, "org", "show", "beta_org") + run(data, "key", "list", "beta_org")
        pool = [b["id"], str(b["id"]), beta_key, "reports-beta_org@beta.test", "198.51.100.128/25",
                "cidr", "asn", "beta_org", 1, 2, 3, 0, -1, 2 ** 40, "", None, True, [], {},
                "' OR 1=1 --", "../../etc/passwd", "x" * 5000, "scan_http", "high", "AS64500",
                "alice-new@alpha.test", "198.51.100.0/25", day, f"{day}:{day}", "open", "all", "type"]
        fields = ["id", "org_id", "resource_id", "key", "email", "kind", "value", "type", "label",
                  "min_severity", "status", "group", "from", "to", "date", "message", "resources",
                  "short_name", "approval", "code", "password", "name", "overlap_seconds", "limit"]
        sent = set()
        leaks, errors, refused_ok = [], [], True
        for i in range(400):
            name = rng.choice(sorted(endpoints))
            if name in ("logout", "login", "account/password", "account/totp/disable"):
                continue  # they end or change the session under test; covered elsewhere
            body = {}
            for _ in range(rng.randint(0, 4)):
                v = rng.choice(pool)
                if name == "org/claim" and rng.random() < 0.5:
                    v = [rng.choice(["198.51.100.128/25", "203.0.113.0/24", "AS64500"])]
                body[rng.choice(fields)] = v
            sent |= {str(v) for v in body.values()} | {json.dumps(v) for v in body.values()}
            st, j, raw = alice.call(name, body)
            if st >= 500:
                errors.append((name, body, st, raw[:200]))
            roles = endpoints[name]
            if "org" not in roles and "public" not in roles and st not in (401, 403):
                refused_ok = False
                errors.append(("not refused", name, st))
            for m in b_markers:
                if m in raw and not any(m in s for s in sent):
                    leaks.append((name, m, raw[:300]))
        check(not errors, f"isolation: no server error, staff endpoints refused ({errors[:3]})")
        check(refused_ok, "isolation: every endpoint outside the organisation's role refused")
        check(not leaks, f"isolation: no answer to alice holds bob's data ({leaks[:3]})")
        after = run(data, "org", "show", "beta_org") + run(data, "key", "list", "beta_org")
        check(after == b_state, "isolation: bob's organisation and keys are unchanged")
        st, j, _ = alice.call("org/key/revoke", {"key": beta_key})
        check(st == 404, f"alice cannot revoke bob's key ({st})")
        st, j, _ = alice.call("org/remediation", {"group": "type"})
        subjects = {i["subject"] for i in j.get("issues", [])}
        check(st == 200 and subjects and all(s.startswith("198.51.100.") and int(s.split(".")[3].split(":")[0]) < 128 for s in subjects),
              f"remediation: alice sees only her own issues ({sorted(subjects)[:4]})")

        # ---- roles ---------------------------------------------------------------------------
        alice = Client(port)
        alice.login("alice@alpha.test", passwords["alice@alpha.test"])
        vic = Client(port)
        vic.login("vic", passwords["vic"])
        ops = Client(port)
        ops.login("ops", passwords["ops"])
        staff_only = [n for n, r in endpoints.items() if r == ["operator"]]
        check(len(staff_only) >= 10, f"operator-only endpoints listed ({len(staff_only)})")
        for n in staff_only:
            st_a = alice.call(n, {"id": b["id"], "key": beta_key})[0]
            st_v = vic.call(n, {"id": b["id"], "key": beta_key})[0]
            check(st_a == 403 and st_v == 403, f"{n}: refused to an organisation ({st_a}) and a viewer ({st_v})")
        check(vic.call("console/queue")[0] == 200, "a viewer may read the queue")
        check(anon.call("console/queue")[0] == 401, "anonymous: sign in first")
        _, audit, _ = ops.call("console/audit", {"limit": 1000})
        refused = [e for e in audit["entries"] if e["action"] == "refused" and e["actor"] == "alice@alpha.test"]
        check(len(refused) >= len(staff_only), f"refusals are in the audit log ({len(refused)})")
        check(audit["chain_intact"], "the audit chain is intact")

        # ---- TOTP ----------------------------------------------------------------------------
        st, t, _ = alice.call("account/totp/begin")
        secret = t.get("secret", "")
        check(st == 200 and len(secret) == 32, "TOTP set-up begins")
        st, _, _ = alice.call("account/totp/confirm", {"code": totp_now(secret)})
        check(st == 200, "TOTP turned on with a code")
        c2 = Client(port)
        st, j, _ = c2.login("alice@alpha.test", passwords["alice@alpha.test"])
        check(st == 401 and j.get("totp_required"), "TOTP: the password alone is not enough")
        time.sleep(max(0.0, 30 - time.time() % 30) + 0.5)  # the next step: the set-up's code is spent
        code = totp_now(secret)
        st, _, _ = c2.login("alice@alpha.test", passwords["alice@alpha.test"], code)
        check(st == 200, f"TOTP: password and code sign in ({st})")
        c3 = Client(port)
        st, _, _ = c3.login("alice@alpha.test", passwords["alice@alpha.test"], code)
        check(st == 401, f"TOTP: a code is good once ({st})")

        # ---- issued secrets, for the log check -------------------------------------------------
        st, k, _ = c2.call("org/key/issue", {"label": "sec-test"})
        api_secret = k.get("secret", "")
        check(st == 200 and api_secret, "an API key issued in the portal")

        # ---- brute force ---------------------------------------------------------------------
        t0 = time.time()
        brute = Client(port)
        codes = [brute.login("bob@beta.test", f"wrong-{i}")[0] for i in range(5)]
        check(codes == [401] * 5, f"five wrong passwords: 401 each ({codes})")
        st, j, _ = brute.login("bob@beta.test", passwords["bob@beta.test"])
        check(st == 429 and j.get("retry_after", 0) > 0, f"then 429, even with the right password ({st})")
        other = Client(port)
        check(other.login("ops", passwords["ops"])[0] == 200, "another name is not locked by bob's failures")
        n = 5
        while n < 20:
            other.login(f"nobody{n}@x.test", "wrong password here")
            n += 1
        st, _, _ = other.login("ops", passwords["ops"])
        check(st == 429, f"twenty failures from one address lock every name from it ({st})")
        time.sleep(max(0.0, t0 + WINDOW + 1 - time.time()))
        fresh = Client(port)
        check(fresh.login("bob@beta.test", passwords["bob@beta.test"])[0] == 200, "after the window, sign-in works again")

        # ---- secrets never logged --------------------------------------------------------------
        server.send_signal(2)
        server.wait(timeout=30)
        server = None
        log.close()
        blobs = {}
        for root, _, files in os.walk(data):
            for fn in files:
                p = os.path.join(root, fn)
                if os.path.getsize(p) < 200 * 1024 * 1024:
                    blobs[p] = open(p, "rb").read()
        blobs["serve.log"] = open(os.path.join(work, "serve.log"), "rb").read()
        secrets = {f"password of {k}": v for k, v in passwords.items()}
        secrets["TOTP secret"] = secret
        secrets["TOTP secret (raw)"] = base64.b32decode(secret + "=" * (-len(secret) % 8))
        secrets["issued API secret"] = api_secret
        for name in ("vantage_session",):
            for cl in (alice, c2, vic, ops, fresh):
                if cl.cookies.get(name):
                    secrets[f"a session id ({name})"] = cl.cookies[name]
        for what, value in secrets.items():
            needle = value if isinstance(value, bytes) else value.encode()
            where = [p for p, b in blobs.items() if needle and needle in b]
            check(not where, f"secrets: {what} is in no file or log ({where})")
    finally:
        if server:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"portal_security: {len(FAILURES)} failures (seed {SEED})")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
