"""Peer for E1: the node's own limit, pre-built bulk bodies posted as fast as the node takes them.

    /usr/bin/python3 e1_bulk_limit.py BODIES_FILE URL CONCURRENCY PROGRESS_PATH

BODIES_FILE (made by es_bench.py before any timing) holds the bulk bodies, each
after a line `#ITEMS BYTES`. They are all read first, then CONCURRENCY threads,
each with its own keep-alive http.client connection, post the next body to
URL/_bulk (with the sink's filter_path) until none is left. An answer that is
not HTTP 200 `{"errors":false,...}` with one 2xx status per item stops the run
(exit 1). One newline per document stored is appended to PROGRESS_PATH.
"""
import http.client
import sys
import threading
import urllib.parse

FILTER_PATH = ("errors,items.*.status,items.*.result,items.*.error.type,items.*.error.reason,"
               "items.*.error.caused_by.type,items.*.error.caused_by.reason")

path, url, concurrency, progress_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
bodies = []
with open(path, "rb") as f:
    while True:
        head = f.readline()
        if not head:
            break
        items, size = map(int, head[1:].split())
        bodies.append((items, f.read(size)))

u = urllib.parse.urlsplit(url)
target = (u.path.rstrip("/") or "") + "/_bulk?filter_path=" + FILTER_PATH
lock = threading.Lock()
next_body = iter(bodies)
failures = []
progress = open(progress_path, "ab", buffering=0)


def worker():
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    while not failures:
        with lock:
            job = next(next_body, None)
        if job is None:
            break
        items, body = job
        conn.request("POST", target, body, {"Content-Type": "application/x-ndjson"})
        resp = conn.getresponse()
        answer = resp.read()
        ok = answer.count(b'"status":201') + answer.count(b'"status":200')
        if resp.status != 200 or not answer.startswith(b'{"errors":false') or ok != items:
            failures.append("HTTP %d, %d of %d items stored: %s" % (resp.status, ok, items, answer[:300]))
            break
        with lock:
            progress.write(b"\n" * items)
    conn.close()


threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if failures:
    sys.exit("bulk limit: " + failures[0])
