#!/usr/bin/python3
"""The elasticsearch sink through faults a real node cannot make on demand, made by a fault-injecting
proxy (tests/lib/fault_proxy.py) in front of a real OpenSearch node: down for 30 s, every request
answered 429 for 30 s (with Retry-After), 413 above a byte limit, responses cut short, answers slower
than the sink's timeout. Events come from a `generate` source at a steady rate, ids from {seq}.

In each: the pipeline's queue fills and the source pauses (its output stops moving while the sink
retries), /health says why, then everything resumes. In the end the index holds every id exactly
once, nothing is dead-lettered, the exit status is 0 and sluice's peak RSS stays bounded.
"""
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from fault_proxy import FaultProxy  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import Sluice, check, run, wait_until  # noqa: E402

TOTAL = 60000
RATE = 1500
QUEUE = 4000
PEAK_RSS_MB = 250


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
    before = node.count("faults")
    wait_until(lambda: s.check_alive() or node.count("faults") > before + 1000, 90, "indexing to resume after " + what)
    wait_until(lambda: get(s.admin, "/health")[0] == 200, 30, "/health to be healthy again after " + what)


def main(env):
    with OpenSearchNode() as node, FaultProxy(node.url) as proxy:
        node.create_index("faults", mappings={"properties": {"id": {"type": "long"}}})
        pipeline = env.write("faults.yaml", json.dumps({"pipelines": {"faults": {
            "queue_max_events": QUEUE,
            "source": {"type": "generate", "count": TOTAL, "rate": RATE, "batch_size": 100,
                       "template": {"id": "{seq}", "title": "listing {seq}", "text": "{uuid}"}},
            "sinks": [{"type": "elasticsearch", "hosts": proxy.url, "index": "faults", "id": "{id}",
                       "timeout": "3s", "retry_initial_backoff": "100ms", "retry_max_backoff": "1s",
                       "batch_max_events": 500}]}}}))
        s = Sluice(env, [pipeline], name="faults", admin=True)
        with s:
            wait_until(lambda: s.check_alive() or node.count("faults") >= 3000, 60, "a first 3000 documents")

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

            if s.alive():
                PEAKS.append(peak_rss_mb(s.proc.pid))
            code = s.wait_exit(240)
            check(code == 0, "sluice exited %s (0: every event delivered):\n%s" % (code, s.log_tail()))
        check(max(PEAKS) < PEAK_RSS_MB, "sluice's peak RSS stays under %d MB: %.0f MB" % (PEAK_RSS_MB, max(PEAKS)))
        check(s.dead_letters("faults") == [], "nothing was dead-lettered: %s" % s.dead_letters("faults")[:3])
        ids = node.ids("faults")
        check(len(ids) == TOTAL, "%d documents in the index, %d sent" % (len(ids), TOTAL))
        check(set(ids) == {str(i) for i in range(1, TOTAL + 1)}, "the index holds every id exactly once")
        check("cut short" in s.log_text(), "the responses cut short are logged as such")
        print("faults: %d bulk requests through the proxy, peak RSS %.0f MB" % (
            len(proxy.requests("/_bulk")), max(PEAKS)), flush=True)


if __name__ == "__main__":
    run(main)
