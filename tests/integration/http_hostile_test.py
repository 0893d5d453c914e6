#!/usr/bin/python3
"""Hostile clients against the ingest API (the hardening issue's findings 1-4, on raw sockets):
invalid UTF-8 anywhere in a request, chunk sizes that overflow, invalid framing and headers, heads
and bodies that would take all memory, idle sockets that would take every slot. The daemon must
answer each with the right 4xx/5xx, stay up, keep serving everyone else, store only the valid
events, and stop on SIGTERM.
"""
import json
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import Sluice, check, free_port, read_lines, run, sanitized, wait_until  # noqa: E402

PIPELINE = """
pipelines:
  ingest:
    source:
      type: http
      listen: 127.0.0.1:{port}
      max_connections: 256
      header_timeout: 20s
      body_timeout: 20s
      routes:
        - method: POST
          path: /clicks
          body: json
          response: '{{"success": true}}'
    sinks:
      - type: file
        path: {out}
"""


def exchange(port, data, timeout=10, half_close=False):
    """Sends @data on a new connection and reads until the server closes (or @timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        reply = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            reply += chunk
        return reply
    finally:
        s.close()


def ready(port, request):
    try:
        return status_of(exchange(port, request)) == 200
    except OSError:
        return False  # not listening yet


def status_of(reply):
    line = reply.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") else 0


def body_json(reply):
    body = reply.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in reply else b""
    return json.loads(body.decode("utf-8"))  # fails the test when the daemon sent invalid UTF-8


def post(body, headers=b"", target=b"/clicks", version=b"HTTP/1.1", host=b"Host: x\r\n",
         content_type=b"application/json"):
    return (b"POST " + target + b" " + version + b"\r\n" + host + b"Content-Type: " + content_type + b"\r\n" +
            headers + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def rss_mb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def flood(port, count, prefix, size, seconds=30):
    """@count connections each sending @prefix then filler up to @size bytes, never finishing: the
    sockets (all of them, open: the attack holds them) once each sent everything or was closed."""
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setblocking(False)
        socks.append([sock, prefix + b"a" * (size - len(prefix)), 0])
    sending = list(socks)
    deadline = time.monotonic() + seconds
    while sending and time.monotonic() < deadline:
        _, writable, _ = select.select([], [x[0] for x in sending], [], 0.5)
        for entry in list(sending):
            sock, data, off = entry
            if sock not in writable:
                continue
            try:
                entry[2] += sock.send(data[off:off + 65536])
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                entry[2] = len(data)  # the server closed it
            if entry[2] >= len(data):
                sending.remove(entry)
    return socks


def main(env):
    port = free_port()
    out = env.path("clicks.jsonl")
    pipeline = env.write("hostile.yaml", PIPELINE.format(port=port, out=out))
    good = 0
    with Sluice(env, [pipeline], name="hostile") as s:
        ok = post(b'{"ok": 0}')
        wait_until(lambda: s.check_alive() or ready(port, ok), 60, "the ingest API")
        good += 1

        cases = [
            # 1. invalid UTF-8 where the old code put the client's bytes into a JSON message
            ("version \\xff", b"GET /clicks HTTP/1.\xff\r\nHost: x\r\n\r\n", 400),
            ("Transfer-Encoding \\xff", b"POST /clicks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \xff\r\n\r\n", 501),
            ("body \\xff", post(b'{"a": "\xff"}'), 400),
            ("Content-Type \\xff", post(b'{"a": 1}', content_type=b"text/\xff"), 415),
            ("method \\xff", b"P\xffST /clicks HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("path \\xff", post(b'{"a": 1}', target=b"/cl\xffcks"), 400),
            ("number 1e999999", post(b'{"a": 1e999999}'), 400),
            # 2. chunk sizes
            ("chunk size overflowing after a first chunk",
             b"POST /clicks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\nFFFFFFFFFFFFFFED\r\n", 413),
            ("chunk size 2^64-1",
             b"POST /clicks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",
             413),
            ("chunk size of 17 digits",
             b"POST /clicks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", 400),
            # 3. invalid input that was answered 200
            ("JSON, NUL, garbage", post(b'{"a":1}\x00garbage'), 400),
            ("no Host", post(b'{"a": 1}', host=b""), 400),
            ("two Hosts", post(b'{"a": 1}', host=b"Host: x\r\nHost: y\r\n"), 400),
            ("space in a header name", post(b'{"a": 1}', headers=b"X Y: 1\r\n"), 400),
            ("NUL in a header name", post(b'{"a": 1}', headers=b"X\x00Y: 1\r\n"), 400),
            ("space before the colon (Content-Length)",
             b"POST /clicks HTTP/1.1\r\nHost: x\r\nContent-Length : 8\r\n\r\n{\"a\": 1}", 400),
            ("space before the colon (Transfer-Encoding)",
             b"POST /clicks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n8\r\n{\"a\": 1}\r\n0\r\n\r\n", 400),
            ("two Content-Lengths", post(b'{"a": 1}', headers=b"Content-Length: 8\r\n"), 400),
        ]
        for name, data, want in cases:
            reply = exchange(port, data)
            got = status_of(reply)
            check(got == want, "%s: expected %d, got %d: %r" % (name, want, got, reply[:200]))
            check(s.alive(), "%s: the daemon died:\n%s" % (name, s.log_tail()))
            body_json(reply)
        # A Content-Length longer than the body, then the client's end: an answer, not silence.
        reply = exchange(port, b"POST /clicks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"",
                         half_close=True)
        check(status_of(reply) == 400, "a body cut short got %r" % reply[:200])
        # Absolute-form targets are routed by their path.
        reply = exchange(port, post(b'{"absolute": 1}', target=b"http://x/clicks"))
        check(status_of(reply) == 200, "absolute-form target: %r" % reply[:200])
        good += 1

        # 4. memory: 200 heads of 800 KB (each cut at 64 KiB), then 300 half-sent bodies of 1 MB
        # (held up to the 64 MiB budget): unbounded, these would take 160 MB and 270 MB.
        before = rss_mb(s.proc.pid)
        heads = flood(port, 200, b"POST /clicks HTTP/1.1\r\nHost: x\r\nX-Pad: ", 800000, seconds=20)
        check(status_of(exchange(port, ok)) == 200, "not served beside 200 large heads")
        good += 1
        bodies = flood(port, 300, b"POST /clicks HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n",
                       900000, seconds=30)
        peak = rss_mb(s.proc.pid, "VmHWM")
        if sanitized(s.proc.pid):
            # ASan and TSan keep freed memory in quarantine and shadow every byte: RSS says nothing
            # about the budget there. The normal suite checks it; here the daemon must only survive.
            print("peak RSS %.0f MB (not checked: a sanitizer build)" % peak, flush=True)
        else:
            # The budget counts buffer capacity; the allocator's arenas (one per event loop) may keep
            # as much again: about 130 MB at most here, where unbounded buffers took 270 MB and more.
            check(peak < before + 170,
                  "peak RSS went from %.0f MB to %.0f MB under large heads and half-sent bodies" % (before, peak))
        for group in (heads, bodies):
            for entry in group:
                entry[0].close()
        check(s.alive(), "the daemon died under the memory flood:\n" + s.log_tail())
        wait_until(lambda: status_of(exchange(port, ok)) == 200, 30, "a request to be served after the flood")
        good += 1

        # 4. idle sockets at the connection limit: a real client still gets in
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(512)]
        reply = exchange(port, ok)
        check(status_of(reply) == 200, "with 512 idle sockets open a client got %r" % reply[:200])
        good += 1
        for sock in idle:
            sock.close()
        check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    stored = [json.loads(line) for line in read_lines(out)]
    check(len(stored) == good, "expected the %d valid events stored, found %d: %r" % (good, len(stored), stored[:10]))
    print("%d hostile requests answered 4xx/5xx, the daemon up through the floods (peak RSS %.0f MB), "
          "%d valid events stored"
          % (len(cases) + 1, peak, good), flush=True)


if __name__ == "__main__":
    run(main)
