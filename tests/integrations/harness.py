"""Shared pieces of the integration tests (Python 3 standard library only): a Vantage data
directory driven through the CLI, `vantage serve` on a port it picks itself, signed pushes to
its /ingest endpoint, and event generators. Everything talks to 127.0.0.1 only; every process
started here is stopped by its own pid.
"""
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

# Fast retries and polling for tests; each is an ordinary [integrations] setting.
FAST_ENV = {
    "VANTAGE_PIPELINE_WATCH_INTERVAL_MS": "100",
    "VANTAGE_INTEGRATIONS_POLL_INTERVAL_MS": "50",
    "VANTAGE_INTEGRATIONS_RETRY_INITIAL_MS": "100",
    "VANTAGE_INTEGRATIONS_RETRY_MAX_S": "1",
    "VANTAGE_INTEGRATIONS_MAX_ATTEMPTS": "4",
}


class Failures:
    def __init__(self):
        self.items = []

    def check(self, cond, what):
        if not cond:
            self.items.append(what)
            print("FAIL:", what, flush=True)
        return cond

    def finish(self):
        """The closing line ctest shows, and the exit status."""
        print(f"{0 if self.items else 1} passed, {1 if self.items else 0} failed")
        sys.exit(1 if self.items else 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=30.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Vantage:
    """One data directory and, when started, its `vantage serve`."""

    def __init__(self, binary, root=None, name="vantage"):
        self.binary = binary
        self.root = root or tempfile.mkdtemp(prefix="vantage-integrations-")
        self.data = os.path.join(self.root, name)
        os.makedirs(self.data, exist_ok=True)
        self.proc = None
        self.base = None
        self.log_path = os.path.join(self.root, name + "-serve.log")
        self.env = dict(os.environ, **FAST_ENV)

    def cli(self, *args, check=True, env=None, stdin=None):
        p = subprocess.run([self.binary, "--data-dir", self.data, *args], capture_output=True,
                           text=True, env=env or self.env, input=stdin, timeout=300)
        if check and p.returncode != 0:
            raise RuntimeError(f"vantage {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    def org(self, short, *resources, kind=None):
        self.cli("org", "add", "--name", short + " (test)", "--short", short,
                 *(["--kind", kind] if kind else []))
        for r in resources:
            self.cli("org", "resource", "add", short, r)
            # An approved claim routes; the CLI approves with the verification command.
        return short

    def key(self, org=None, ingest=False):
        out = self.cli("key", "issue", *([org] if org else []),
                       *(["--ingest"] if ingest else [])).stdout
        return (re.search(r"^key:\s+(\S+)", out, re.M).group(1),
                re.search(r"^secret:\s+(\S+)", out, re.M).group(1))

    def subscribe(self, org, name, kind, address="", *extra, secret=None):
        args = ["subscription", "add", org, "--name", name, "--kind", kind]
        if address:
            args += ["--address", address]
        args += list(extra)
        if secret is not None:
            path = os.path.join(self.root, f"secret-{org}-{name}")
            with open(path, "w") as f:
                f.write(secret + "\n")
            os.chmod(path, 0o600)
            args += ["--secret-file", path]
        out = self.cli(*args).stdout
        return int(re.search(r"added subscription (\d+)", out).group(1)), out

    def serve(self, extra_env=None):
        env = dict(self.env, **(extra_env or {}))
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "--data-dir", self.data, "serve", "--listen",
                                      "127.0.0.1:0", "--no-day-close"],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening (http://\S+) inbox=(\S+)", line)
            if m:
                self.base = m.group(1)
                # Keep draining stdout so that the service never blocks on a full pipe.
                threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
                return self.base
        raise RuntimeError(f"serve did not start; see {self.log_path}")

    @staticmethod
    def _drain(stream):
        for _ in stream:
            pass

    def kill9(self):
        if self.proc:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            try:
                code = self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                code = self.proc.wait()
            self.proc = None
            return code
        return 0

    def cleanup(self, keep=False):
        """Stops the service; removes the directory unless `keep` or $VANTAGE_TEST_KEEP."""
        self.stop()
        if keep or os.environ.get("VANTAGE_TEST_KEEP"):
            print("kept", self.root, flush=True)
            return
        shutil.rmtree(self.root, ignore_errors=True)


def push(base, key, secret, lines, timeout=30):
    """POSTs JSON Lines to /ingest signed with the ingest key; (status, answer or None)."""
    body = ("\n".join(json.dumps(l, separators=(",", ":")) for l in lines) + "\n").encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(base + "/ingest", data=body, method="POST",
                                 headers={"X-Vantage-Key": key, "HMAC2": mac})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, None


def now_text():
    """The current UTC time as a report writes it (events must be recent: the service drops
    raw events older than retention.days at start)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def scan_event(ip, port, severity="critical", type_="scan_http", ts=None, **extra):
    e = {"type": type_, "timestamp": ts or now_text(), "ip": ip, "port": port, "severity": severity,
         "protocol": "tcp", "tag": "test"}
    e.update(extra)
    return e


def verify_signature(secret, headers, body, window=300):
    """The receiving side of X-Vantage-Signature; returns an error text or None."""
    ts = headers.get("X-Vantage-Timestamp")
    sig = headers.get("X-Vantage-Signature", "")
    if not ts or not sig.startswith("v1="):
        return "unsigned"
    try:
        t = int(ts)
    except ValueError:
        return "bad timestamp"
    if abs(time.time() - t) > window:
        return "outside the replay window"
    want = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig[3:]):
        return "bad signature"
    return None
