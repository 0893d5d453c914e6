#!/usr/bin/python3
"""Backpressure: the stand-in X stream (x_stream_server.py) sends 3,000 tweets of about 2 KiB as fast as
the socket takes them, into a slow sink (the test plugin `slow`: 20 ms per write of at most 10 events) behind
a queue of 20 events. While the sink lags, the source reads only what the pipeline can take: sampled all
along, the bytes it read (sluice_http_client_bytes_total) never pass what the sink wrote plus the queue,
the batches in flight and one read — the rest waits in the kernel's socket buffers, which slows the server
down. A source that read on would hold megabytes ahead of the sink. Every tweet arrives once, in order.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_test import Sluice, check, count_lines, read_lines, run, wait_until  # noqa: E402
from x_stream_server import XStreamServer, tweet  # noqa: E402

COUNT = 3000
PAD = "x" * 2000
IN_FLIGHT = 20 + 10 + 10 + 50  # queue_max_events, the source's batch, the sink's batch, slack
READ_PIECE = 64 * 1024


def main(env):
    out = env.path("slow.jsonl")
    tweets = [tweet(i, PAD) for i in range(COUNT)]
    line_bytes = len(tweets[0]) + 4  # the line, \r\n, and the keep-alive \r\n after it
    with XStreamServer() as server:
        server.add({"lines": tweets, "end": "hold"})
        pipeline = env.write("slow.yaml", """
pipelines:
  slow:
    source: {type: http_client, url: "%s", batch_size: 10}
    sinks:
      - {type: slow, path: "%s", delay: 20ms, batch_max_events: 10}
    queue_max_events: 20
""" % (server.url, out))
        with Sluice(env, [pipeline], name="slow", admin=True, test_plugins=("slow",)) as s:
            samples = []
            deadline = time.monotonic() + 120
            while count_lines(out) < COUNT:
                s.check_alive()
                check(time.monotonic() < deadline, "the slow sink wrote only %d of %d tweets" % (count_lines(out), COUNT))
                read = s.metric("sluice_http_client_bytes_total")  # first: the bound below is then safe
                written = count_lines(out)
                if read is not None:
                    samples.append((read, written))
                    check(read <= (written + IN_FLIGHT) * line_bytes + READ_PIECE,
                          "the source read %d bytes while the sink had written %d tweets (%d bytes): it did not stop "
                          "reading while the pipeline was full" % (read, written, written * line_bytes))
                time.sleep(0.05)
            print("samples (bytes read, tweets written): %r ... %r" % (samples[:3], samples[-3:]), flush=True)
            check(len(samples) >= 20, "only %d samples while the sink lagged" % len(samples))
            check(any(w < COUNT / 2 for _, w in samples), "the sink never lagged: %r" % samples[:5])
            wait_until(lambda: (s.metric("sluice_http_client_bytes_total") or 0) >= COUNT * line_bytes, 30,
                       "the last bytes to be read")
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    ids = [json.loads(line)["data"]["id"] for line in read_lines(out)]
    check(ids == [str(i) for i in range(COUNT)], "tweets: %d, first differences %r" % (
        len(ids), [(i, x) for i, x in enumerate(ids) if x != str(i)][:3]))


if __name__ == "__main__":
    run(main)
