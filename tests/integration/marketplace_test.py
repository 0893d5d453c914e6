#!/usr/bin/python3
"""The README's main job: pipelines/marketplace.yaml, unchanged, runs all of seed 000 in one daemon
on the embedded broker, once on the embedded index (ES_HOSTS unset) and once on a real OpenSearch
node (ES_HOSTS set). On each, as a user would check it:
- the shipped sample listings become searchable (the search page's total), put on the topic once;
- `POST /listings` is answered once Kafka has the listing (200, the seed's body; a body that is not
  JSON, or has no id, is a 400), and the search page finds it within seconds;
- item pages record page views: the access log gets `user_id<TAB>item_id` lines, the listing's
  `visits` becomes the number of views once the 5 s window closes, and `sort=hot` then puts it
  first; the listing sent again (an edit carrying `visits: 0`) keeps its counted visits;
- after SIGTERM (exit 0) and a restart on the same data directory the index still has every listing,
  the sample is not put on the topic again, and new views still count (the embedded broker starts
  empty: its offsets start again at 0, under the index's record of the offsets already applied).
"""
import http.client
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "plugins", "srp", "tests", "integration"))
from sluice_test import Sluice, check, free_port, read_lines, run, wait_until  # noqa: E402
from srp_checks import Client  # noqa: E402

NEW = {"id": 9001, "title": "Zanzibar hammock, barely used",
       "description": "A hammock from Zanzibar for two, with its straps"}
# Views of the second listing: its log1p(visits) well over twice the first's (1 view), whichever
# logarithm and whatever the backend's term statistics.
VIEWS = 6
OTHER = {"id": 9002, "title": "Zanzibar spice box", "description": "Wooden box of spices from Zanzibar"}


def post(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def main(env):
    sample = os.path.join(env.source_dir, "pipelines", "data", "sample-listings.jsonl")
    with open(sample) as f:
        sample_count = sum(1 for line in f if line.strip())
    story(env, "embedded", {}, sample, sample_count)
    from opensearch_node import OpenSearchNode
    with OpenSearchNode() as node:
        story(env, "opensearch", {"ES_HOSTS": node.url}, sample, sample_count)


def story(env, backend, extra, sample, sample_count):
    print("--- %s" % backend, flush=True)
    srp, ingest = free_port(), free_port()
    access_log = env.path("access-%s.log" % backend)
    variables = dict(extra, SRP_LISTEN="127.0.0.1:%d" % srp, INGEST_LISTEN="127.0.0.1:%d" % ingest,
                     SAMPLE_LISTINGS=sample, ACCESS_LOG=access_log)
    variables.pop("KAFKA_BROKERS", None)
    page = Client(srp)
    marketplace = env.pipeline("marketplace.yaml")
    name = "market-" + backend

    def total(query="q="):
        try:
            return page.api(query)["total"]
        except (OSError, AssertionError):  # not up yet, or 503 until the node has the index
            return -1

    def item(doc_id):
        status, _, body = page.get("/api/item/%d" % doc_id)
        if status != 200:
            return None
        doc = json.loads(body)
        return doc.get("source", doc) if isinstance(doc.get("source"), dict) else doc

    with Sluice(env, [marketplace], extra_env=variables, admin=True, name=name) as daemon:
        wait_until(lambda: daemon.check_alive() or total() == sample_count, 120,
                   "the %d sample listings searchable" % sample_count)
        # The seed's query finds the seed's listing kind first.
        first = page.api("q=macbook+air")["hits"][0]
        check("macbook" in first["title"].lower(), "macbook air: first hit %r" % first["title"])

        status, body = post(ingest, "/listings", json.dumps(NEW))
        check(status == 200 and json.loads(body) == {"success": True}, "POST /listings: %d %s" % (status, body))
        status, body = post(ingest, "/listings", '{"id": 1, "title": ')
        check(status == 400, "a listing that is not JSON: %d %s" % (status, body))
        status, body = post(ingest, "/listings", '{"title": "no id"}')
        check(status == 400 and "'id' is required" in body, "a listing without an id: %d %s" % (status, body))
        wait_until(lambda: [h["id"] for h in page.api("q=zanzibar")["hits"]] == ["9001"], 15,
                   "the posted listing found by the search page")
        status, body = post(ingest, "/listings", json.dumps(OTHER))
        check(status == 200, "second listing: %d %s" % (status, body))
        wait_until(lambda: total("q=zanzibar") == 2, 15, "both zanzibar listings searchable")

        # Views of 9002 (less relevant for "zanzibar hammock", but viewed more): hot puts it first.
        relevant = [h["id"] for h in page.api("q=zanzibar+hammock")["hits"]]
        check(relevant[:1] == ["9001"], "by relevance the hammock is first: %s" % relevant)
        for i in range(VIEWS):
            status, _, _ = page.get("/item/9002", headers={"Cookie": "sluice_uid=buyer-000%d" % i})
            check(status == 200, "item page: %d" % status)
        status, _, _ = page.get("/item/9001", headers={"Cookie": "sluice_uid=buyer-0000"})
        check(status == 200, "item page: %d" % status)
        wait_until(lambda: (item(9002) or {}).get("visits") == VIEWS and (item(9001) or {}).get("visits") == 1, 30,
                   "visits counted once the window closes")
        wait_until(lambda: [h["id"] for h in page.api("q=zanzibar+hammock&sort=hot")["hits"]][:1] == ["9002"], 15,
                   "sort=hot to put the viewed listing first")
        # The seller edits 9002 and the listing carries a visits of 0: the title changes, the count stays.
        edited = dict(OTHER, title="Zanzibar spice box, carved", visits=0)
        status, body = post(ingest, "/listings", json.dumps(edited))
        check(status == 200, "the edited listing: %d %s" % (status, body))
        wait_until(lambda: (item(9002) or {}).get("title") == edited["title"], 15, "the edit indexed")
        check(item(9002).get("visits") == VIEWS, "the edit reset the counted visits: %s" % item(9002))
        wait_until(lambda: len(read_lines(access_log)) == VIEWS + 1, 15, "an access-log line per view")
        lines = sorted(read_lines(access_log))
        check(lines == sorted(["buyer-000%d\t9002" % i for i in range(VIEWS)] + ["buyer-0000\t9001"]),
              "the access log: %s" % lines)
        check(daemon.dead_letters("listings") == [], "no listing dead-lettered")
        check(daemon.stop() == 0, "clean stop:\n%s" % daemon.log_tail())

    # Restart on the same data directory: the index keeps everything, the sample is not sent again,
    # and views still count although the embedded broker's offsets start again at 0.
    with Sluice(env, [marketplace], extra_env=variables, admin=True, name=name) as daemon:
        wait_until(lambda: daemon.check_alive() or total() == sample_count + 2, 60, "the index kept its listings")
        sample_in = {"pipeline": "listings-sample"}
        wait_until(lambda: daemon.metric("sluice_events_out_total", sample_in) is not None, 20, "metrics")
        for _ in range(2):
            status, _, _ = page.get("/item/9001", headers={"Cookie": "sluice_uid=buyer-0009"})
            check(status == 200, "item page: %d" % status)
        wait_until(lambda: (item(9001) or {}).get("visits") == 3, 30,
                   "views after the restart counted (1 + 2), got %s" % (item(9001) or {}).get("visits"))
        check(total() == sample_count + 2, "the index's count: %d" % total())
        check(daemon.metric("sluice_events_out_total", sample_in) == 0,
              "the sample put on the topic again: %s events" % daemon.metric("sluice_events_out_total", sample_in))
        check(daemon.stop() == 0, "clean stop:\n%s" % daemon.log_tail())


if __name__ == "__main__":
    run(main)
