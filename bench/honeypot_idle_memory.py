#!/usr/bin/env python3
"""Memory per idle connection of each honeypot login service.

For each service, a fresh `vantage honeypot` runs it alone on 127.0.0.1 (timeouts raised so
nothing is closed during the measurement); this script opens N connections, reads each one's
greeting (so the service has set the connection up: a session object, and for SSH a libssh
session with its host keys), and leaves them silent. The honeypot's VmRSS (from
/proc/<pid>/status) before and after, divided by N, is the figure; the number of connections
the service still holds (status.json) confirms none was dropped.

Usage: honeypot_idle_memory.py VANTAGE [N=10000] [SERVICE...]
Raises RLIMIT_NOFILE for itself and the honeypot where it may; N is cut to fit the limit.
"""
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

VANTAGE = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
SERVICES = sys.argv[3:] or ["ssh", "telnet", "ftp", "mysql", "vnc", "redis"]
# What each service sends first (redis sends nothing until asked).
GREETING = {"ssh": b"SSH-2.0-", "telnet": b"Username: ", "ftp": b"220 ", "mysql": b"mysql_native",
            "vnc": b"RFB 003.008\n", "redis": None}


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = max(soft, want)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))
    except (ValueError, PermissionError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def measure(service, n, tmp):
    env = dict(os.environ, VANTAGE_HONEYPOT_IDLE_TIMEOUT_S="900", VANTAGE_HONEYPOT_SESSION_TIMEOUT_S="900",
               VANTAGE_HONEYPOT_MAX_CONNECTIONS="1000000")
    data = os.path.join(tmp, service)
    inbox = os.path.join(tmp, "inbox")
    os.makedirs(inbox, exist_ok=True)
    os.chmod(inbox, 0o777)
    hp = subprocess.Popen([VANTAGE, "--data-dir", data, "honeypot", "--inbox", inbox, "--listen",
                           service + "=127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env)
    port = None
    for line in hp.stdout:
        if "listening on" in line:
            port = int(line.rsplit(":", 1)[1])
            break
    time.sleep(1.0)  # threads started, privileges dropped, first status written
    before = vm_rss_kib(hp.pid)
    socks, greeted = [], 0
    t0 = time.time()
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            socks.append(s)
        # Greetings, read once every connection is open (the server answers them as it accepts).
        for s in socks:
            want = GREETING[service]
            if want is None:
                greeted += 1
                continue
            s.settimeout(10)
            got = b""
            while want not in got:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            greeted += want in got
        time.sleep(1.0)
        after = vm_rss_kib(hp.pid)
        status = json.load(open(os.path.join(data, "sensors", "honeypot", "status.json")))
        time.sleep(5.5)  # one more status write, with every connection counted
        status = json.load(open(os.path.join(data, "sensors", "honeypot", "status.json")))
        held = (status.get("services", {}).get("ssh", {}).get("active") if service == "ssh"
                else status["tcp"]["active"])
        per = (after - before) * 1024 / n
        print("%-7s %6d connections (%d greeted, %s held) in %4.1f s  VmRSS %7d KiB -> %7d KiB  "
              "%6.0f bytes/connection" % (service, n, greeted, held, time.time() - t0, before, after, per),
              flush=True)
    finally:
        for s in socks:
            s.close()
        hp.send_signal(signal.SIGINT)
        try:
            hp.wait(timeout=30)
        except subprocess.TimeoutExpired:
            hp.kill()
            hp.wait()


def main():
    # One descriptor per connection here; in the honeypot one (ssh: three, the client's
    # socket and a socketpair), under the limit both inherit.
    limit = raise_nofile(3 * N + 1000)
    print("honeypot_idle_memory: up to %d idle connections per service (descriptor limit %d), "
          "%d cores, load %s" % (N, limit, os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
    tmp = tempfile.mkdtemp(prefix="vantage_hp_mem_")
    os.chmod(tmp, 0o755)
    try:
        for s in SERVICES:
            measure(s, min(N, (limit - 1000) // (3 if s == "ssh" else 1)), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
