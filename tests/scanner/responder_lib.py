"""What the scripted servers of the scanner tests (tcp_responders.py, more_responders.py)
share: exact reads, the request line of an HTTP request, and the accept loop that serves each
connection on its own thread until a deadline."""
import socket
import threading
import time


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d: raise EOFError
        b += d
    return b


def read_request(c):
    """The path of the next HTTP request on `c` (headers read, no body); None at EOF."""
    b = b""
    while b"\r\n\r\n" not in b:
        d = c.recv(4096)
        if not d: return None
        b += d
    line = b.split(b"\r\n", 1)[0].decode(errors="replace").split(" ")
    return line[1] if len(line) > 1 else "/"


def serve_tcp(handler, tls_ctx, sock, end):
    """Accepts on `sock` (which has a timeout) until time `end`; each connection gets 5 s per
    read, TLS first when `tls_ctx` is given, and is closed after `handler` returns or fails."""
    while time.time() < end:
        try: c, _ = sock.accept()
        except socket.timeout: continue
        def one(c=c):
            try:
                c.settimeout(5)
                if tls_ctx: c = tls_ctx.wrap_socket(c, server_side=True)
                handler(c)
            except Exception: pass
            finally:
                try: c.close()
                except Exception: pass
        threading.Thread(target=one, daemon=True).start()
