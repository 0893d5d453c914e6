#!/usr/bin/python3
"""Seed 000's indexer as shipped (pipelines/listings.yaml) from a real Kafka broker into a real
OpenSearch node, killed with SIGKILL in the middle of 200k listings and restarted: in the end every
listing is in `listing_index` exactly once, with the mappings create_index declared, and the seed's
own check (`query_string` "macbook air") finds the MacBook listing.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
import yaml  # noqa: E402
from kafka_broker import KafkaBroker  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import Sluice, check, kcat_produce, run, wait_until  # noqa: E402

TOTAL = 200000
PARTITIONS = 4


def listing(i):
    if i == 42:
        return {"id": 42, "title": 'Used MacbookAir 13"', "description": "This is a used Macbook Air in great condition"}
    return {"id": i, "title": "listing %d" % i, "description": "a thing for sale, number %d" % i}


def main(env):
    with KafkaBroker(partitions=PARTITIONS) as broker, OpenSearchNode() as node:
        broker.create_topic("new-listings-topic", partitions=PARTITIONS)
        t0 = time.monotonic()
        for p in range(PARTITIONS):
            kcat_produce(broker.bootstrap, "new-listings-topic",
                         [json.dumps(listing(i)) for i in range(p, TOTAL, PARTITIONS)], partition=p)
        print("preloaded %d listings in %.1f s" % (TOTAL, time.monotonic() - t0), flush=True)

        # The shipped pipeline, with a session timeout short enough for the restarted process to get
        # the killed one's partitions within the test.
        with open(env.pipeline("listings.yaml")) as f:
            doc = yaml.safe_load(f)
        doc["pipelines"]["listings"]["source"].update({"rdkafka.session.timeout.ms": 6000,
                                                        "rdkafka.heartbeat.interval.ms": 500,
                                                        "commit_interval": "200ms"})
        pipeline = env.write("listings.yaml", yaml.safe_dump(doc))
        run_env = {"KAFKA_BROKERS": broker.bootstrap, "ES_HOSTS": node.url}

        first = Sluice(env, [pipeline], extra_env=run_env, name="first")
        with first:
            wait_until(lambda: first.check_alive() or node.exists("listing_index") and
                       node.count("listing_index") >= TOTAL // 4, 120, "a quarter of the listings indexed")
            first.kill9()
        before = node.count("listing_index")
        check(before < TOTAL, "everything was indexed before the kill (%d): nothing tested" % before)
        print("killed -9 with %d listings indexed" % before, flush=True)

        second = Sluice(env, [pipeline], extra_env=run_env, name="second", admin=True)
        with second:
            wait_until(lambda: second.check_alive() or node.count("listing_index") >= TOTAL, 240,
                       "all %d listings indexed after the restart" % TOTAL, interval=0.5)
            # Offsets are committed once the documents are stored: wait for the group to be caught up,
            # then stop cleanly.
            code = second.stop()
            check(code == 0, "the second run stopped with %s:\n%s" % (code, second.log_tail()))
        ids = node.ids("listing_index")
        check(len(ids) == TOTAL and set(ids) == {str(i) for i in range(TOTAL)},
              "every listing exactly once: %d documents, %d distinct ids" % (len(ids), len(set(ids))))
        check(node.get("listing_index", "7") == listing(7), "a listing is stored as it was on the topic")
        mapping = node.request("GET", "/listing_index/_mapping")[1]["listing_index"]["mappings"]["properties"]
        check(mapping["title"]["type"] == "text" and mapping["id"]["type"] == "keyword" and
              mapping["visits"]["type"] == "long", "the index has the mappings of listings.yaml: %s" % mapping)
        hits = node.search("listing_index", {"query": {"query_string": {"query": "macbook air"}}})["hits"]["hits"]
        check(hits and hits[0]["_id"] == "42", "the seed's query finds the MacBook first: %s" % hits[:1])


if __name__ == "__main__":
    run(main)
