#!/usr/bin/python3
"""A server that drops a slow reader (X disconnects a client that falls behind its buffer): the stand-in
stream (x_stream_server.py) sends 20 KiB tweets and closes the connection once a write has blocked for
0.5 s, while the pipeline is held full by a slow sink (the test plugin `slow`: 1.5 s per write of 10). The
source reads what the kernel held, sees the end of the stream while full, and says so: a reconnect with
reason `closed_while_full` in the metrics and "the server may drop slow readers" in the log; then it
reconnects. Every tweet it received whole reaches the sink once, in order; the one cut by the drop does not.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_test import Sluice, check, read_lines, run, wait_until  # noqa: E402
from x_stream_server import XStreamServer, labelled, tweet  # noqa: E402

COUNT = 400
PAD = "x" * 20000


def main(env):
    out = env.path("slow.jsonl")
    with XStreamServer() as server:
        server.add({"lines": [tweet(i, PAD) for i in range(COUNT)], "end": "close", "drop_slow": 0.5},
                   {"lines": [], "end": "hold"})
        pipeline = env.write("slow.yaml", """
pipelines:
  slow:
    source: {type: http_client, url: "%s", batch_size: 10, network_backoff_step: 50ms}
    sinks:
      - {type: slow, path: "%s", delay: 1500ms, batch_max_events: 10}
    queue_max_events: 20
""" % (server.url, out))
        with Sluice(env, [pipeline], name="slow", admin=True, test_plugins=("slow",)) as s:
            wait_until(lambda: s.check_alive() or len(server.request_list()) >= 2, 120,
                       "the reconnect after the server dropped the slow reader")
            reqs = server.request_list()
            check(reqs[0].dropped_slow, "the server did not drop the reader: it kept up (the sink is not slow?)")
            check(labelled(s, "sluice_http_client_reconnects_total", 'reason="closed_while_full"') == 1,
                  "reconnects by reason closed_while_full: %r"
                  % labelled(s, "sluice_http_client_reconnects_total", 'reason="closed_while_full"'))
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    check("the server may drop slow readers" in s.log_text(), "the log does not say the server may have dropped "
          "a slow reader:\n" + s.log_tail())
    ids = [json.loads(line)["data"]["id"] for line in read_lines(out)]
    check(0 < len(ids) < COUNT, "tweets in the sink: %d (the drop should cut the stream short)" % len(ids))
    check(ids == [str(i) for i in range(len(ids))], "tweets out of order or twice: first differences %r"
          % [(i, x) for i, x in enumerate(ids) if x != str(i)][:3])


if __name__ == "__main__":
    run(main)
