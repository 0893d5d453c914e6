#!/usr/bin/python3
"""Seed 000's indexer (pipelines/listings.yaml: a real Kafka broker → the elasticsearch sink) through
faults a real node cannot make on demand, made by a fault-injecting proxy (tests/lib/fault_proxy.py)
in front of a real OpenSearch node: down for 30 s, every request answered 429 for 30 s (with
Retry-After), 413 above a byte limit, responses cut short, answers slower than the sink's timeout.
Listings are put on the topic at a steady rate while it runs.

In each: the pipeline's queue fills and the Kafka source pauses (its output stops moving while the
sink retries), /health says why, then everything resumes. In the end the index holds every listing
on the topic exactly once, the group's committed offsets are at the end of the topic, nothing is
dead-lettered, and sluice's peak RSS stays bounded.
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
import yaml  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from kafka_broker import KafkaBroker  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import Sluice, check, committed_offsets, kcat_produce, run, sanitized, wait_until  # noqa: E402

TOTAL = 60000
RATE = 1500  # listings put on the topic per second
PARTITIONS = 4
QUEUE = 4000
PEAK_RSS_MB = 250


class Producer(threading.Thread):
    """Puts TOTAL listings on the topic, RATE a second, round-robin over the partitions."""

    def __init__(self, bootstrap):
        super().__init__(daemon=True)
        self.bootstrap, self.error, self.sent = bootstrap, None, 0

    def run(self):
        try:
            chunk = RATE // 4
            start = time.monotonic()
            while self.sent < TOTAL:
                for p in range(PARTITIONS):
                    ids = range(self.sent + p, min(self.sent + chunk, TOTAL), PARTITIONS)
                    kcat_produce(self.bootstrap, "new-listings-topic",
                                 [json.dumps({"id": i, "title": "listing %d" % i, "description": "for sale"})
                                  for i in ids], partition=p)
                self.sent = min(self.sent + chunk, TOTAL)
                # Pacing: the next chunk is due at sent / RATE seconds after the start.
                time.sleep(max(0.0, start + self.sent / RATE - time.monotonic()))
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


def get(admin, path):
    try:
        with urllib.request.urlopen("http://%s%s" % (admin, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def pipeline_status(admin):
    return json.loads(get(admin, "/status")[1])["pipelines"][0]


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def metric(s, name, label):
    """The sample of @name carrying @label (e.g. 'outcome="retried"') on /metrics."""
    code, text = get(s.admin, "/metrics")
    for line in text.splitlines():
        if line.startswith(name + "{") and label in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


PEAKS = []


def source_pauses(s, what):
    """The queue fills, and the source's output stops moving while the sink keeps retrying; /health
    is unhealthy with the sink's reason. Returns that reason."""
    wait_until(lambda: s.check_alive() or pipeline_status(s.admin)["sinks"][0]["queue_depth"] >= QUEUE - 1024, 60,
               "the queue to fill during %s" % what)
    out = pipeline_status(s.admin)["source"]["counters"]["events_out"]
    retried = metric(s, "sluice_elasticsearch_documents_total", 'outcome="retried"')
    # More rounds of refused writes; meanwhile the source has not put out a batch.
    wait_until(lambda: s.check_alive() or
               metric(s, "sluice_elasticsearch_documents_total", 'outcome="retried"') >= retried + 1000, 60,
               "the sink to retry during %s" % what)
    PEAKS.append(peak_rss_mb(s.proc.pid))
    code, health = get(s.admin, "/health")
    check(code == 503 and "elasticsearch" in health, "/health is unhealthy during %s: %d %s" % (what, code, health))
    after = pipeline_status(s.admin)["source"]["counters"]["events_out"]
    check(after <= out + 1024, "the source paused during %s: %d events out, then %d" % (what, out, after))
    return health


def resumes(s, node, what):
    """The index grows again after @what."""
    before = node.count("listing_index")
    wait_until(lambda: s.check_alive() or node.count("listing_index") > before + 1000, 90,
               "indexing to resume after " + what)
    wait_until(lambda: get(s.admin, "/health")[0] == 200, 30, "/health to be healthy again after " + what)


def main(env):
    with KafkaBroker(partitions=PARTITIONS) as broker, OpenSearchNode() as node, FaultProxy(node.url) as proxy:
        broker.create_topic("new-listings-topic", partitions=PARTITIONS)
        # The shipped pipeline, pointed at the proxy, with a small queue (so it fills within the faults)
        # and a timeout and backoffs short enough for the test.
        with open(env.pipeline("listings.yaml")) as f:
            doc = yaml.safe_load(f)
        p = doc["pipelines"]["listings"]
        p["queue_max_events"] = QUEUE
        p["sinks"][0].update({"timeout": "3s", "retry_initial_backoff": "100ms", "retry_max_backoff": "1s",
                              "batch_max_events": 500})
        pipeline = env.write("listings.yaml", yaml.safe_dump(doc))
        s = Sluice(env, [pipeline], name="faults", admin=True,
                   extra_env={"KAFKA_BROKERS": broker.bootstrap, "ES_HOSTS": proxy.url})
        producer = Producer(broker.bootstrap)
        with s:
            producer.start()
            wait_until(lambda: s.check_alive() or node.exists("listing_index") and
                       node.count("listing_index") >= 3000, 60, "a first 3000 listings")

            proxy.down(30)
            why = source_pauses(s, "the outage")
            check("no Elasticsearch host answers" in why, "/health names the outage: %s" % why)
            proxy.wait_clear(60)
            resumes(s, node, "the outage")

            proxy.status(429, 30, retry_after=1)
            why = source_pauses(s, "the 429s")
            check("429" in why, "/health names the 429s: %s" % why)
            proxy.wait_clear(60)
            resumes(s, node, "the 429s")

            proxy.forget()
            proxy.max_bytes(20000)
            wait_until(lambda: s.check_alive() or any(r.status == 413 for r in proxy.requests("/_bulk")), 30,
                       "a 413")
            wait_until(lambda: s.check_alive() or sum(1 for r in proxy.requests("/_bulk") if r.status == 200) >= 20,
                       60, "bulk requests under the limit to succeed")
            over = [r for r in proxy.requests("/_bulk") if r.status == 200 and r.body_size > 20000]
            check(not over, "every bulk the server took is under its limit: %s" % over[:3])
            proxy.max_bytes(None)

            proxy.truncate(3)
            proxy.wait_clear(60)
            proxy.delay(5, 2)  # longer than the sink's 3 s timeout
            proxy.wait_clear(60)

            producer.join(120)
            check(producer.error is None, "the producer failed: %s" % producer.error)
            wait_until(lambda: s.check_alive() or node.count("listing_index") >= TOTAL, 120,
                       "all %d listings indexed" % TOTAL, interval=0.5)
            # Offsets follow the stored documents: the group catches up with the end of the topic.
            wait_until(lambda: s.check_alive() or sum(committed_offsets(
                broker.bootstrap, "listing-indexer", "new-listings-topic", PARTITIONS).values()) >= TOTAL, 60,
                "the group's committed offsets to reach the end of the topic")
            PEAKS.append(peak_rss_mb(s.proc.pid))
            under_sanitizer = sanitized(s.proc.pid)
            code = s.stop()
            check(code == 0, "sluice stopped with %s:\n%s" % (code, s.log_tail()))
        if not under_sanitizer:  # ASan's quarantine and TSan's shadow memory say nothing about the bound
            check(max(PEAKS) < PEAK_RSS_MB, "sluice's peak RSS stays under %d MB: %.0f MB" % (PEAK_RSS_MB, max(PEAKS)))
        check(s.dead_letters("listings") == [], "nothing was dead-lettered: %s" % s.dead_letters("listings")[:3])
        ids = node.ids("listing_index")
        check(len(ids) == TOTAL, "%d documents in the index, %d on the topic" % (len(ids), TOTAL))
        check(set(ids) == {str(i) for i in range(TOTAL)}, "the index holds every listing exactly once")
        check("cut short" in s.log_text(), "the responses cut short are logged as such")
        print("faults: %d bulk requests through the proxy, peak RSS %.0f MB" % (
            len(proxy.requests("/_bulk")), max(PEAKS)), flush=True)


if __name__ == "__main__":
    run(main)
