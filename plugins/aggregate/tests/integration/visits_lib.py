"""What the tests of pipelines/visits.yaml (a real Kafka broker -> aggregate -> a real OpenSearch node)
share: seeded, skewed page views produced per partition in waves, the pipeline derived from the shipped
file, the index's visits read back, the wait for the group to be caught up, and the item-by-item
comparison of the index with the views produced. (Not a test itself: ctest registers *_test.py only.)
"""
import collections
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
import yaml  # noqa: E402
from sluice_test import TestFailure, check, committed_offsets, kcat_produce, wait_until  # noqa: E402

TOPIC = "page-views"
GROUP = "visit-counter"
INDEX = "listing_index"


class Views:
    """@total page views {"user_id": N, "item_id": I} (N numbers the views, 0...) over @items item ids
    1..@items, skewed (weight 1 / rank^@skew, the ranks shuffled), each on a random one of @partitions
    partitions, all drawn from random.Random(@seed). produce() puts the next ones on the topic, which
    starts empty, so the test knows each view's offset."""

    def __init__(self, seed, total, items, partitions, skew=1.1):
        rng = random.Random(seed)
        ids = list(range(1, items + 1))
        rng.shuffle(ids)
        self.item = rng.choices(ids, weights=[1.0 / (rank + 1) ** skew for rank in range(items)], k=total)
        self.partition = [rng.randrange(partitions) for _ in range(total)]
        self.partitions = partitions
        self.produced = 0                # views on the topic so far
        self.ends = [0] * partitions     # end offset of each partition
        self.last_offset = {}            # (item, partition) -> offset of the item's last view there

    def produce(self, bootstrap, n):
        """Puts the next @n views on the topic, one kcat -P (idempotent: no duplicate) per partition."""
        lines = [[] for _ in range(self.partitions)]
        for v in range(self.produced, self.produced + n):
            p = self.partition[v]
            self.last_offset[(self.item[v], p)] = self.ends[p] + len(lines[p])
            lines[p].append('{"user_id": %d, "item_id": %d}' % (v, self.item[v]))
        for p, batch in enumerate(lines):
            if batch:
                kcat_produce(bootstrap, TOPIC, batch, partition=p, extra=("-X", "enable.idempotence=true"))
            self.ends[p] += len(batch)
        self.produced += n

    def expected(self):
        """Views produced so far per item, keyed as the index's document ids (strings)."""
        return collections.Counter(str(i) for i in self.item[:self.produced])

    def per_partition(self, item):
        """Views of @item (a document id) produced so far, per partition."""
        out = collections.Counter(p for i, p in zip(self.item[:self.produced], self.partition) if str(i) == item)
        return dict(sorted(out.items()))


def derived_pipeline(env, source=None, sink=None, window="1s"):
    """pipelines/visits.yaml with windows of @window, offsets committed every 200 ms, its Kafka source given
    @source options on top and its Elasticsearch sink @sink options."""
    with open(env.pipeline("visits.yaml")) as f:
        doc = yaml.safe_load(f)
    pipeline = doc["pipelines"]["visits"]
    pipeline["transforms"][0]["window"] = window
    pipeline["source"]["commit_interval"] = "200ms"
    pipeline["source"].update(source or {})
    pipeline["sinks"][0].update(sink or {})
    return env.write("visits.derived.yaml", yaml.safe_dump(doc))


def summed_visits(node):
    """The visits of every document in the index added up (0 while there is no index)."""
    if not node.exists(INDEX):
        return 0
    answer = node.search(INDEX, {"size": 0, "aggs": {"visits": {"sum": {"field": "visits"}}}})
    return int(round(answer["aggregations"]["visits"]["value"]))


def index_docs(node):
    """Every document of the index, id -> {visits, sluice_applied}, in one search (exact up to 10,000)."""
    if not node.exists(INDEX):
        return {}
    answer = node.search(INDEX, {"size": 10000, "track_total_hits": True, "query": {"match_all": {}},
                                 "_source": ["visits", "sluice_applied"]})
    hits = answer["hits"]["hits"]
    check(answer["hits"]["total"]["value"] == len(hits) < 10000,
          "one search holds every document: %d of %s" % (len(hits), answer["hits"]["total"]))
    return {h["_id"]: h["_source"] for h in hits}


def committed(bootstrap, views):
    """The group's committed offsets, as a list by partition (-1: none)."""
    offsets = committed_offsets(bootstrap, GROUP, TOPIC, views.partitions)
    return [offsets[p] for p in range(views.partitions)]


def settle(node, bootstrap, views, instances, timeout=120):
    """Waits until the group's committed offsets are the end offsets of every partition (every view
    produced is counted and its count stored), then until the index's summed visits have not changed
    for 3 s. Returns that sum."""
    seen = {}

    def caught_up():
        for s in instances:
            s.check_alive()
        seen["committed"] = committed(bootstrap, views)
        return seen["committed"] == views.ends
    try:
        wait_until(caught_up, timeout, "the group to commit every partition's end offset", interval=0.5)
    except TestFailure as e:
        raise TestFailure("%s: committed %s, end offsets %s" % (e, seen.get("committed"), views.ends))
    last = {"sum": None, "since": 0.0}

    def still():
        total, now = summed_visits(node), time.monotonic()
        if total != last["sum"]:
            last.update(sum=total, since=now)
            return False
        return now - last["since"] >= 3
    wait_until(still, 60, "the index's visits to stop changing", interval=0.5)
    return last["sum"]


def compare(node, views, logs=()):
    """Compares every item's `visits` in the index with the views produced; prints the tally (and a few
    examples with their guard, and the log tails of the Sluice instances @logs, when any is wrong) and
    fails on any difference."""
    docs = index_docs(node)
    want = views.expected()
    over, under = [], []
    for item in set(want) | set(docs):
        got, expected = (docs.get(item) or {}).get("visits", 0), want.get(item, 0)
        if got > expected:
            over.append((item, got, expected))
        elif got < expected:
            under.append((item, got, expected))
    print("items checked %d, over-counted %d, under-counted %d (visits in the index %d, views produced %d)"
          % (len(set(want) | set(docs)), len(over), len(under),
             sum((d or {}).get("visits", 0) for d in docs.values()), views.produced), flush=True)
    if not over and not under:
        return
    for label, bad in (("over", over), ("under", under)):
        for item, got, expected in sorted(bad, key=lambda t: -abs(t[1] - t[2]))[:5]:
            print("  %s-counted item %s: visits %d, views %d; views per partition %s; guard %s; offset of the "
                  "item's last view per partition %s"
                  % (label, item, got, expected, views.per_partition(item), (docs.get(item) or {}).get("sluice_applied"),
                     {p: o for (i, p), o in sorted(views.last_offset.items()) if str(i) == item}), flush=True)
    for s in logs:
        print("--- %s log (tail) ---\n%s" % (s.name, s.log_tail(30)), flush=True)
    check(False, "visits exact for every item: %d over-counted (by %d in all), %d under-counted (by %d in all)"
          % (len(over), sum(g - e for _, g, e in over), len(under), sum(e - g for _, g, e in under)))
