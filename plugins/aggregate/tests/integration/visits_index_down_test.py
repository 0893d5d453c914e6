#!/usr/bin/python3
"""pipelines/visits.yaml while the index is down: a view that arrives then is counted once the index is
back, exactly once. A real Kafka broker -> aggregate (1 s windows) -> a fault-injecting proxy
(tests/lib/fault_proxy.py) -> a real OpenSearch node. Views are produced while the proxy refuses
connections, then while it answers every request 503; during each outage the counts are made and
their writes refused again and again, the index does not change, and no view of the outage is
committed (the views are committed only once their count is stored). After each the proxy heals; in
the end every item's `visits` is the number of views it was given.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from fault_proxy import FaultProxy  # noqa: E402
from kafka_broker import KafkaBroker  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import Sluice, check, run, wait_until  # noqa: E402
from visits_lib import TOPIC, Views, committed, compare, derived_pipeline, settle, summed_visits  # noqa: E402

SEED = int(os.environ.get("SLUICE_TEST_SEED", "2000"))
PARTITIONS = 4
ITEMS = 300
WAVE = 1500  # views before the outages, during each of the two, then after
TOTAL = 4 * WAVE
REFUSED = 8  # bulk requests refused in each outage before it heals (backoffs up to 1 s: a few seconds)


def outage(s, node, broker, views, name, start, heal):
    """@start()s a fault, produces a wave, waits until its counts are made and their bulk requests refused
    several times, checks that the index and the committed offsets did not move, then @heal()s it and
    waits until the group is caught up."""
    before_visits = summed_visits(node)
    before_offsets = committed(broker.bootstrap, views)
    consumed = s.metric("sluice_kafka_messages_total")
    emitted = s.metric("sluice_aggregate_emitted_total")
    requests = s.metric("sluice_elasticsearch_requests_total")  # every one fails during the fault
    start()
    views.produce(broker.bootstrap, WAVE)

    def refused_again_and_again():
        s.check_alive()
        return (s.metric("sluice_kafka_messages_total") >= consumed + WAVE and
                s.metric("sluice_aggregate_emitted_total") > emitted and
                s.metric("sluice_elasticsearch_requests_total") >= requests + REFUSED)
    wait_until(refused_again_and_again, 60, "the counts of the views produced %s made and %d bulk requests refused"
               % (name, REFUSED), interval=0.2)
    check(summed_visits(node) == before_visits, "nothing was written %s: %d visits, then %d"
          % (name, before_visits, summed_visits(node)))
    now = committed(broker.bootstrap, views)
    check(now == before_offsets, "no view produced %s is committed while its count is not stored: committed %s, "
          "then %s (end offsets %s)" % (name, before_offsets, now, views.ends))
    refused = s.metric("sluice_elasticsearch_requests_total") - requests
    heal()
    settle(node, broker.bootstrap, views, [s])
    print("%s: %d counts made, %d bulk requests refused; once healed, stored"
          % (name, s.metric("sluice_aggregate_emitted_total") - emitted, refused), flush=True)


def main(env):
    t0 = time.monotonic()
    views = Views(SEED, TOTAL, ITEMS, PARTITIONS)
    with KafkaBroker(partitions=PARTITIONS) as broker, OpenSearchNode() as node, FaultProxy(node.url) as proxy:
        broker.create_topic(TOPIC, partitions=PARTITIONS)
        # The shipped pipeline pointed at the proxy, with a sink timeout and backoffs short for the test.
        pipeline = derived_pipeline(env, sink={"timeout": "3s", "retry_initial_backoff": "100ms",
                                               "retry_max_backoff": "1s"})
        s = Sluice(env, [pipeline], extra_env={"KAFKA_BROKERS": broker.bootstrap, "ES_HOSTS": proxy.url},
                   name="index-down", admin=True)
        with s:
            views.produce(broker.bootstrap, WAVE)
            settle(node, broker.bootstrap, views, [s])
            check(summed_visits(node) == views.produced, "the first %d views counted: %d visits"
                  % (views.produced, summed_visits(node)))
            outage(s, node, broker, views, "while connections are refused", lambda: proxy.down(120), proxy.clear)
            outage(s, node, broker, views, "while every request is answered 503",
                   lambda: proxy.status(503, seconds=120), proxy.clear)
            views.produce(broker.bootstrap, WAVE)
            settle(node, broker.bootstrap, views, [s])
            compare(node, views)
            code = s.stop()
            check(code == 0, "sluice stopped with %s:\n%s" % (code, s.log_tail()))
        check(s.dead_letters("visits") == [], "nothing dead-lettered: %s" % s.dead_letters("visits")[:3])
        print("%.1f s in all; %d bulk requests through the proxy, %d of them answered 503"
              % (time.monotonic() - t0, len(proxy.requests("/_bulk")),
                 sum(1 for r in proxy.requests("/_bulk") if r.status == 503)), flush=True)


if __name__ == "__main__":
    run(main)
