#!/usr/bin/env python3
"""Scripted servers for the scan types of branch scan-more whose software Debian 12 does not
package: an AFP server (netatalk left Debian after bullseye), an Android device's adbd, a
Cisco Smart Install client, Radmin, a TR-069 CPE, a Hadoop NameNode and DataNode, Exchange's
Outlook on the web, an Exim 4.92.1 mail server for the Exim checks of conf/checks (Debian 12's
exim4 is 4.96 and conflicts with the test suite's postfix), IBM DB2's discovery service, Apple Remote Desktop's agent, a Windows
RDP-over-UDP listener and the Netis router backdoor. Each answers with the reply shape its
product sends, as documented by the protocol's specification or by public scanners' probes
(nmap-service-probes, Cisco Talos' smi_check, Shadowserver's published methodology); where a
shape is partly assumed the comment says so. Plus an ordinary web server (nginx_more) as the
negative control. Every listener stops after --seconds.

usage: more_responders.py PORTFILE CERT KEY [--host ADDR] [--default-ports] [--seconds N]
  writes "name port proto" lines to PORTFILE once every listener is bound; with
  --default-ports each service takes its well-known port (inside a test namespace), else the
  OS picks free ports.
"""
import json, socket, ssl, struct, sys, threading, time

from responder_lib import read_request, recv_exact, serve_tcp

portfile, cert, key = sys.argv[1:4]
arg = lambda name, default: sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default
seconds = int(arg("--seconds", "150"))
host = arg("--host", "127.0.0.1")
default_ports = "--default-ports" in sys.argv


# --- TCP services ---------------------------------------------------------------------------
def pstr(s):
    return bytes([len(s)]) + s


def afp(c):
    """DSIGetStatus answered with a macOS-style FPGetSrvrInfo block (AFP reference, FPGetSrvrInfo;
    offsets from the block's start, the second offset set at an even position after the name)."""
    req = recv_exact(c, 16)
    if req[0] != 0 or req[1] != 3: return
    name = b"Vantage Mac"
    fixed = 8 + 2 + 1 + len(name)
    fixed += fixed % 2
    fixed += 8  # signature, network addresses, directory names, UTF-8 name offsets
    machine = pstr(b"Xserve")
    versions = bytes([5]) + b"".join(pstr(v) for v in (b"AFP3.4", b"AFP3.3", b"AFP3.2", b"AFP3.1", b"AFPX03"))
    uams = bytes([3]) + b"".join(pstr(u) for u in (b"DHX2", b"Recon1", b"Client Krb v2"))
    signature = bytes.fromhex("5641e8c1d09f4b2e8a1f6c3b2d4e5f60")
    addrs = bytes([2]) + bytes([8, 2]) + socket.inet_aton("192.0.2.48") + struct.pack(">H", 548) + \
        bytes([2 + len(b"vantage-mac.local"), 4]) + b"vantage-mac.local"
    dirs = bytes([1]) + pstr(b"afpserver/LKDC:SHA1.5641E8C1D09F@LKDC:SHA1.5641E8C1D09F")
    utf8 = struct.pack(">H", len("Vantage Mac".encode())) + "Vantage Mac".encode()
    parts = [machine, versions, uams, signature, addrs, dirs, utf8]
    offs, pos = [], fixed
    for p in parts:
        offs.append(pos)
        pos += len(p)
    flags = 0x8ffb  # copy file, changeable passwords, messages, signature, TCP, notifications,
    # reconnect, open directory, UTF-8 name, UUIDs, super client
    head = struct.pack(">HHHHH", offs[0], offs[1], offs[2], 0, flags) + pstr(name)
    if len(head) % 2: head += b"\0"
    head += struct.pack(">HHHH", offs[3], offs[4], offs[5], offs[6])
    block = head + b"".join(parts)
    c.sendall(struct.pack(">BBHIII", 1, 3, struct.unpack(">H", req[2:4])[0], 0, len(block), 0) + block)


def adb(c):
    """adbd with authorisation off (ro.adb.secure=0): CNXN answered by CNXN (ADB protocol.txt)."""
    head = recv_exact(c, 24)
    if head[:4] != b"CNXN": return
    recv_exact(c, struct.unpack("<I", head[12:16])[0])
    banner = (b"device::ro.product.name=sdk_gphone64_x86_64;ro.product.model=sdk_gphone64_x86_64;"
              b"ro.product.device=emu64xa;features=sendrecv_v2_brotli,remount_shell,sendrecv_v2,"
              b"abb_exec,fixed_push_mkdir,fixed_push_symlink_timestamp,abb,shell_v2,cmd,ls_v2,apex,stat_v2")
    cnxn = 0x4e584e43
    c.sendall(struct.pack("<6I", cnxn, 0x01000001, 256 * 1024, len(banner), 0, cnxn ^ 0xffffffff) + banner)


def smart_install(c):
    """A Smart Install client answers Talos' smi_check probe (1 1 4 8 1 0) with 4 0 3 8 1 0."""
    if recv_exact(c, 24) == struct.pack(">6I", 1, 1, 4, 8, 1, 0):
        c.sendall(struct.pack(">6I", 4, 0, 3, 8, 1, 0))


def radmin(c):
    """Radmin 3.x's answer to the client hello (nmap's "Radmin 3.X / Radmin Authentication"
    shape for the first 14 bytes; the 28 bytes after them are assumed zero here)."""
    if recv_exact(c, 10) == b"\x01\x00\x00\x00\x01\x00\x00\x00\x08\x08":
        c.sendall(b"\x01\x00\x00\x00\x25\x00\x00\x02\x12\x08\x02\x00\x00\x0a" + bytes(28))


def exim(c):
    """Exim 4.92.1 with its default smtp_banner and STARTTLS (the greeting, EHLO and STARTTLS
    answers Exim sends; the TLS handshake with the test certificate, then nothing)."""
    c.sendall(b"220 vmx.vantage.test ESMTP Exim 4.92.1 Mon, 07 Dec 2026 06:00:00 +0000\r\n")
    buf = b""
    while True:
        while b"\r\n" not in buf:
            d = c.recv(4096)
            if not d: return
            buf += d
        line, buf = buf.split(b"\r\n", 1)
        cmd = line.upper()
        if cmd.startswith(b"EHLO"):
            c.sendall(b"250-vmx.vantage.test Hello " + line[5:] + b" [198.18.47.1]\r\n250-SIZE 52428800\r\n"
                      b"250-8BITMIME\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-STARTTLS\r\n250 HELP\r\n")
        elif cmd == b"STARTTLS":
            c.sendall(b"220 TLS go ahead\r\n")
            t = ctx.wrap_socket(c, server_side=True)
            t.recv(1)  # until the client goes away
            return
        else:
            c.sendall(b"500 unrecognized command\r\n")


REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found"}


def http_server(routes):
    def serve(c):
        while True:
            path = read_request(c)
            if path is None: return
            code, headers, body = routes(path)
            c.sendall(b"HTTP/1.1 %d %s\r\n" % (code, REASONS[code]) + headers +
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return serve


def cwmp_routes(path):
    """A TR-069 CPE's connection-request server (gSOAP-based stacks, Huawei realm): every
    anonymous request gets a Digest challenge."""
    return 401, (b"Server: gSOAP/2.7\r\nContent-Type: text/xml; charset=utf-8\r\nConnection: close\r\n"
                 b'WWW-Authenticate: Digest realm="HuaweiHomeGateway", nonce="8f3c1b2a9d7e6f5a4b3c2d1e0f9a8b7c",'
                 b' qop="auth", algorithm="MD5"\r\n'), b""


GIB = 1024 ** 3
LIVE = {"vdn1.vantage.test:9866": {"infoAddr": "192.0.2.61:9864", "xferaddr": "192.0.2.61:9866",
                                    "lastContact": 1, "usedSpace": 12 * GIB, "adminState": "In Service",
                                    "capacity": 500 * GIB, "remaining": 450 * GIB, "numBlocks": 1200},
        "vdn2.vantage.test:9866": {"infoAddr": "192.0.2.62:9864", "xferaddr": "192.0.2.62:9866",
                                    "lastContact": 0, "usedSpace": 13 * GIB, "adminState": "In Service",
                                    "capacity": 500 * GIB, "remaining": 449 * GIB, "numBlocks": 1210}}
NN_INFO = {"name": "Hadoop:service=NameNode,name=NameNodeInfo",
           "modelerType": "org.apache.hadoop.hdfs.server.namenode.FSNamesystem",
           "Threads": 51, "ClusterId": "CID-6a1b5c0e-3f0d-4c59-9a1e-7d2f0b8e4c11",
           "Version": "3.3.6, r1be78238728da9266a4f88195058f08fd012bf9c", "SoftwareVersion": "3.3.6",
           "Used": 25 * GIB, "Free": 899 * GIB, "Total": 1000 * GIB, "Safemode": "",
           "NonDfsUsedSpace": 76 * GIB, "PercentUsed": 2.5, "BlockPoolId": "BP-1482291163-192.0.2.60-1700000000000",
           "LiveNodes": json.dumps(LIVE), "DeadNodes": "{}", "DecomNodes": "{}"}
NN_STATUS = {"name": "Hadoop:service=NameNode,name=NameNodeStatus",
             "modelerType": "org.apache.hadoop.hdfs.server.namenode.NameNode", "State": "active",
             "NNRole": "NameNode", "HostAndPort": "vnn.vantage.test:8020", "SecurityEnabled": False}
DN_INFO = {"name": "Hadoop:service=DataNode,name=DataNodeInfo",
           "modelerType": "org.apache.hadoop.hdfs.server.datanode.DataNode",
           "Version": "3.3.6", "SoftwareVersion": "3.3.6", "ClusterId": "CID-6a1b5c0e-3f0d-4c59-9a1e-7d2f0b8e4c11",
           "NamenodeAddresses": json.dumps({"vnn.vantage.test": "BP-1482291163-192.0.2.60-1700000000000"}),
           "VolumeInfo": json.dumps({"/data/dfs/dn": {"usedSpace": 12 * GIB, "freeSpace": 450 * GIB,
                                                      "reservedSpace": 0, "numBlocks": 1200}}),
           "XceiverCount": 1, "HttpPort": 9864}


def jmx(beans_for):
    def routes(path):
        beans = beans_for(path)
        body = json.dumps({"beans": beans}, indent=2).encode()
        return 200, (b"Cache-Control: no-cache\r\nContent-Type: application/json; charset=utf8\r\n"
                     b"X-Content-Type-Options: nosniff\r\nServer: Jetty(9.4.51.v20230217)\r\n"), body
    return routes


def namenode_beans(path):
    if "name=NameNodeInfo" in path: return [NN_INFO]
    if "name=NameNodeStatus" in path: return [NN_STATUS]
    return []


def datanode_beans(path):
    return [DN_INFO] if "name=DataNodeInfo" in path else []


OWA = (b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\r\n<html><head>'
       b'<meta http-equiv="X-UA-Compatible" content="IE=10" /><title>Outlook</title>'
       b'<link rel="shortcut icon" href="/owa/auth/15.1.2507/themes/resources/favicon.ico" type="image/x-icon">'
       b'<link type="text/css" rel="stylesheet" href="/owa/auth/15.1.2507/themes/resources/logon.css">'
       b'</head><body class="signInBg"><form action="/owa/auth.owa" method="POST" name="logonForm">'
       b'<input type="hidden" name="destination" value="https://mail.vantage.test/owa/">'
       b'</form></body></html>')


def owa_routes(path):
    """Exchange 2016 CU23's logon page (build 15.1.2507 in the resource paths, no X-OWA-Version on
    the anonymous page), served by IIS with the front-end server's name in X-FEServer."""
    if path.startswith("/owa/auth/logon.aspx"):
        return 200, (b"Cache-Control: no-cache, no-store\r\nContent-Type: text/html; charset=utf-8\r\n"
                     b"Server: Microsoft-IIS/10.0\r\nrequest-id: 5b2e6d0c-1f3a-4b7e-9c8d-2a1b0c9d8e7f\r\n"
                     b"X-Frame-Options: SAMEORIGIN\r\nX-AspNet-Version: 4.0.30319\r\nX-Powered-By: ASP.NET\r\n"
                     b"X-FEServer: VEXCH01\r\n"), OWA
    return 404, b"Content-Type: text/html\r\nServer: Microsoft-IIS/10.0\r\n", b"<h1>404</h1>"


NGINX = (b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1>"
         b"<p>Outlook, logon.aspx, Hadoop, beans, cwmp and TR-069 are words on this page.</p></body></html>")


def nginx_routes(path):
    return 200, b"Server: nginx/1.22.1\r\nContent-Type: text/html\r\n", NGINX


# --- UDP services ---------------------------------------------------------------------------
def db2(d):
    """The DB2 Administration Server: DB2RETADDR, product level, node name, zero-padded."""
    if d.startswith(b"DB2GETADDR\0"):
        r = b"DB2RETADDR\0SQL11058\0VDB2HOST\0"
        return r + bytes(0x120 - len(r))


def ard(d):
    """The ARD agent's status block (nmap's netassistant layout: 00 01 03 ea 00 31, 0x01 at 41,
    0x12 at 83, the machine name as a length-prefixed string at 126; the rest zero here)."""
    if d == b"\0\x14\0\x01\x03":
        b = bytearray(1004)
        b[0:6] = b"\x00\x01\x03\xea\x00\x31"
        b[41] = 0x01
        b[83] = 0x12
        name = b"Vantage iMac"
        b[126] = len(name)
        b[127:127 + len(name)] = name
        return bytes(b)


def rdpeudp(d):
    """MS-RDPEUDP SYN answered by SYN+ACK (snSourceAck = the client's initial sequence number,
    the server's own SYNDATA payload), zero-padded like the SYN."""
    if len(d) >= 16 and struct.unpack(">H", d[6:8])[0] & 1 and d[:4] == b"\xff\xff\xff\xff":
        r = struct.pack(">IHH", struct.unpack(">I", d[8:12])[0], 64, 0x0005) + struct.pack(">IHH", 0x1c2a3b4d, 1232, 1232)
        return r + bytes(1232 - len(r))


def netis(d):
    """The Netis/Netcore backdoor's prompt to a bare line (the text per Shadowserver's and Trend
    Micro's descriptions: "Login" appears; the exact bytes are not from a capture)."""
    return b"\nLogin:"


TCP = {"afp": (548, afp, False), "adb": (5555, adb, False), "cisco_smart_install": (4786, smart_install, False),
       "radmin": (4899, radmin, False), "cwmp": (7547, http_server(cwmp_routes), False),
       "hadoop": (50070, http_server(jmx(namenode_beans)), False),
       "hadoop_datanode": (50075, http_server(jmx(datanode_beans)), False),
       "exchange": (443, http_server(owa_routes), True), "exim": (25, exim, False), "nginx_more": (80, http_server(nginx_routes), False)}
UDP = {"db2": (523, db2), "ard": (3283, ard), "rdpeudp": (3389, rdpeudp), "netis": (53413, netis)}

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
end = time.time() + seconds


def run_udp(handler, sock):
    while time.time() < end:
        try: d, peer = sock.recvfrom(65535)
        except socket.timeout: continue
        r = handler(d)
        if r: sock.sendto(r, peer)


lines = []
for name, (port, handler, tls) in TCP.items():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port if default_ports else 0)); s.listen(64); s.settimeout(0.5)
    lines.append(f"{name} {s.getsockname()[1]} tcp")
    threading.Thread(target=serve_tcp, args=(handler, ctx if tls else None, s, end), daemon=True).start()
for name, (port, handler) in UDP.items():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port if default_ports else 0)); s.settimeout(0.5)
    lines.append(f"{name} {s.getsockname()[1]} udp")
    threading.Thread(target=run_udp, args=(handler, s), daemon=True).start()
with open(portfile + ".tmp", "w") as f: f.write("\n".join(lines) + "\n")
import os; os.rename(portfile + ".tmp", portfile)
while time.time() < end: time.sleep(0.5)
