"""Shared by the honeypot test scripts: run `vantage honeypot` on given listeners into an
inbox, read back the events it shipped, and check the reports built from them under
IntelMQ's rules (tests/report/intelmq_check.py).

Everything here talks only to 127.0.0.0/8 or to network namespaces the calling test made.
"""
import base64
import datetime
import glob
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INTELMQ_CHECK = os.path.join(HERE, "..", "report", "intelmq_check.py")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def finish():
    if failures:
        print(f"{len(failures)} failure(s):")
        for f in failures:
            print("  " + f)
        return 1
    print("all checks passed")
    return 0


def workdir(prefix):
    """A temp dir the sensor's unprivileged user (nobody, when run as root) can use."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


class Honeypot:
    """`vantage honeypot` in the background: started with `listen` entries, stopped with
    SIGINT (which flushes every event into the inbox). `netns` runs it in a namespace."""

    def __init__(self, vantage, work, listen, env=None, netns=None, extra=None):
        self.work = work
        self.data = os.path.join(work, "hp")
        self.inbox = os.path.join(work, "inbox")
        os.makedirs(self.inbox, exist_ok=True)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.inbox, nobody.pw_uid, nobody.pw_gid)
        cmd = [vantage, "--data-dir", self.data, "honeypot", "--inbox", self.inbox]
        for entry in listen:
            cmd += ["--listen", entry]
        cmd += extra or []
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("VANTAGE_")}
        full_env.update(env or {})
        self.log = open(os.path.join(work, "honeypot.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env=full_env)
        self.ports = {}
        self.lines = []
        want = len(listen)
        deadline = time.time() + 20
        # "honeypot: NAME listening on HOST:PORT", one per service, then it serves.
        while len(self.ports) < want and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            m = re.match(r"honeypot: (\S+) listening on (\S+):(\d+)", line)
            if m:
                self.ports[m.group(1)] = int(m.group(3))
        threading.Thread(target=self._drain, daemon=True).start()
        if len(self.ports) < want:
            self.stop()
            raise RuntimeError("honeypot did not start: " + "".join(self.lines) +
                               open(os.path.join(work, "honeypot.log")).read())
        time.sleep(0.2)  # loops running after the banner

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def status(self):
        path = os.path.join(self.data, "sensors", "honeypot", "status.json")
        try:
            return json.load(open(path))
        except (OSError, ValueError):
            return {}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def events(self, type_prefix="event4_honeypot_"):
        out = []
        for f in sorted(glob.glob(os.path.join(self.inbox, "*.jsonl"))):
            for line in open(f, encoding="utf-8"):
                rec = json.loads(line)
                if rec["type"].startswith(type_prefix):
                    out.append(rec)
        return out


def raw_request(event):
    raw = event["fields"].get("request_raw", "")
    return base64.b64decode(raw).decode("latin-1") if raw else ""


def intelmq_reports(vantage, work, inbox, cidrs, shared_dir=None):
    """Ingests the inbox into a fresh data dir with one organisation owning `cidrs`, builds
    today's reports, and runs IntelMQ's rules over each. Returns the report files built."""
    data = os.path.join(work, "pipeline")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VANTAGE_")}

    def v(*args):
        r = subprocess.run([vantage, "--data-dir", data] + list(args), capture_output=True,
                           text=True, env=env, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"vantage {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    v("org", "add", "--name", "Honeypot Test Org", "--short", "HP_Test")
    for c in cidrs:
        v("org", "resource", "add", "HP_Test", c)
    files = sorted(glob.glob(os.path.join(inbox, "*.jsonl")))
    check(len(files) > 0, "the sensor shipped segment files into the inbox")
    v("ingest", "-q", *files)
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    v("report", "build", "--date", day)
    # Reports live in the day's pack (report.layout's default); IntelMQ reads files, so export
    # them the way an operator would.
    exported = os.path.join(work, "exported")
    v("report", "export", "--date", day, "--dir", exported)
    reports = sorted(glob.glob(os.path.join(exported, "**", "*.csv"), recursive=True))
    # The shared specs sit beside the checkout (../shared), or where VANTAGE_SHARED_DIR says.
    candidates = [shared_dir, os.environ.get("VANTAGE_SHARED_DIR"),
                  os.path.join(HERE, "..", "..", "..", "shared"),
                  os.path.join(HERE, "..", "..", "..", "..", "shared")]
    schema = next((os.path.join(c, "report_schema", "intelmq.json") for c in candidates
                   if c and os.path.exists(os.path.join(c, "report_schema", "intelmq.json"))),
                  None)
    if not schema:
        print("note: report_schema/intelmq.json not found; IntelMQ check skipped")
        return reports
    r = subprocess.run([sys.executable, INTELMQ_CHECK, schema] + reports, capture_output=True,
                       text=True)
    print(r.stdout.strip())
    check(r.returncode == 0 and reports, f"IntelMQ rules: 0 problems in {len(reports)} reports")
    return reports
