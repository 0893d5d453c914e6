"""A local stand-in for the X (Twitter) v2 filtered stream, for the http_client tests: the real API cannot be
reached from here. It follows the documented shapes: `200` with a chunked body of JSON objects each followed
by `\\r\\n`, blank `\\r\\n` keep-alive lines (every `keepalive` seconds here; X sends one every 20 s), `429`
with `x-rate-limit-reset` (epoch seconds), `401` with a problem-details body, `503`, in-band
`{"errors": [...]}` objects, disconnects in the middle of a line, and stalls (no byte at all).

A plan `{"sse": [text, ...]}` answers `text/event-stream` and writes each text as it is (Server-Sent
Events: the test writes the `data:` / `id:` / `event:` lines and blank lines itself).
A plan with `"drop_slow": S` drops the client when one write has blocked for S seconds (X disconnects
readers that fall behind its buffer).
A plan `{"drop": True}` closes the connection after the request without answering (a network error).
Each request takes the next plan of `plans` (a list the test fills); with none left it holds the stream
open with keep-alives. Every request is recorded with its wall-clock time and headers. Loopback only; it
stops by itself after `lifetime` seconds and on leaving the `with` block.
"""
import http.server
import json
import socket
import threading
import time


def tweet(i, text=None):
    """One filtered-stream object, as X sends it (a tweet with its matching rules)."""
    return json.dumps({"data": {"id": str(i), "text": text or ("tweet %d" % i), "author_id": "42",
                                "created_at": "2026-12-01T10:00:00.000Z", "lang": "en"},
                       "matching_rules": [{"id": "1", "tag": "test"}]}, separators=(",", ":"))


def labelled(sluice, name, label):
    """Sum of the samples of metric @name on @sluice's /metrics that carry @label (`reason="stall"`)."""
    import urllib.request
    with urllib.request.urlopen("http://%s/metrics" % sluice.admin, timeout=5) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and label in line.split("}", 1)[0]:
            total += float(line.rsplit(" ", 1)[1])
    return total


def health(sluice):
    """(status, body) of @sluice's /health; (0, "") while it does not answer."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen("http://%s/health" % sluice.admin, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""  # not listening yet


class Request:
    def __init__(self, at, path, headers):
        self.at = at  # time.time() when the head was read
        self.path = path
        self.headers = headers
        self.ended_at = None  # when the server ended (or saw the end of) the answer
        self.dropped_slow = False  # the server dropped the client as a slow reader (plan `drop_slow`)


class XStreamServer:
    def __init__(self, keepalive=0.2, lifetime=240, tls=None):
        """@tls: (certificate file, key file) to serve https."""
        self.plans = []
        self.requests = []
        self.keepalive = keepalive
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.lifetime = lifetime
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                if hasattr(self.request, "do_handshake"):
                    self.request.settimeout(10)
                    try:
                        self.request.do_handshake()
                    except OSError:
                        with server.lock:
                            server.handshake_failures += 1
                        raise
                    self.request.settimeout(None)
                super().setup()

            def handle(self):
                try:
                    super().handle()
                except OSError:
                    pass
                # With TLS 1.3 the server's handshake ends before the client checked the certificate: a
                # client that refuses it closes (or sends its alert) where the request should be.
                if hasattr(self.request, "do_handshake") and not self.served:
                    with server.lock:
                        server.handshake_failures += 1

            served = False

            def do_GET(self):
                self.served = True
                server._serve(self)

            def do_POST(self):
                self.served = True
                server._serve(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client that went away is no error here
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/2/tweets/search/stream" % self.port
        self.handshake_failures = 0  # TLS connections that ended in the handshake or before a request
        if tls:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            # The handshake runs in the request's thread (not in accept), so that a client that refuses
            # the certificate is counted there and never blocks the server.
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
            self.url = "https://localhost:%d/2/tweets/search/stream" % self.port

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.timer = threading.Timer(self.lifetime, self.stop)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        if not self.stopping.is_set():
            self.stopping.set()
            self.httpd.shutdown()
            self.httpd.server_close()
        self.timer.cancel()

    def add(self, *plans):
        with self.lock:
            self.plans.extend(plans)

    def request_list(self):
        with self.lock:
            return list(self.requests)

    # -- one request --

    def _serve(self, h):
        req = Request(time.time(), h.path, {k.lower(): v for k, v in h.headers.items()})
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        with self.lock:
            self.requests.append(req)
            plan = self.plans.pop(0) if self.plans else {"lines": [], "end": "hold"}
        h.close_connection = True
        try:
            if plan.get("drop"):  # the request read, then the connection closed without an answer
                h.connection.shutdown(socket.SHUT_RDWR)
            elif "status" in plan:
                self._status(h, plan)
            elif "poll" in plan:
                self._poll(h, req, plan)
            else:
                self._stream(h, req, plan)
        except OSError:
            pass  # the client went away
        req.ended_at = time.time()

    def _status(self, h, plan):
        body = plan.get("body", json.dumps({"title": "error", "status": plan["status"]})).encode()
        h.send_response(plan["status"])
        for k, v in plan.get("headers", {}).items():
            h.send_header(k, str(v))
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body)

    def _poll(self, h, req, plan):
        etag = plan.get("etag")
        if etag and req.headers.get("if-none-match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Connection", "close")
            h.end_headers()
            return
        body = plan["poll"].encode()
        h.send_response(200)
        if etag:
            h.send_header("ETag", etag)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body)

    def _chunk(self, h, data):
        h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        h.wfile.flush()

    def _client_gone(self, h, timeout):
        """Waits up to @timeout for the client to close its side; True when it did."""
        sock = h.connection
        if hasattr(sock, "do_handshake"):  # TLS: no MSG_PEEK; the client sends nothing after its request
            import select
            if not select.select([sock], [], [], timeout)[0]:
                return False
            try:
                return sock.recv(1) == b""
            except OSError:
                return True
        sock.settimeout(timeout)
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        except socket.timeout:
            return False
        except OSError:
            return True
        finally:
            sock.settimeout(None)  # writes block (a slow reader slows this server down)

    def _stream(self, h, req, plan):
        sse = "sse" in plan  # Server-Sent Events: each item is written as it is, no separator added
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream" if sse else "application/json; charset=utf-8")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.flush()
        if plan.get("drop_slow"):  # a write blocked this long: drop the slow reader, as X does
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)  # little held here
            h.connection.settimeout(plan["drop_slow"])
            try:
                self._write_items(h, plan, sse)
            except socket.timeout:
                req.dropped_slow = True
                h.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write_items(h, plan, sse)

    def _write_items(self, h, plan, sse):
        for item in plan["sse"] if sse else plan["lines"]:
            if isinstance(item, (int, float)):  # keep-alives for this many seconds
                until = time.monotonic() + item
                while time.monotonic() < until:
                    self._chunk(h, b"\r\n")
                    if self._client_gone(h, self.keepalive):
                        return
                continue
            if sse:
                self._chunk(h, item.encode())
                continue
            self._chunk(h, item.encode() + b"\r\n")
            self._chunk(h, b"\r\n")  # a keep-alive between objects, as X's stream has
        end = plan.get("end", "close")
        if end == "close":
            h.wfile.write(b"0\r\n\r\n")
        elif end == "cut":  # half a line, then the connection drops (no last chunk)
            self._chunk(h, plan["cut"].encode())
            h.connection.shutdown(socket.SHUT_RDWR)
        elif end == "stall":  # no byte at all until the client gives up
            while not self.stopping.is_set() and not self._client_gone(h, 0.2):
                pass
        elif end == "hold":
            while not self.stopping.is_set():
                self._chunk(h, b"\r\n")
                if self._client_gone(h, self.keepalive):
                    return
