#!/usr/bin/env python3
"""Brute force against the honeypot's login services with real tools, end to end.

`vantage honeypot` runs ssh, telnet, ftp, mysql, vnc and redis on 127.0.0.1 (free ports),
shipping into an inbox; Debian's hydra (every service) and medusa (all but redis, which it has
no module for) attack them with small user and password lists, some passwords with spaces,
Cyrillic and invalid UTF-8. Then:
  * every attempted username/password pair is in the events exactly once per attempt the tool
    made (where the protocol never sends the password, the logged challenge/response is checked
    against the candidates: MySQL's SHA1 scramble, VNC's DES answer via `openssl enc`);
  * the events go through `vantage ingest` and `vantage report build` into a temp data dir with
    an organisation owning 127.0.0.0/8, and the report holds the same rows;
  * the report parses under IntelMQ's Shadowserver rules (tests/report/intelmq_check.py).
As root (CI) the honeypot drops to `nobody` after binding, as in production.
Traffic stays on 127.0.0.1. Usage: brute_force_test.py VANTAGE [SHARED_DIR]
"""
import collections
import csv
import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The report files are read from disk below: the one-file-per-report layout (report.layout).
os.environ["VANTAGE_REPORT_LAYOUT"] = "files"
VANTAGE = os.path.abspath(sys.argv[1])
SHARED = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "..", "shared")
INTELMQ = os.path.join(SHARED, "report_schema", "intelmq.json")

SERVICES = ["ssh", "telnet", "ftp", "mysql", "vnc", "redis"]
# Disjoint lists per tool, so every row can be traced to the tool that sent it.
HYDRA_USERS = [b"root", b"admin"]
HYDRA_PASSWORDS = [b"123456", b"pass word", "пароль".encode(), b"p\xffss"]
MEDUSA_USERS = [b"oracle", b"pi"]
MEDUSA_PASSWORDS = [b"raspberry", b"Pa$$w0rd", b"x\xfe\xfd"]

failures = []


def check(ok, what):
    print(("ok - " if ok else "FAIL - ") + what, flush=True)
    if not ok:
        failures.append(what)


def logged(raw):
    """A credential as the honeypot's JSON line writer keeps it: valid UTF-8 as is, every
    other byte as the text \\xNN (sensors/common/json_line.h)."""
    out, i = [], 0
    while i < len(raw):
        for n in (1, 2, 3, 4):
            chunk = raw[i:i + n]
            try:
                ch = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                out.append(ch)
                i += n
                break
        else:
            out.append("\\x%02x" % raw[i])
            i += 1
    return "".join(out)


def nvt(raw):
    """What a telnet server reads of bytes a client sent unescaped: IAC (0xff) and the byte
    after it are a command, not data (RFC 854); hydra does not double a 0xff in a password."""
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i] == 0xff:
            if i + 1 < len(raw) and raw[i + 1] == 0xff:
                out.append(0xff)
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return bytes(out)


def mysql_native(salt, pw):
    h1 = hashlib.sha1(pw).digest()
    h3 = hashlib.sha1(salt + hashlib.sha1(h1).digest()).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def vnc_des(challenge, pw):
    # VNC's DES key: the password's first 8 bytes, NUL-padded, each byte's bits reversed.
    key = bytes(int("{:08b}".format(b)[::-1], 2) for b in (pw[:8] + b"\0" * 8)[:8])
    out = subprocess.run(["openssl", "enc", "-des-ecb", "-nopad", "-K", key.hex(),
                          "-provider", "legacy", "-provider", "default"],
                         input=challenge, capture_output=True, check=True)
    return out.stdout


def password_of(app, logged_pw, candidates):
    """The candidate a row's password column stands for (None if none, or more than one)."""
    if app == "mysql":
        m = re.fullmatch(r"\$mysqlna\$([0-9a-f]+)\*([0-9a-f]*)", logged_pw)
        if not m and logged_pw == "":
            return b""
        if not m:
            return None
        salt, answer = bytes.fromhex(m.group(1)), bytes.fromhex(m.group(2))
        hits = [c for c in candidates if mysql_native(salt, c) == answer]
    elif app == "vnc":
        m = re.fullmatch(r"\$vnc\$\*([0-9A-F]{32})\*([0-9A-F]{32})", logged_pw)
        if not m:
            return None
        challenge, answer = bytes.fromhex(m.group(1)), bytes.fromhex(m.group(2))
        hits = [c for c in candidates if vnc_des(challenge, c) == answer]
    elif app == "telnet":
        hits = [c for c in candidates if logged(nvt(c)) == logged_pw]
    else:
        hits = [c for c in candidates if logged(c) == logged_pw]
    return hits[0] if len(hits) == 1 else None


def expected_attempts(tool, service):
    """(username, password) -> how many attempts the tool makes (each one a row)."""
    users, pws = (HYDRA_USERS, HYDRA_PASSWORDS) if tool == "hydra" else (MEDUSA_USERS, MEDUSA_PASSWORDS)
    want = collections.Counter()
    for u in users:
        for p in pws:
            if service == "redis" or service == "vnc":
                # No user names in these protocols: hydra tries each password once; medusa
                # still loops over its users, sending the same password each time.
                if tool == "hydra" and u != users[0]:
                    continue
                want[(b"", p)] += 1
            else:
                want[(u, p)] += 1
    return want


def run_tools(tmp, ports):
    def lists(name, items):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(b"\n".join(items) + b"\n")
        return path
    hu, hp = lists("hydra_users", HYDRA_USERS), lists("hydra_passwords", HYDRA_PASSWORDS)
    mu, mp = lists("medusa_users", MEDUSA_USERS), lists("medusa_passwords", MEDUSA_PASSWORDS)
    jobs = []
    for s in SERVICES:
        creds = ["-P", hp] if s in ("redis", "vnc") else ["-L", hu, "-P", hp]
        jobs.append(("hydra", s, ["hydra", "-I", "-t", "4", "-s", str(ports[s])] + creds +
                     ["127.0.0.1", s]))
        if s != "redis":
            jobs.append(("medusa", s, ["medusa", "-h", "127.0.0.1", "-n", str(ports[s]), "-U", mu,
                                       "-P", mp, "-M", s, "-t", "2", "-T", "1"]))
    # The tools run side by side (each bounded); the honeypot keeps them apart by user/password.
    procs = []
    for tool, s, cmd in jobs:
        out = open(os.path.join(tmp, "%s_%s.log" % (tool, s)), "wb")
        procs.append((tool, s, subprocess.Popen(cmd, cwd=tmp, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL), out))
    deadline = time.time() + 90
    for tool, s, p, out in procs:
        try:
            p.wait(timeout=max(1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            check(False, "%s against %s finished within 90 s" % (tool, s))
        out.close()
        log = open(out.name, "rb").read().decode(errors="replace")
        if tool == "hydra":
            check("1 of 1 target completed, 0 valid password" in log,
                  "hydra %s: completed, nothing found" % s)
        else:
            check("ACCOUNT FOUND" not in log and "ERROR" not in log, "medusa %s: no error, nothing found" % s)


def main():
    for tool in ("hydra", "medusa", "openssl"):
        if shutil.which(tool) is None:
            print("brute_force_test: %s not installed (scripts/install-deps.sh --test); skipped" % tool)
            return 77
    tmp = tempfile.mkdtemp(prefix="vantage_hp_bf_")
    os.chmod(tmp, 0o755)  # the honeypot, once `nobody`, renames into the inbox under it
    inbox = os.path.join(tmp, "inbox")
    os.makedirs(inbox)
    os.chmod(inbox, 0o777)
    listen = sum((["--listen", s + "=127.0.0.1:0"] for s in SERVICES), [])
    hp = subprocess.Popen([VANTAGE, "--data-dir", os.path.join(tmp, "hp"), "honeypot", "--inbox", inbox,
                           "--duration", "150"] + listen,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ports = {}
        while len(ports) < len(SERVICES):
            line = hp.stdout.readline()
            if not line:
                break
            m = re.match(r"honeypot: (\w+) listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                ports[m.group(1)] = int(m.group(2))
        check(len(ports) == len(SERVICES), "honeypot listens: %s" % ports)
        if len(ports) < len(SERVICES):
            print(hp.stdout.read())
            return 1
        t0 = time.time()
        run_tools(tmp, ports)
        print("tools ran in %.1f s" % (time.time() - t0))
        if os.geteuid() == 0:
            with open("/proc/%d/status" % hp.pid) as f:
                uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
            check("0" not in uids, "started as root, the honeypot serves as another user (uids %s)" % uids)
    finally:
        hp.send_signal(signal.SIGINT)
        try:
            rest, _ = hp.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            hp.kill()
            rest, _ = hp.communicate()
    check(hp.returncode == 0, "honeypot stopped cleanly (exit %s)" % hp.returncode)

    # 1. The events.
    events = []
    for path in sorted(glob.glob(os.path.join(inbox, "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            events += [json.loads(line) for line in f if line.strip()]
    check(len(events) > 0 and all(e["type"] == "event4_honeypot_brute_force" for e in events),
          "%d brute-force events shipped into the inbox" % len(events))
    for s in SERVICES:
        rows = [e["fields"] for e in events if e["fields"].get("application") == s]
        check(all(r["dst_port"] == ports[s] and r["src_ip"] == "127.0.0.1" and
                  r.get("public_source") and r.get("start_time") and r.get("end_time") and
                  r.get("event_id") for r in rows), "%s rows carry the shared columns" % s)
        ids = [r["event_id"] for r in rows]
        check(len(ids) == len(set(ids)), "%s: every attempt has its own event_id" % s)
        if s == "ssh":
            check(all(re.fullmatch(r"[0-9a-f]{32}", r.get("version", "")) for r in rows),
                  "ssh rows carry the client's HASSH")
            check({r.get("client_version", "")[:8] for r in rows} == {"SSH-2.0-"},
                  "ssh rows carry the client's identification string")
        for tool in ("hydra", "medusa"):
            if tool == "medusa" and s == "redis":
                continue
            users, pws = (HYDRA_USERS, HYDRA_PASSWORDS) if tool == "hydra" else (MEDUSA_USERS, MEDUSA_PASSWORDS)
            got = collections.Counter()
            for r in rows:
                u = r.get("username", "")
                if s not in ("vnc", "redis") and u not in {logged(x) for x in users}:
                    continue
                pw = password_of(s, r.get("password", ""), pws)
                if pw is None:
                    continue  # the other tool's row
                got[(u.encode() if u else b"", pw)] += 1
            want = expected_attempts(tool, s)
            want = collections.Counter({(logged(u).encode(), p): n for (u, p), n in want.items()})
            check(got == want, "%s -> %s: every attempted pair logged exactly once per attempt "
                  "(%d rows)%s" % (tool, s, sum(got.values()),
                                   "" if got == want else " got %s want %s" % (dict(got), dict(want))))
        traced = sum(1 for r in rows if any(
            password_of(s, r.get("password", ""), pws) is not None
            for pws in (HYDRA_PASSWORDS, MEDUSA_PASSWORDS)))
        check(traced == len(rows), "%s: no row the tools did not send (%d/%d traced)" % (s, traced, len(rows)))

    # 2. Through the pipeline into a report.
    data = os.path.join(tmp, "pipeline")
    v = lambda *a: subprocess.run([VANTAGE, "--data-dir", data] + list(a), capture_output=True, text=True)
    v("org", "add", "--name", "Loopback Lab", "--short", "LOOPBACK")
    v("org", "resource", "add", "LOOPBACK", "127.0.0.0/8")
    r = v("ingest", *sorted(glob.glob(os.path.join(inbox, "*.jsonl"))))
    check(r.returncode == 0, "vantage ingest of the inbox" + ("" if r.returncode == 0 else ": " + r.stderr[-300:]))
    days = sorted({e["fields"]["timestamp"][:10] for e in events})
    reports = []
    for day in days:
        r = v("report", "build", "--date", day)
        check(r.returncode == 0, "vantage report build --date %s" % day)
        reports += [line.split("\t")[0] for line in r.stdout.splitlines() if line.endswith(".csv") or "\t" in line]
    reports = [p for p in reports if p.endswith(".csv")]
    check(len(reports) >= 1 and all("event4_honeypot_brute_force-LOOPBACK" in p for p in reports),
          "the report: %s" % [os.path.basename(p) for p in reports])
    csv_rows = []
    for p in reports:
        with open(os.path.join(data, p) if not os.path.isabs(p) else p, newline="", encoding="utf-8") as f:
            csv_rows += list(csv.DictReader(f))
    key = lambda a, u, p, i: (a, u, p, i)
    in_events = collections.Counter(key(e["fields"].get("application"), e["fields"].get("username", ""),
                                        e["fields"].get("password", ""), e["fields"]["event_id"])
                                    for e in events)
    in_report = collections.Counter(key(r["application"], r["username"], r["password"], r["event_id"])
                                    for r in csv_rows)
    check(in_report == in_events, "the report holds every event once (%d rows)" % len(csv_rows))
    r = subprocess.run([sys.executable, os.path.join(HERE, "..", "report", "intelmq_check.py"), INTELMQ] +
                       [os.path.join(data, p) if not os.path.isabs(p) else p for p in reports],
                       capture_output=True, text=True)
    print(r.stdout.strip())
    if r.returncode == 77:
        print("intelmq check skipped: %s not found" % INTELMQ)
    else:
        check(r.returncode == 0, "the report parses under IntelMQ's rules (0 problems)")

    shutil.rmtree(tmp, ignore_errors=True)
    print("brute_force_test: %d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
