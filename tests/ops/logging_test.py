#!/usr/bin/env python3
"""Structured logs and secrets (Python 3 standard library only).

With log.format = "json", every log line `vantage serve` writes is one JSON object on stderr
(ts in RFC 3339 UTC with milliseconds, level, logger, msg) -- including lines that carry bytes
a client chose (a User-Agent with quotes, control characters and invalid UTF-8) and file names
from the inbox; stdout carries only the command's own output (the `listening` line). log.level
is applied and -v/--verbose still overrides it. A configured smtp.password (and PGP signing
passphrase) never appears in any output, log or database, including when a report mail is
attempted against an SMTP port where nothing listens.

Every connection goes to 127.0.0.1: the server's own port (picked by the kernel) and one port
that was bound and closed again so that nothing listens on it.

Usage: logging_test.py VANTAGE_BINARY
"""
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

VANTAGE = sys.argv[1]
work = tempfile.mkdtemp(prefix="vantage-ops-")
data = os.path.join(work, "data")
DAY = "2026-01-15"
PASSWORD = "pw-" + secrets.token_hex(12)
PASSPHRASE = "pp-" + secrets.token_hex(12)
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# A User-Agent a client controls: quote, backslash, tab, invalid UTF-8 and valid UTF-8 (é).
# The server logs it in its access line. (The HTTP parser refuses other control bytes in a
# header; the inbox file name below carries one.)
UA = b'evil"agent\\ \t \xff\xfe caf\xc3\xa9'
UA_LOGGED = 'evil"agent\\ \t \ufffd\ufffd caf\u00e9'
INBOX_NAME = 'feed "quoted" back\\slash \x01 \u00e9t\u00e9.jsonl'

outputs = []  # every byte any command printed, searched for the secrets at the end
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(level):
    path = os.path.join(work, f"vantage-{level}.toml")
    with open(path, "w") as f:
        f.write(f"""[paths]
data_dir = "{data}"
[log]
level = "{level}"
format = "json"
[smtp]
url = "smtp://127.0.0.1:{closed_port()}"
user = "vantage"
password = "{PASSWORD}"
sign_passphrase = "{PASSPHRASE}"
max_attempts = 1
retry_initial_s = 0
[pipeline]
watch_interval_ms = 100
""")
    return path


def run(config, *args, stdin=None):
    p = subprocess.run([VANTAGE, "--config", config, *args], input=stdin, capture_output=True,
                       timeout=120)
    outputs.extend([p.stdout, p.stderr])
    if p.returncode != 0:
        raise SystemExit(f"vantage {' '.join(args)} failed ({p.returncode}): {p.stderr!r}")
    return p.stdout.decode()


def json_lines(stderr_bytes, command_prefix):
    """Parses stderr: every line is a JSON log object, except the command's own diagnostics
    (which start with `vantage <command>:` and are not logs). Returns the objects."""
    objs = []
    text = stderr_bytes.decode("utf-8")  # strict: a JSON log line must be valid UTF-8
    for line in text.splitlines():
        if line.startswith(command_prefix):
            continue
        try:
            o = json.loads(line)
        except ValueError:
            check(False, f"stderr line is not JSON: {line!r}")
            continue
        check(isinstance(o, dict) and set(o) == {"ts", "level", "logger", "msg"},
              f"log object has exactly ts, level, logger, msg: {line!r}")
        check(TS.match(str(o.get("ts", ""))) is not None, f"ts is RFC 3339 UTC with ms: {line!r}")
        check(o.get("level") in ("debug", "info", "warn", "error"), f"level name: {line!r}")
        check(o.get("logger") == "vantage", f"logger name: {line!r}")
        objs.append(o)
    return objs


def serve(config, *flags, inbox_file=False):
    """Runs `vantage serve` on port 0, makes a few requests, stops it with SIGINT.
    Returns (stdout, stderr) bytes."""
    proc = subprocess.Popen([VANTAGE, "--config", config, *flags, "serve", "--listen",
                             "127.0.0.1:0", "--no-day-close"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        first = proc.stdout.readline().decode()
        m = re.match(r"listening http://127\.0\.0\.1:(\d+) inbox=(\S.*)$", first)
        check(m is not None, f"the first stdout line is the listening line: {first!r}")
        if not m:
            raise SystemExit("serve did not start")
        port, inbox = int(m.group(1)), m.group(2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            check(r.read() == b"ok\n", "healthz")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + UA +
                      b"\r\nConnection: close\r\n\r\n")
            reply = b""
            deadline = time.time() + 10
            while time.time() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
            check(reply.startswith(b"HTTP/1.1 200"), f"metrics answered: {reply[:40]!r}")
        if inbox_file:
            path = os.path.join(inbox, INBOX_NAME)
            with open(path + ".tmp", "w") as f:
                f.write('{"type":"scan_http","timestamp":"%s 10:00:00","ip":"192.0.2.7",'
                        '"port":80}\n' % DAY)
            os.rename(path + ".tmp", path)
            done = os.path.join(inbox, "done", INBOX_NAME)
            for _ in range(200):  # at most 20 s
                if os.path.exists(done):
                    break
                time.sleep(0.1)
            check(os.path.exists(done), "inbox file ingested")
        time.sleep(0.3)  # the access log line is written after the response
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        check(proc.returncode == 0, f"serve exit status {proc.returncode}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = first.encode() + out
    outputs.extend([out, err])
    return out, err


def main():
    info_cfg = write_config("info")
    error_cfg = write_config("error")

    # Registry, one event, the day's reports, and a mail attempt against a closed port.
    run(info_cfg, "org", "add", "--name", "Ops test", "--short", "ops_org")
    run(info_cfg, "org", "resource", "add", "ops_org", "192.0.2.0/24")
    run(info_cfg, "org", "recipient", "add", "ops_org", "noc@ops.test")
    run(info_cfg, "ingest", "-q", "--format", "jsonl", "-", stdin=(
        '{"type":"scan_http","timestamp":"%s 10:00:00","ip":"192.0.2.9","port":80}\n' % DAY
    ).encode())
    run(info_cfg, "report", "build", "--date", DAY, "--deliver")
    run(info_cfg, "deliveries", "--org", "1")
    shown = run(info_cfg, "config", "show")
    check('password = "********"' in shown, "config show masks smtp.password")
    check('format = "json"' in shown, "config show reports log.format from the file")

    # log.level = info: access lines and the inbox line, every one valid JSON.
    out, err = serve(info_cfg, inbox_file=True)
    check(out.decode().count("\n") == 1, f"stdout holds only the listening line: {out!r}")
    logs = json_lines(err, "vantage serve: ")
    msgs = [o["msg"] for o in logs]
    check(any(o["level"] == "info" for o in logs), "info lines at log.level = info")
    check(any(UA_LOGGED in m for m in msgs),
          f"access line carries the exact User-Agent (escaped, U+FFFD for bad bytes): {msgs}")
    check(any(INBOX_NAME in m and "1 accepted" in m for m in msgs),
          f"inbox line carries the exact file name: {msgs}")

    # log.level = error: no info lines; -v overrides the level.
    out, err = serve(error_cfg)
    logs = json_lines(err, "vantage serve: ")
    check(not any(o["level"] in ("debug", "info") for o in logs),
          f"no info lines at log.level = error: {logs}")
    out, err = serve(error_cfg, "-v")
    logs = json_lines(err, "vantage serve: ")
    check(any(o["level"] == "info" and o["msg"].startswith("http ") for o in logs),
          "-v brings back the access lines at log.level = error")

    # The secrets: in no output, no log, no file of the data directory.
    for blob in outputs:
        check(PASSWORD.encode() not in blob, "smtp.password printed")
        check(PASSPHRASE.encode() not in blob, "smtp.sign_passphrase printed")
    for path in glob.glob(os.path.join(data, "**"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                content = f.read()
            check(PASSWORD.encode() not in content, f"smtp.password stored in {path}")

    if failures:
        print(f"logging_test: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("logging_test: ok")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)
