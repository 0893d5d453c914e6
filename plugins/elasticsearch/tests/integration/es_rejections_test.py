#!/usr/bin/python3
"""Per-item 429s, produced for real: an OpenSearch node with a one-thread, one-slot write pool and an
index of 4 shards rejects part of every bulk (HTTP 200, `errors: true`, items answered 429
rejected_execution_exception). The sink must resend only the rejected items.

Checked from outside the sink: the bulk bodies that went through a (fault-free) proxy carry more
items than there are documents (so items were resent), and every document in the index has
_version 1: none was written twice, so no item the server had taken was sent again; the index
holds every id once; nothing is dead-lettered.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from fault_proxy import FaultProxy  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import Sluice, check, run  # noqa: E402

TOTAL = 4000


def main(env):
    with OpenSearchNode(write_threads=1, write_queue=1) as node, FaultProxy(node.url, keep_bodies=True) as proxy:
        node.create_index("rej", shards=4)
        pipeline = env.write("rej.yaml", json.dumps({"pipelines": {"rej": {
            "source": {"type": "stdin", "format": "ndjson", "batch_size": 400},
            "sinks": [{"type": "elasticsearch", "hosts": proxy.url, "index": "rej", "id": "{id}",
                       "batch_max_events": 400, "concurrency": 2,
                       "retry_initial_backoff": "20ms", "retry_max_backoff": "200ms"}]}}}))
        data = env.write("rej.ndjson", "".join(json.dumps({"id": i, "title": "listing %d" % i, "n": i}) + "\n"
                                               for i in range(TOTAL)))
        s = Sluice(env, [pipeline], name="rej", stdin_path=data)
        with s:
            code = s.wait_exit(180)
        check(code == 0, "sluice exited %s:\n%s" % (code, s.log_tail()))
        check(s.dead_letters("rej") == [], "nothing dead-lettered")

        sent = sum(r.body.count(b'{"index":') for r in proxy.requests("/_bulk") if r.body)
        check(sent > TOTAL, "items were resent (%d items sent for %d documents): the node rejected none, so "
              "this run tested nothing" % (sent, TOTAL))
        check("429 rejected_execution_exception" in s.log_text(), "the rejections are logged with their type")
        node.refresh("rej")
        hits = node.search("rej", {"size": TOTAL, "version": True, "_source": False})["hits"]["hits"]
        check(len(hits) == TOTAL and {h["_id"] for h in hits} == {str(i) for i in range(TOTAL)},
              "every id once in the index (%d hits)" % len(hits))
        twice = [h["_id"] for h in hits if h["_version"] != 1]
        check(not twice, "no document was written twice (only rejected items were resent): %s" % twice[:10])
        print("%d items sent for %d documents (%d resent), every document at _version 1"
              % (sent, TOTAL, sent - TOTAL), flush=True)


if __name__ == "__main__":
    run(main)
