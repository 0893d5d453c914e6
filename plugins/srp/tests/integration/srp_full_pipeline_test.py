#!/usr/bin/python3
"""An item page never waits for its pipeline, and a view it cannot hand over is counted, not lost
silently: the srp source's pipeline ends in a sink that takes 2 s a write with a queue of one
event, so most views of a burst find it full. Every page is still answered at once (200, well
under the sink's delay); the views that did not fit are in
sluice_srp_page_views_total{outcome="dropped"}, the others in {outcome="emitted"}, together one
per page served, and the log says so (once, not per view)."""
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from sluice_test import Sluice, check, free_port, run, wait_until  # noqa: E402

VIEWS = 20


def main(env):
    port = free_port()
    stdin = env.write("listings.jsonl", json.dumps({"id": 42, "title": "Used MacbookAir 13\""}) + "\n")
    pipeline = env.write("full.yaml", """
pipelines:
  listings:
    source: {type: stdin, format: ndjson}
    sinks:
      - {type: elasticsearch, hosts: embedded, index: listing_index, id: "{id}", action: upsert}
  search-page:
    queue_max_events: 1
    source: {type: srp, listen: "127.0.0.1:%d", hosts: embedded, index: listing_index}
    sinks:
      - {type: slow, path: %s, delay: 2s}
""" % (port, json.dumps(env.path("views.txt"))))
    with Sluice(env, [pipeline], admin=True, test_plugins=("slow",), stdin_path=stdin, name="full") as daemon:
        def found():
            daemon.check_alive()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/item/42")
                return conn.getresponse().status == 200
            except OSError:
                return False
        wait_until(found, 60, "listing 42 indexed")
        slowest = 0.0
        for _ in range(VIEWS):
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/item/42", headers={"Cookie": "sluice_uid=visitor-0001"})
            r = conn.getresponse()
            r.read()
            slowest = max(slowest, time.monotonic() - started)
            check(r.status == 200, "item page: %d" % r.status)
        check(slowest < 1.0, "an item page waited for the pipeline: %.2f s" % slowest)

        def views(outcome):
            conn = http.client.HTTPConnection(*daemon.admin.split(":"), timeout=5)
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
            return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                       if line.startswith("sluice_srp_page_views_total{") and 'outcome="%s"' % outcome in line)

        def counted():
            d, e = views("dropped"), views("emitted")
            return (d, e) if d + e >= VIEWS else None
        dropped, emitted = wait_until(counted, 10, "the views counted")
        check(dropped + emitted == VIEWS, "one view per page: %s dropped + %s emitted" % (dropped, emitted))
        check(dropped >= VIEWS - 5 and emitted >= 1, "most views of the burst dropped: %s / %s" % (dropped, emitted))
        log = daemon.log_text()
        check(log.count("page views not recorded: the pipeline is full") == 1,
              "one log line for the burst:\n%s" % daemon.log_tail())
        check(daemon.stop() == 0, "clean stop:\n%s" % daemon.log_tail())


if __name__ == "__main__":
    run(main)
