#!/usr/bin/python3
"""The http source over TLS (tls_certificate / tls_private_key, a self-signed certificate made with
openssl): curl over HTTPS gets 200 and the event is written; plain HTTP to the same port gets no 200.
Slow TLS clients (handshake done, then a header byte a second) on every thread of the TLS path
(a thread per connection, max_connections of them) are cut at header_timeout, and curl, queued
behind them, is served. (The cut is a close: after it the TLS record layer cannot carry a 408.)
"""
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import Sluice, check, free_port, read_lines, run, wait_until  # noqa: E402


def curl(*args):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30"] + list(args),
                       stdout=subprocess.PIPE, timeout=60)
    return int(p.stdout or 0)


class SlowTlsClient(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.connected = threading.Event()  # handshake done: a server thread holds this client
        self.reply = b""
        self.closed_after = None  # seconds from the handshake to the server's close

    def run(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=60),
                                    server_hostname="localhost")
        self.connected.set()
        # One thread for both directions: an SSL connection must not be read and written at once.
        header = b"POST /clicks HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"p" * 100
        self.sock.setblocking(False)
        started = time.monotonic()
        deadline = started + 30
        sent = 0
        while time.monotonic() < deadline:
            try:
                if sent < len(header):
                    self.sock.send(header[sent:sent + 1])
                    sent += 1
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
            except OSError:
                sent = len(header)  # the server closed its side: read what it said
            readable, _, _ = select.select([self.sock], [], [], 1.0)
            if readable or self.sock.pending():
                try:
                    chunk = self.sock.recv(4096)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                except OSError:
                    self.closed_after = time.monotonic() - started
                    break
                if not chunk:
                    self.closed_after = time.monotonic() - started
                    break
                self.reply += chunk


def main(env):
    cert, key = env.path("cert.pem"), env.path("key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "openssl failed: %s" % p.stderr.decode(errors="replace"))
    port, out = free_port(), env.path("events.jsonl")
    pipeline = env.write("tls.yaml", """
pipelines:
  tls:
    source:
      type: http
      listen: 127.0.0.1:%d
      tls_certificate: %s
      tls_private_key: %s
      max_connections: 2
      header_timeout: 3s
      routes:
        - {method: POST, path: /clicks}
    sinks:
      - {type: file, path: %s}
""" % (port, cert, key, out))
    with Sluice(env, [pipeline], name="tls") as s:
        url = "https://localhost:%d/clicks" % port
        wait_until(lambda: s.check_alive() or curl("-k", url) == 405, 60, "the HTTPS server to answer")
        status = curl("-k", "-H", "Content-Type: application/json", "--data", '{"secure": true}', url)
        check(status == 200, "HTTPS POST: %d" % status)
        check(curl("-H", "Content-Type: application/json", "--data", '{"secure": false}',
                   "http://127.0.0.1:%d/clicks" % port) != 200, "plain HTTP got 200 on the TLS port")
        check(curl("--cacert", cert, "-H", "Content-Type: application/json", "--data", '{"secure": "verified"}',
                   url) == 200, "HTTPS with the certificate verified")
        # Three slow clients: two hold both threads, one waits in the queue, and curl behind them.
        slow = [SlowTlsClient(port) for _ in range(3)]
        for c in slow:
            c.start()
        wait_until(lambda: sum(c.connected.is_set() for c in slow) >= 2, 20, "two slow clients to hold both threads")
        started = time.monotonic()
        status = curl("-k", "-H", "Content-Type: application/json", "--data", '{"secure": "after slow"}', url)
        waited = time.monotonic() - started
        check(status == 200, "HTTPS POST behind slow TLS clients: %d" % status)
        for c in slow:
            c.join(30)
        # header_timeout is 3 s; the third client's clock starts once a thread takes it.
        cut = [(c.closed_after, c.reply[:40]) for c in slow]
        check(all(after is not None and 2 < after < 12 and b" 200 " not in reply for after, reply in cut),
              "slow TLS clients were not cut at header_timeout: %r" % cut)
        check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    events = [json.loads(line) for line in read_lines(out)]
    check(events == [{"secure": True}, {"secure": "verified"}, {"secure": "after slow"}], "written: %r" % events)
    print("HTTPS served with the configured certificate; plain HTTP refused; slow TLS clients cut after %s s, "
          "curl behind them served after %.1f s" % ([round(after, 1) for after, _ in cut], waited), flush=True)


if __name__ == "__main__":
    run(main)
