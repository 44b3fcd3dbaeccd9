#!/usr/bin/env python3
"""Scripted servers for the TCP probes whose software Debian 12 does not package (MongoDB,
SQL Server, CouchDB, the Kubernetes API server, and the Citrix/Fortinet/Ivanti/Palo Alto
appliances), answering with the shapes
those products send (field names, types and order as captured from real servers), plus an
ordinary web server as the negative control for the fingerprints. Loopback only; every
listener stops after --seconds.

usage: tcp_responders.py PORTFILE CERT KEY [--seconds N]
  writes "name port" lines to PORTFILE once every listener is bound (ports chosen by the OS).
"""
import json, socket, ssl, struct, sys, threading, time

from responder_lib import read_request, recv_exact, serve_tcp

portfile, cert, key = sys.argv[1:4]
seconds = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 150

# --- BSON (bsonspec.org), the subset the replies use -------------------------------------
def bson(doc):
    out = b""
    for k, v in doc.items():
        name = k.encode() + b"\0"
        if isinstance(v, bool): out += b"\x08" + name + (b"\x01" if v else b"\x00")
        elif isinstance(v, float): out += b"\x01" + name + struct.pack("<d", v)
        elif isinstance(v, int) and -2**31 <= v < 2**31: out += b"\x10" + name + struct.pack("<i", v)
        elif isinstance(v, int): out += b"\x12" + name + struct.pack("<q", v)
        elif isinstance(v, str):
            s = v.encode() + b"\0"; out += b"\x02" + name + struct.pack("<i", len(s)) + s
        elif isinstance(v, dict): out += b"\x03" + name + bson(v)
        elif isinstance(v, list): out += b"\x04" + name + bson({str(i): x for i, x in enumerate(v)})
        elif isinstance(v, bytes): out += b"\x07" + name + v  # ObjectId (12 bytes)
    return struct.pack("<i", len(out) + 5) + out + b"\0"

def bson_first_key(doc):
    return doc[5:doc.index(b"\0", 5)].decode()

# MongoDB 7.0.5 (as mongod answers): isMaster, buildInfo, listDatabases.
HELLO = {"ismaster": True, "topologyVersion": {"processId": b"\x65\x8f\x00\x01" * 3, "counter": 0},
         "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000, "maxWriteBatchSize": 100000,
         "logicalSessionTimeoutMinutes": 30, "connectionId": 7, "minWireVersion": 0,
         "maxWireVersion": 21, "readOnly": False, "ok": 1.0}
BUILDINFO = {"version": "7.0.5", "gitVersion": "7809d71e84e314b497f282ea8aa06d7ded3eb205",
             "modules": [], "allocator": "tcmalloc", "javascriptEngine": "mozjs", "sysInfo": "deprecated",
             "versionArray": [7, 0, 5, 0],
             "openssl": {"running": "OpenSSL 3.0.2 15 Mar 2022", "compiled": "OpenSSL 3.0.2 15 Mar 2022"},
             "buildEnvironment": {"distmod": "ubuntu2204", "distarch": "x86_64", "target_arch": "x86_64"},
             "bits": 64, "debug": False, "maxBsonObjectSize": 16777216,
             "storageEngines": ["devnull", "inMemory", "wiredTiger"], "ok": 1.0}
LISTDBS = {"databases": [{"name": "admin", "sizeOnDisk": 40960, "empty": False},
                         {"name": "config", "sizeOnDisk": 61440, "empty": False},
                         {"name": "local", "sizeOnDisk": 73728, "empty": False}],
           "totalSize": 176128, "totalSizeMb": 0, "ok": 1.0}

def mongodb(c):
    for _ in range(3):
        head = recv_exact(c, 16)
        length, rid, _, op = struct.unpack("<iiii", head)
        body = recv_exact(c, length - 16)
        if op == 2004:  # OP_QUERY: flags, cstring collection, skip, return, doc
            doc = body[body.index(b"\0", 4) + 9:]
        elif op == 2013:  # OP_MSG: flags, kind 0, doc
            doc = body[5:]
        else: return
        cmd = bson_first_key(doc).lower()
        reply = bson({"ismaster": HELLO, "buildinfo": BUILDINFO, "listdatabases": LISTDBS}[cmd])
        if op == 2004:
            payload = struct.pack("<iqii", 8, 0, 0, 1) + reply
            c.sendall(struct.pack("<iiii", 16 + len(payload), 100 + rid, rid, 1) + payload)
        else:
            payload = struct.pack("<I", 0) + b"\0" + reply
            c.sendall(struct.pack("<iiii", 16 + len(payload), 100 + rid, rid, 2013) + payload)

def mssql(c):  # SQL Server 2019 RTM (15.0.2000) PRELOGIN answer, encryption not supported
    req = c.recv(4096)
    if not req or req[0] != 0x12: return
    data = bytes([15, 0]) + struct.pack(">H", 2000) + struct.pack(">H", 5) + b"\x02" + b"\x00" + b"\x00"
    toks = b""
    off = 5 * 4 + 1
    for t, n in ((0, 6), (1, 1), (2, 1), (4, 1)):
        toks += bytes([t]) + struct.pack(">HH", off, n); off += n
    payload = toks + b"\xff" + data
    c.sendall(b"\x04\x01" + struct.pack(">H", 8 + len(payload)) + b"\x00\x00\x01\x00" + payload)

def http_reply(code, body, ctype="application/json", extra=b"", close=False):
    reason = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found"}[code]
    return (b"HTTP/1.1 %d %s\r\n" % (code, reason) + extra + b"Content-Type: " + ctype.encode() +
            b"\r\nContent-Length: %d\r\n" % len(body) + (b"Connection: close\r\n" if close else b"") +
            b"\r\n" + body)

def http_server(routes, server_header):
    def serve(c):
        while True:
            path = read_request(c)
            if path is None: return
            code, body, ctype, extra = routes(path)
            c.sendall(http_reply(code, body, ctype, b"Server: " + server_header + b"\r\n" + extra))
    return serve

COUCH_ROOT = json.dumps({"couchdb": "Welcome", "version": "3.3.3", "git_sha": "40afbcfc7",
                         "uuid": "2c0b3b0e6a7c4f1e9d3d1b5e7f0a9c21",
                         "features": ["access-ready", "partitioned", "pluggable-storage-engines", "reshard", "scheduler"],
                         "vendor": {"name": "The Apache Software Foundation"}}).encode()
COUCH_DBS_401 = b'{"error":"unauthorized","reason":"You are not a server admin."}'
K8S_VERSION = json.dumps({"major": "1", "minor": "28", "gitVersion": "v1.28.2",
                          "gitCommit": "89a4ea3e1e4ddd7f7572286090359983e0387b2f", "gitTreeState": "clean",
                          "buildDate": "2023-09-13T09:29:07Z", "goVersion": "go1.20.8", "compiler": "gc",
                          "platform": "linux/amd64"}, indent=2).encode()
HTML = "text/html; charset=utf-8"
PAGES = {
    "citrix": ("/vpn/index.html", b'<!DOCTYPE html>\n<html><head><meta http-equiv="X-UA-Compatible" content="IE=edge">'
               b'<title>Citrix Gateway</title><link rel="SHORTCUT ICON" href="/vpn/images/AccessGateway.ico" type="image/vnd.microsoft.icon">'
               b'<script type="text/javascript" src="/vpn/resources.js"></script></head><body></body></html>'),
    "fortinet": ("/remote/login?lang=en", b'<html lang="en"><head><meta charset="UTF-8"><title></title>'
                 b'<script>var fgt_lang = {"sslvpn_login_permission_denied":"Permission denied."};</script>'
                 b'<link href="/sslvpn/css/ftnt-fortinet-grid.css" rel="stylesheet"></head>'
                 b'<body><form action="/remote/logincheck" method="post" name="f"></form></body></html>'),
    "ivanti": ("/dana-na/auth/url_default/welcome.cgi", b'<html><head><title>Ivanti Connect Secure</title>'
               b'<link rel="stylesheet" href="/dana-na/css/ds.css" type="text/css"></head>'
               b'<body><form name="frmLogin" action="login.cgi" method="POST"></form></body></html>'),
    "paloalto": ("/global-protect/login.esp", b'<html><head><title>GlobalProtect Portal</title>'
                 b'<link type="text/css" rel="stylesheet" href="/global-protect/portal/css/login.css">'
                 b'</head><body></body></html>'),
}
IVANTI_VER = b'<PARAM NAME="ProductName" VALUE="Ivanti Connect Secure">\n<PARAM NAME="ProductVersion" VALUE="22.3.1.1185">\n'
NGINX = (b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1>"
         b"<p>VPN, gateway, GlobalProtect and Citrix are words on this page, /vpn/ and /dana-na/ too.</p></body></html>")

def edge(product):
    want, page = PAGES[product]
    def routes(path):
        if path == want: return 200, page, HTML, b""
        if product == "ivanti" and path == "/dana-na/nc/nc_gina_ver.txt": return 200, IVANTI_VER, "text/plain", b""
        return 404, b"not found", "text/plain", b""
    return http_server(routes, {"citrix": b"Apache", "fortinet": b"xxxxxxxx-xxxxx",
                                "ivanti": b"Apache", "paloalto": b"Apache"}[product])

SERVERS = {
    "mongodb": (mongodb, False),
    "mssql": (mssql, False),
    "couchdb": (http_server(lambda p: (200, COUCH_ROOT, "application/json", b"") if p == "/" else
                            (401, COUCH_DBS_401, "application/json", b""), b"CouchDB/3.3.3 (Erlang OTP/24)"), False),
    "kubernetes": (http_server(lambda p: (200, K8S_VERSION, "application/json",
                                          b"Audit-Id: 3f2c\r\nCache-Control: no-cache, private\r\n")
                               if p == "/version" else (404, b"{}", "application/json", b""), b""), True),
    "citrix": (edge("citrix"), True), "fortinet": (edge("fortinet"), True),
    "ivanti": (edge("ivanti"), True), "paloalto": (edge("paloalto"), True),
    # Negative controls: an ordinary site over TLS and in the clear (every path, absolute URIs too).
    "nginx_tls": (http_server(lambda p: (200, NGINX, HTML, b""), b"nginx/1.22.1"), True),
    "nginx": (http_server(lambda p: (200, NGINX, HTML, b""), b"nginx/1.22.1"), False),
}

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
end = time.time() + seconds

lines = []
for name, (handler, tls) in SERVERS.items():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); s.settimeout(0.5)
    lines.append(f"{name} {s.getsockname()[1]}")
    threading.Thread(target=serve_tcp, args=(handler, ctx if tls else None, s, end), daemon=True).start()
with open(portfile + ".tmp", "w") as f: f.write("\n".join(lines) + "\n")
import os; os.rename(portfile + ".tmp", portfile)
while time.time() < end: time.sleep(0.5)
