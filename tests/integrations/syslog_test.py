#!/usr/bin/env python3
"""Syslog subscriptions end to end against a real rsyslog (Debian's rsyslog, rsyslog-gnutls).

The test starts its own rsyslogd with its own configuration in a temporary directory: imptcp
on one free loopback port (plain TCP) and imtcp with the gtls driver on another (TLS, with a
CA and server certificate made here with openssl), each writing what it receives as
%jsonmesg% lines to a file. Vantage gets three syslog subscriptions: plain TCP, TLS verified
against the test CA, and TLS against a CA that did not sign the server (must fail
verification and never deliver).

Checks: every event pushed for the organisation arrives once on each working subscription;
rsyslog parsed each as RFC 5424 (MSGID = report type, structured data with the event id and
organisation, PRI from the severity); every MSG parses as CEF; every CEF field named by
schemas/cef.json for the type equals the source row's column, labelled with the column name;
another organisation's events never arrive; the bad-CA subscription's attempts say the
certificate did not verify.

Usage: syslog_test.py VANTAGE_BINARY SOURCE_DIR
Skips (77) only where rsyslogd or its gtls driver is not installed.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import harness

VANTAGE, SRC = sys.argv[1], sys.argv[2]
F = harness.Failures()
GTLS = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"


def sh(*args, cwd=None):
    subprocess.run(list(args), check=True, capture_output=True, cwd=cwd, timeout=120)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1/localhost signed by it, and a stranger CA."""
    for ca in ("ca", "other-ca"):
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", f"/CN=Vantage test {ca}", "-keyout", f"{d}/{ca}.key", "-out", f"{d}/{ca}.pem")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
       "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr")
    with open(f"{d}/san.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    sh("openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey",
       f"{d}/ca.key", "-CAcreateserial", "-days", "2", "-extfile", f"{d}/san.ext",
       "-out", f"{d}/server.pem")


def start_rsyslog(d, plain_port, tls_port):
    os.makedirs(f"{d}/work", exist_ok=True)
    conf = f"""
global(workDirectory="{d}/work" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile="{d}/ca.pem"
       DefaultNetstreamDriverCertFile="{d}/server.pem"
       DefaultNetstreamDriverKeyFile="{d}/server.key")
module(load="imptcp")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="json" type="string" string="%jsonmesg%\\n")
input(type="imptcp" address="127.0.0.1" port="{plain_port}" ruleset="plain")
input(type="imtcp" address="127.0.0.1" port="{tls_port}" ruleset="tls")
ruleset(name="plain") {{ action(type="omfile" file="{d}/plain.log" template="json") }}
ruleset(name="tls") {{ action(type="omfile" file="{d}/tls.log" template="json") }}
"""
    with open(f"{d}/rsyslog.conf", "w") as f:
        f.write(conf)
    log = open(f"{d}/rsyslogd.out", "w")
    proc = subprocess.Popen(["rsyslogd", "-n", "-f", f"{d}/rsyslog.conf", "-i", f"{d}/rsyslogd.pid"],
                            stdout=log, stderr=subprocess.STDOUT)
    import socket
    for port in (plain_port, tls_port):
        if not harness.wait_for(lambda: _listening(socket, port), timeout=20):
            proc.kill()
            raise RuntimeError("rsyslogd did not listen: " + open(f"{d}/rsyslogd.out").read())
    return proc


def _listening(socket, port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def read_json_lines(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out


def parse_cef(msg):
    """CEF:0|vendor|product|version|signature|name|severity|extension -> (header, {key: value})."""
    assert msg.startswith("CEF:0|"), msg
    fields, cur, i = [], "", 0
    while len(fields) < 7:
        c = msg[i]
        if c == "\\":
            cur += msg[i + 1]
            i += 2
            continue
        if c == "|":
            fields.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    ext, out, key, value, in_value = msg[i:], {}, "", "", False
    j = 0
    while j < len(ext):
        c = ext[j]
        if in_value and c == "\\":
            n = ext[j + 1]
            value += {"n": "\n", "r": "\r"}.get(n, n)
            j += 2
            continue
        if not in_value and c == "=":
            in_value = True
        elif in_value and c == " " and "=" in ext[j + 1:].split(" ")[0]:
            out[key], key, value, in_value = value, "", "", False
        elif in_value:
            value += c
        else:
            key += c
        j += 1
    if key:
        out[key] = value
    return fields, out


def main():
    if not shutil.which("rsyslogd") or not os.path.exists(GTLS):
        print("syslog_test: rsyslog or rsyslog-gnutls not installed (scripts/install-deps.sh --test)")
        sys.exit(77)
    cef_map = json.load(open(os.path.join(SRC, "schemas", "cef.json")))["types"]
    v = harness.Vantage(VANTAGE)
    d = os.path.join(v.root, "rsyslog")
    os.makedirs(d)
    rsyslog = None
    try:
        make_pki(d)
        plain_port, tls_port = harness.free_port(), harness.free_port()
        rsyslog = start_rsyslog(d, plain_port, tls_port)
        v.org("org_a", "192.0.2.0/24")
        v.org("org_b", "198.51.100.0/24")
        ikey, isecret = v.key(ingest=True)
        v.subscribe("org_a", "plain", "syslog", f"127.0.0.1:{plain_port}", "--min-severity", "info",
                    "--window", "1", "--option", "tls=false")
        v.subscribe("org_a", "tls", "syslog", f"127.0.0.1:{tls_port}", "--min-severity", "info",
                    "--window", "1", "--option", f"ca_file={d}/ca.pem")
        bad, _ = v.subscribe("org_a", "bad-ca", "syslog", f"127.0.0.1:{tls_port}",
                             "--min-severity", "info", "--option", f"ca_file={d}/other-ca.pem")
        base = v.serve()

        sev = ["info", "low", "medium", "high", "critical"]
        rows = []
        for i in range(30):
            rows.append(harness.scan_event(f"192.0.2.{i + 1}", 8000 + i, sev[i % 5],
                                           hostname=f"h{i}.example", tag="http,x=y|z"))
        for i in range(10):
            rows.append(harness.scan_event(f"192.0.2.{100 + i}", 21, "high", "scan_ftp",
                                           banner="220 FTP \\ ready"))
        for i in range(10):
            rows.append({"type": "event4_sinkhole_http", "timestamp": harness.now_text(),
                         "src_ip": f"192.0.2.{200 + i}", "src_port": 40000 + i,
                         "dst_ip": "203.0.113.9", "dst_port": 80, "dst_hostname": "sink.example",
                         "infection": "zeus", "severity": "critical", "protocol": "tcp"})
        foreign = [harness.scan_event(f"198.51.100.{i + 1}", 9000 + i) for i in range(10)]
        status, answer = harness.push(base, ikey, isecret, rows + foreign)
        F.check(status == 200 and answer["accepted"] == len(rows) + len(foreign),
                f"push: {status} {answer}")

        for name in ("plain", "tls"):
            path = f"{d}/{name}.log"
            harness.wait_for(lambda: len(read_json_lines(path)) >= len(rows), timeout=60)
            got = read_json_lines(path)
            F.check(len(got) == len(rows), f"{name}: {len(got)} messages, want {len(rows)}")
            seen = set()
            for m in got:
                F.check(m["protocol-version"] == "1", f"{name}: not RFC 5424: {m['rawmsg'][:80]}")
                F.check(m["app-name"] == "vantage", f"{name}: app-name {m['app-name']}")
                sd = m["structured-data"]
                F.check('org="org_a"' in sd and "event=" in sd, f"{name}: structured data {sd}")
                header, ext = parse_cef(m["msg"])
                type_ = header[4]
                F.check(m["msgid"] == type_, f"{name}: msgid {m['msgid']} for {type_}")
                F.check(f'event="{ext.get("externalId")}"' in sd, f"{name}: event id mismatch")
                row = next((r for r in rows if r["type"] == type_ and
                            str(r.get("ip", r.get("src_ip"))) == ext.get("src") and
                            str(r.get("port", r.get("src_port"))) == ext.get("spt")), None)
                if not F.check(row is not None, f"{name}: CEF matches no source row: {m['msg']}"):
                    continue
                seen.add((type_, ext["src"], ext["spt"]))
                want_sev = {"info": 6, "low": 5, "medium": 4, "high": 3, "critical": 2}[row["severity"]]
                F.check(int(m["syslogseverity"]) == want_sev and int(m["syslogfacility"]) == 16,
                        f"{name}: PRI {m['pri']} for {row['severity']}")
                F.check(header[6] == str({"info": 1, "low": 3, "medium": 5, "high": 8,
                                          "critical": 10}[row["severity"]]),
                        f"{name}: CEF severity {header[6]} for {row['severity']}")
                for column, key in cef_map[type_].items():
                    if column not in row:
                        continue
                    F.check(ext.get(key) == str(row[column]),
                            f"{name}: {type_}.{column} -> {key} = {ext.get(key)!r}, row {row[column]!r}")
                    if key[:2] in ("cs", "cn") or key.startswith("cfp"):
                        F.check(ext.get(key + "Label") == column, f"{name}: {key}Label")
                F.check("198.51.100." not in m["msg"], f"{name}: org_b's event arrived")
            F.check(len(seen) == len(rows), f"{name}: {len(seen)} distinct events of {len(rows)}")
        # The sinkhole type: dst_hostname travels in dhost (upstream wrote it the wrong way round).
        sink = [parse_cef(m["msg"])[1] for m in read_json_lines(f"{d}/tls.log")
                if "event4_sinkhole_http" in m["msg"]]
        F.check(sink and all(e.get("dhost") == "sink.example" for e in sink), f"dhost: {sink[:1]}")
        harness.wait_for(lambda: "retry" in v.cli("subscription", "log", str(bad)).stdout, timeout=30)
        log = v.cli("subscription", "log", str(bad)).stdout
        F.check("certificate verification failed" in log, "bad-CA attempts:\n" + log)
        F.check("\tdelivered\t" not in log, "bad-CA subscription delivered:\n" + log)
        print(f"syslog_test: rsyslog imptcp + imtcp/gtls, {len(rows)} events each, CEF fields "
              f"checked against the source rows, bad CA refused: {'ok' if not F.items else 'FAILED'}")
    finally:
        v.stop()
        if rsyslog:
            rsyslog.send_signal(signal.SIGTERM)
            try:
                rsyslog.wait(timeout=20)
            except subprocess.TimeoutExpired:
                rsyslog.kill()
        v.cleanup()
    F.finish()


main()
