"""A fault-injecting HTTP reverse proxy for integration tests (Python stdlib only).

    with FaultProxy(node.url) as proxy:          # listens on a free 127.0.0.1 port
        ... point the client at proxy.url ...
        proxy.down(30)                           # connections refused for 30 s, then back
        proxy.status(429, 30, retry_after=2)     # every request answered 429 for 30 s
        proxy.max_bytes(1 << 20)                 # 413 for any body over 1 MiB (until max_bytes(None))
        proxy.truncate(1)                        # the next response cut in the middle of its body
        proxy.delay(15, 1)                       # the next response held for 15 s
        proxy.wait_clear(60)                     # blocks until every time/count-limited fault is over
        proxy.requests("/_bulk")                 # what came in: method, path, body size, status, fault

It forwards requests to one upstream (keep-alive on both sides, request bodies
of any size with Content-Length or chunked, responses with Content-Length or
chunked; responses are passed on with a Content-Length). Each accepted client
connection has its own upstream connection. All threads are daemons: the proxy
goes away with the test process, and stop() ends it earlier.

The faults are what a client meets in front of a real OpenSearch cluster:
- down(seconds): the listening socket is closed, so connect() is refused, and
  open connections are reset; after @seconds the same port listens again.
- status(code, seconds=None, count=None, retry_after=None): every request is
  answered @code with a JSON error body shaped like OpenSearch's (429
  rejected_execution_exception, 503 cluster_block_exception, ...), without
  being forwarded, for @seconds or the next @count requests.
- max_bytes(n): a request whose body is over @n bytes is answered 413 with an
  empty body (Content-Length: 0, keep-alive), as OpenSearch does above
  http.max_content_length; not forwarded. One that announces such a body
  with Expect: 100-continue gets the 413 at once, and the connection closes.
- truncate(count): the next @count responses are forwarded, then sent with
  their full Content-Length but only half of their body, and the connection
  is closed (the request did reach the server).
- delay(seconds, count=1): the next @count responses are held @seconds after
  the server answered (the request did reach the server).
Faults ending by time or count end by themselves; clear() ends them all now.
"""
import collections
import http.client
import json
import socket
import ssl
import threading
import time
import urllib.parse

Request = collections.namedtuple("Request", "seq time method path body_size status fault body headers",
                                 defaults=(None,))

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "expect", "content-length"}

REASONS = {429: "Too Many Requests", 413: "Request Entity Too Large", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 408: "Request Timeout"}


def opensearch_error(code):
    """A JSON error body as OpenSearch answers with status @code."""
    if code == 429:
        kind = "rejected_execution_exception"
        reason = ("rejected execution of coordinating operation [coordinating_and_primary_bytes=0, "
                  "replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1048576, "
                  "max_coordinating_and_primary_bytes=1048576] (fault proxy)")
    elif code == 503:
        kind = "cluster_block_exception"
        reason = "blocked by: [SERVICE_UNAVAILABLE/2/no cluster-manager]; (fault proxy)"
    elif code == 504:
        kind = "timeout_exception"
        reason = "gateway timeout (fault proxy)"
    else:
        kind = "exception"
        reason = "HTTP %d (fault proxy)" % code
    cause = {"type": kind, "reason": reason}
    return json.dumps({"error": {"root_cause": [cause], "type": kind, "reason": reason}, "status": code},
                      separators=(",", ":")).encode()


class ProxyError(RuntimeError):
    pass


class FaultProxy:
    def __init__(self, upstream_url, keep_bodies=False, upstream_timeout=120, tls=None):
        """@tls: (certificate file, private key file) to serve https:// instead of http://."""
        u = urllib.parse.urlsplit(upstream_url)
        if u.scheme != "http" or not u.hostname:
            raise ProxyError("FaultProxy forwards to http://HOST:PORT, not %r" % upstream_url)
        self.upstream = (u.hostname, u.port or 80)
        self.keep_bodies = keep_bodies
        self._tls = None
        if tls:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(*tls)
        self.upstream_timeout = upstream_timeout
        self.port = None
        self.url = None
        self._lock = threading.Condition()
        self._log = []
        self._forgotten = 0  # requests dropped from the log by forget()
        self.tls_failures = []  # handshakes that failed (a client refusing the certificate)
        self._clients = set()
        self._listener = None
        self._stopped = threading.Event()
        self._down_until = None       # monotonic time the listener comes back
        self._listening = False
        self._status = None           # (code, until or None, count or None, retry_after, body)
        self._max_bytes = None
        self._truncate = 0
        self._delay = (0.0, 0)        # (seconds, count)
        self._in_flight = collections.Counter()  # delayed / truncated answers taken but not yet sent
        self._thread = None

    # --- life cycle -------------------------------------------------------------------------------

    def start(self):
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if self._tls else "http", self.port)
        self._listening = True
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy-accept", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopped.set()
        with self._lock:
            self._lock.notify_all()
        if self._thread:
            self._thread.join(5)
        self._reset_clients()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # --- faults -----------------------------------------------------------------------------------

    def down(self, seconds):
        """Closes the listening socket (connect() is refused) and resets open connections; the port
        listens again after @seconds. Returns once the socket is closed."""
        with self._lock:
            self._down_until = time.monotonic() + seconds
            self._lock.notify_all()
            if not self._lock.wait_for(lambda: not self._listening, 5):
                raise ProxyError("the proxy's listening socket did not close")
        self._reset_clients()

    def status(self, code, seconds=None, count=None, retry_after=None, body=None):
        """Answers every request with @code (and a JSON error body like OpenSearch's, or @body) without
        forwarding it, for @seconds or for the next @count requests (whichever ends first)."""
        if seconds is None and count is None:
            raise ProxyError("status() needs seconds or count, so that it ends")
        with self._lock:
            until = time.monotonic() + seconds if seconds is not None else None
            self._status = (code, until, count, retry_after, opensearch_error(code) if body is None else body)

    def max_bytes(self, n):
        """Answers 413 (empty body, as OpenSearch) to any request whose body is over @n bytes; None: off."""
        with self._lock:
            self._max_bytes = n

    def truncate(self, count=1):
        """The next @count responses are sent with only half of their body, then the connection closes."""
        with self._lock:
            self._truncate = count

    def delay(self, seconds, count=1):
        """The next @count responses are held @seconds after the server has answered."""
        with self._lock:
            self._delay = (float(seconds), count)

    def clear(self):
        """Ends every fault now (the listener is back before this returns)."""
        with self._lock:
            self._status = None
            self._max_bytes = None
            self._truncate = 0
            self._delay = (0.0, 0)
            if self._down_until is not None:
                self._down_until = time.monotonic()
                self._lock.notify_all()
                self._lock.wait_for(lambda: self._listening, 5)

    def active(self):
        """The names of the faults still in force (max_bytes, which ends only by max_bytes(None), is not
        listed)."""
        with self._lock:
            return self._active_locked()

    def _active_locked(self):
        now = time.monotonic()
        out = []
        if self._down_until is not None or not self._listening:
            out.append("down")
        if self._status is not None:
            code, until, count, _, _ = self._status
            if (until is not None and now >= until) or (count is not None and count <= 0):
                self._status = None
            else:
                out.append("status")
        if self._truncate > 0 or self._in_flight["truncate"] > 0:
            out.append("truncate")
        if self._delay[1] > 0 or self._in_flight["delay"] > 0:
            out.append("delay")
        return out

    def wait_clear(self, timeout):
        """Blocks until every fault limited by time or count has ended (raises ProxyError after @timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._active_locked():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProxyError("faults still active after %s s: %s" % (timeout, self._active_locked()))
                self._lock.wait(min(left, 0.05))

    # --- what came in -----------------------------------------------------------------------------

    def requests(self, path_prefix=None, method=None):
        """The requests received so far (Request tuples, in order), optionally those whose path starts
        with @path_prefix and whose method is @method."""
        with self._lock:
            return [r for r in self._log
                    if (path_prefix is None or r.path.startswith(path_prefix))
                    and (method is None or r.method == method)]

    @property
    def count(self):
        with self._lock:
            return len(self._log)

    def wait_requests(self, n, timeout, path_prefix=None):
        """Blocks until at least @n requests (with that path prefix) have been answered or refused."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = sum(1 for r in self._log if r.status is not None and
                          (path_prefix is None or r.path.startswith(path_prefix)))
                if got >= n:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProxyError("%d of %d requests to %s after %s s" % (got, n, path_prefix or "/", timeout))
                self._lock.wait(min(left, 0.05))

    def forget(self):
        """Empties the request log."""
        with self._lock:
            self._forgotten += len(self._log)  # requests in flight still find their entries (or none)
            self._log = []

    # --- the listener -----------------------------------------------------------------------------

    def _listen(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(128)
        s.settimeout(0.05)
        return s

    def _accept_loop(self):
        # Only this thread touches the listening socket: down() asks, this closes and reopens it.
        while not self._stopped.is_set():
            with self._lock:
                if self._down_until is not None and self._listener is not None:
                    self._listener.close()
                    self._listener = None
                    self._listening = False
                    self._lock.notify_all()
                if self._listener is None:
                    if time.monotonic() < self._down_until:
                        self._lock.wait(0.02)
                        continue
                    try:
                        self._listener = self._listen(self.port)
                    except OSError:
                        self._lock.wait(0.05)  # the port is taken for a moment; try again
                        continue
                    self._down_until = None
                    self._listening = True
                    self._lock.notify_all()
                listener = self._listener
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                continue
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._clients.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="fault-proxy-conn", daemon=True).start()
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            self._listening = False

    def _reset_clients(self):
        with self._lock:
            clients = list(self._clients)
        for c in clients:
            try:
                # RST rather than FIN: a server that went away.
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # --- one client connection --------------------------------------------------------------------

    def _serve(self, conn):
        if self._tls:
            try:
                conn = self._tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                with self._lock:
                    self.tls_failures.append(str(e))
                conn.close()
                return
        rfile = conn.makefile("rb")
        upstream = None
        try:
            while not self._stopped.is_set():
                line = rfile.readline(65537)
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    continue
                try:
                    method, target, version = line.decode("latin-1").split()
                except ValueError:
                    self._send(conn, 400, [], b"", False)
                    return
                headers = http.client.parse_headers(rfile)
                keep_alive = (version == "HTTP/1.1" and headers.get("Connection", "").lower() != "close") or \
                    (version == "HTTP/1.0" and headers.get("Connection", "").lower() == "keep-alive")
                delay_seconds = 0
                fault, entry, answer = self._decide(method, target, headers)
                if fault == "413-early":
                    # The body was announced too large and the client waits for 100-continue: refuse now.
                    self._finish(entry, 413, "413")
                    self._send(conn, 413, [], b"", False)
                    return
                if headers.get("Expect", "").lower() == "100-continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = self._read_body(rfile, headers)
                if body is None:
                    self._finish(entry, 400, "bad-body")
                    self._send(conn, 400, [], b"", False)
                    return
                entry = self._sized(entry, body)
                if fault is None:
                    fault, delay_seconds = self._decide_after_body(len(body))
                if fault == "status":
                    code, retry_after, err = answer
                    extra = [("Retry-After", str(retry_after))] if retry_after is not None else []
                    self._finish(entry, code, "status")
                    self._send(conn, code, [("Content-Type", "application/json; charset=UTF-8")] + extra, err,
                               keep_alive)
                    if not keep_alive:
                        return
                    continue
                if fault == "413":
                    # As OpenSearch: an empty body; the connection stays open.
                    self._finish(entry, 413, "413")
                    self._send(conn, 413, [], b"", keep_alive)
                    if not keep_alive:
                        return
                    continue
                # Forward.
                try:
                    if upstream is None:
                        upstream = http.client.HTTPConnection(*self.upstream, timeout=self.upstream_timeout)
                    out_headers = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
                    if body or method in ("POST", "PUT", "PATCH"):
                        out_headers["Content-Length"] = str(len(body))
                    upstream.request(method, target, body=body if body else None, headers=out_headers)
                    resp = upstream.getresponse()
                    data = resp.read()
                    resp_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                    if method == "HEAD" and resp.getheader("Content-Length") is not None:
                        resp_headers.append(("Content-Length", resp.getheader("Content-Length")))
                    status = resp.status
                    if resp.will_close:
                        upstream.close()
                        upstream = None
                except (OSError, http.client.HTTPException) as e:
                    if upstream is not None:
                        upstream.close()
                        upstream = None
                    self._finish(entry, 502, "upstream-error", taken=fault)
                    self._send(conn, 502, [("Content-Type", "application/json; charset=UTF-8")],
                               json.dumps({"error": {"type": "proxy_upstream_error", "reason": str(e)},
                                           "status": 502}).encode(), keep_alive)
                    if not keep_alive:
                        return
                    continue
                if fault in ("delay", "delay+truncate"):
                    self._stopped.wait(delay_seconds)
                if fault in ("truncate", "delay+truncate"):
                    self._finish(entry, status, fault)
                    self._send(conn, status, resp_headers, data, False, cut=True, head=(method == "HEAD"))
                    return
                self._finish(entry, status, fault)
                self._send(conn, status, resp_headers, data, keep_alive, head=(method == "HEAD"))
                if not keep_alive:
                    return
        except (OSError, ValueError, http.client.HTTPException):
            return
        finally:
            if upstream is not None:
                upstream.close()
            with self._lock:
                self._clients.discard(conn)
            try:
                rfile.close()
                conn.close()
            except OSError:
                pass

    def _decide(self, method, target, headers):
        """Logs the request and picks the fault it meets (before its body is read)."""
        with self._lock:
            entry = Request(self._forgotten + len(self._log), time.time(), method, target, None, None, None, None,
                            dict(headers.items()))
            self._log.append(entry)
            self._active_locked()  # expires a status fault that ran out
            if self._status is not None:
                code, until, count, retry_after, body = self._status
                if count is not None:
                    self._status = (code, until, count - 1, retry_after, body)
                self._active_locked()
                self._lock.notify_all()
                return "status", entry, (code, retry_after, body)
            length = headers.get("Content-Length")
            if (self._max_bytes is not None and length is not None and length.isdigit()
                    and int(length) > self._max_bytes and headers.get("Expect", "").lower() == "100-continue"):
                return "413-early", entry, None
            return None, entry, None

    def _decide_after_body(self, size):
        """The fault a request that was not refused early meets, once its body size is known:
        (None | "413" | "delay" | "truncate" | "delay+truncate", seconds to delay)."""
        with self._lock:
            if self._max_bytes is not None and size > self._max_bytes:
                return "413", 0
            delayed = truncated = False
            seconds = 0
            if self._delay[1] > 0:
                seconds = self._delay[0]
                self._delay = (self._delay[0], self._delay[1] - 1)
                delayed = True
            if self._truncate > 0:
                self._truncate -= 1
                truncated = True
            self._in_flight["delay"] += delayed
            self._in_flight["truncate"] += truncated
            self._lock.notify_all()
            if delayed and truncated:
                return "delay+truncate", seconds
            return ("delay" if delayed else "truncate" if truncated else None), seconds

    def _sized(self, entry, body):
        with self._lock:
            new = entry._replace(body_size=len(body), body=body if self.keep_bodies else None)
            self._update(new)
            return new

    def _update(self, entry):
        """Replaces @entry in the log (called with the lock held); one forgotten since is left out."""
        i = entry.seq - self._forgotten
        if i >= 0:
            self._log[i] = entry

    def _finish(self, entry, status, fault, taken=None):
        """Logs the answer to @entry; @taken (default @fault) is the fault it had taken off a count."""
        taken = fault if taken is None else taken
        with self._lock:
            for kind in ("delay", "truncate"):
                if taken and kind in taken:
                    self._in_flight[kind] -= 1
            i = entry.seq - self._forgotten
            if i >= 0:
                self._log[i] = self._log[i]._replace(status=status, fault=fault)
            self._lock.notify_all()

    @staticmethod
    def _read_body(rfile, headers):
        te = headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            parts = []
            while True:
                size_line = rfile.readline(1024)
                if not size_line:
                    return None
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while True:  # trailers, up to the empty line
                        t = rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    return b"".join(parts)
                chunk = rfile.read(size)
                if len(chunk) != size:
                    return None
                parts.append(chunk)
                rfile.readline(3)
        length = headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            return None
        n = int(length)
        body = rfile.read(n)
        return body if len(body) == n else None

    @staticmethod
    def _send(conn, status, headers, body, keep_alive, cut=False, head=False):
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status) or http.client.responses.get(status, "Status"))]
        lines += ["%s: %s" % (k, v) for k, v in headers]
        if not head:
            lines.append("Content-Length: %d" % len(body))
        if not keep_alive:
            lines.append("Connection: close")
        out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if cut:
            # Half of the body (the headers promise all of it), then the connection closes. A response
            # without a body loses the end of its headers instead.
            out = out + body[:len(body) // 2] if body else out[:len(out) // 2]
        elif not head:
            out += body
        conn.sendall(out)
        if cut or not keep_alive:
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
