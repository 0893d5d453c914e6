#!/usr/bin/python3
"""mode: poll against a local server (x_stream_server.py's poll plans): a JSON array answer becomes one
event per element; the answer's ETag comes back as If-None-Match and a 304 emits nothing (no duplicate);
a changed answer (new ETag) is emitted; a 500 is retried after http_backoff_initial and the poll goes on;
an answer that is not a JSON array goes to the dead-letter file; NDJSON splits by line.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_test import Sluice, check, read_lines, run, wait_until  # noqa: E402
from x_stream_server import XStreamServer  # noqa: E402

INTERVAL = 0.2
HTTP_INITIAL = 0.4


def main(env):
    out, lines_out = env.path("poll.jsonl"), env.path("ndjson.jsonl")
    v1 = json.dumps([{"id": 1}, {"id": 2}])
    v2 = json.dumps([{"id": 3}])
    with XStreamServer() as server, XStreamServer() as ndjson:
        server.add({"poll": v1, "etag": '"v1"'}, {"poll": v1, "etag": '"v1"'}, {"poll": v1, "etag": '"v1"'},
                   {"status": 500}, {"poll": v2, "etag": '"v2"'}, {"poll": "not an array", "etag": '"v3"'})
        ndjson.add({"poll": '{"n": 1}\n\n{"n": 2}\r\n{"n": 3}'})
        pipeline = env.write("poll.yaml", """
pipelines:
  poll:
    source:
      type: http_client
      url: %s
      mode: poll
      framing: json_array
      interval: %dms
      http_backoff_initial: %dms
      http_backoff_max: 1s
    sinks: [{type: file, path: %s}]
  ndjson:
    source:
      type: http_client
      url: %s
      mode: poll
      framing: ndjson
      interval: 1h
    sinks: [{type: file, path: %s}]
""" % (server.url, INTERVAL * 1000, HTTP_INITIAL * 1000, out, ndjson.url, lines_out))
        with Sluice(env, [pipeline], name="poll", admin=True) as s:
            # Six plans, then the default (a stream held open) is not a poll answer: stop after the sixth.
            wait_until(lambda: s.check_alive() or len(s.dead_letters("poll")) >= 1, 60, "the non-array answer")
            reqs = server.request_list()
            check(len(reqs) >= 6, "requests: %d" % len(reqs))
            check("if-none-match" not in reqs[0].headers, "the first request sent If-None-Match")
            check(reqs[1].headers.get("if-none-match") == '"v1"' and reqs[2].headers.get("if-none-match") == '"v1"',
                  "If-None-Match: %r" % [r.headers.get("if-none-match") for r in reqs])
            check(reqs[4].headers.get("if-none-match") == '"v1"', "after the 500 the ETag was forgotten")
            check(reqs[5].headers.get("if-none-match") == '"v2"', "the new ETag was not sent")
            gap = reqs[4].at - reqs[3].at
            check(gap >= HTTP_INITIAL - 0.02, "after 500 the next poll came %.3f s later" % gap)
            check(reqs[1].at - reqs[0].at >= INTERVAL - 0.02, "polls closer than interval")
            check(s.metric("sluice_http_client_not_modified_total") == 2, "304s counted: %r"
                  % s.metric("sluice_http_client_not_modified_total"))
            dead = s.dead_letters("poll")
            check("not a JSON array" in json.dumps(dead[0]), "dead letter: %r" % dead[0])
            wait_until(lambda: len(read_lines(lines_out)) >= 3, 30, "the NDJSON answer's lines")
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    ids = [json.loads(line)["id"] for line in read_lines(out)]
    check(ids == [1, 2, 3], "events: %r (a 304 must emit nothing)" % ids)
    check([json.loads(line)["n"] for line in read_lines(lines_out)] == [1, 2, 3], "ndjson: %r" % read_lines(lines_out))


if __name__ == "__main__":
    run(main)
