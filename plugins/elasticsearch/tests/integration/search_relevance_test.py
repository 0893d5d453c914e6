#!/usr/bin/python3
"""Issue 12: the embedded index ranks like a real OpenSearch 2.19 node.

The shipped corpus (pipelines/data/sample-listings.jsonl, 400 listings) goes through the
elasticsearch sink as pipelines/listings.yaml configures it (upsert by id; on the node its
create_index: standard tokenizer + lowercase + asciifolding for title and description, the
analysis of text_analysis.hpp) into `hosts: embedded` and into the node. Both are searched through
the SDK's SearchIndex (the embedded index, and EsSearchIndex with the seed's query shapes). The seed's query and 50 more run
`relevant` and `hot` (missing 0.1, as in the seed) on both. Asserted: the same first hit for every
query (or one tied with it on the node's score), top-10 sets overlapping >= 80 % on average, and
the scores of the hits both return within 1e-4 (relative) of the node's.
The overlap, and how far the embedded index's scores are from the node's, are printed per query
and overall (the embedded index scores as Lucene does: measured 100 % overlap, scores within
float rounding).
"""
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from opensearch_node import OpenSearchNode  # noqa: E402
from search_tool import SAMPLE_LISTINGS, SearchTool  # noqa: E402
from sluice_test import Sluice, check, run  # noqa: E402

# The seed's query first, then what users of a campus marketplace type (accents, typos of case,
# model numbers, several words, words found only in descriptions).
QUERIES = [
    "macbook air",
    "MacBook Air M2", "macbook pro 14", "used laptop", "dell xps", "thinkpad carbon", "chromebook", "gaming laptop rtx",
    "16GB RAM", "512GB SSD", "iphone", "iPhone 13 Pro 256GB", "iphone se", "samsung galaxy ultra", "google pixel",
    "unlocked phone", "bike", "road bike", "mountain bike 29er", "electric bike", "vélo", "Velo de route", "trek hybrid",
    "folding bike brompton", "kids bike training wheels", "sofa", "Canapé", "sleeper sofa", "ikea kallax", "oak dining table",
    "office chair aeron", "standing desk", "queen bed frame", "futon", "calculus textbook", "organic chemistry klein",
    "algorithms clrs", "campbell biology", "coffee maker", "keurig", "instant pot", "mini fridge dorm", "air fryer",
    "dyson vacuum", "crème brûlée", "noise cancelling headphones", "ipad air", "nintendo switch games", "ps5 controller",
    "apple watch gps", "kindle paperwhite", "Zürich", "montreal", "sao paulo", "smoke-free", "battery health charger",
    "like new", "don't use it anymore", "cash or venmo pick-up", "1440p monitor",
]
SORTS = [("relevance", {}), ("hot", {"missing": 0.1})]


def compare(embedded, node, text, sort, options):
    a = embedded.search(text, sort, size=10, **options)["hits"]
    b = node.search(text, sort, size=10, **options)["hits"]
    ids_a, ids_b = [h["id"] for h in a], [h["id"] for h in b]
    overlap = len(set(ids_a) & set(ids_b)) / max(len(ids_a), len(ids_b), 1)
    same_first = ids_a[:1] == ids_b[:1]
    if not same_first and a and b:
        # A tie on the node's score is no disagreement (the order among equals is arbitrary).
        score_b = {h["id"]: h["score"] for h in b}
        same_first = abs(score_b.get(ids_a[0], -1) - b[0]["score"]) <= 1e-5 * max(b[0]["score"], 1e-9)
    score_a = {h["id"]: h["score"] for h in a}
    deviation = max([abs(score_a[h["id"]] - h["score"]) / max(h["score"], 1e-9) for h in b if h["id"] in score_a] or [0])
    return overlap, same_first, ids_a, ids_b, deviation


def index_listings(env, name, hosts):
    """Runs the corpus through listings.yaml's sink with @hosts; returns the daemon's data directory."""
    with open(env.pipeline("listings.yaml")) as f:
        sink = yaml.safe_load(f)["pipelines"]["listings"]["sinks"][0]
    sink["hosts"] = hosts
    pipeline = env.write(name + ".yaml", json.dumps(
        {"pipelines": {name: {"source": {"type": "stdin", "format": "ndjson"}, "sinks": [sink]}}}))
    s = Sluice(env, [pipeline], name=name, stdin_path=SAMPLE_LISTINGS)
    with s:
        code = s.wait_exit(120)
    check(code == 0, "%s exited %s:\n%s" % (name, code, s.log_tail()))
    check(s.dead_letters(name) == [], "nothing dead-lettered")
    return s.data_dir()


def main(env):
    with OpenSearchNode() as os_node:
        data_dir = index_listings(env, "embedded", "embedded")
        index_listings(env, "cluster", os_node.url)
        os_node.refresh("listing_index")
        with SearchTool(env, "listing_index", embedded=data_dir) as embedded, \
                SearchTool(env, "listing_index", hosts=os_node.url) as node:
            check(embedded.call({"op": "count"}) == node.call({"op": "count"}) == {"count": 400}, "400 documents each")
            failures = []
            for sort, options in SORTS:
                total = 0.0
                worst = 0.0
                for text in QUERIES:
                    overlap, same_first, ids_a, ids_b, deviation = compare(embedded, node, text, sort, options)
                    total += overlap
                    worst = max(worst, deviation)
                    print("%-9s %-32s overlap %3.0f%%  first %s  score deviation %.1e%s" % (
                        sort, text, overlap * 100, "same" if same_first else "DIFFERS", deviation,
                        "" if overlap == 1 and same_first else "\n    embedded %s\n    node     %s" % (ids_a, ids_b)),
                        flush=True)
                    if not same_first:
                        failures.append("%s %r: first hit %s (embedded) vs %s (node)"
                                        % (sort, text, ids_a[:1], ids_b[:1]))
                mean = total / len(QUERIES)
                print("%s: mean top-10 overlap %.1f %% over %d queries; scores within %.1e of the node's"
                      % (sort, mean * 100, len(QUERIES), worst), flush=True)
                if worst > 1e-4:
                    failures.append("%s: scores differ from the node's by up to %.1e (relative)" % (sort, worst))
                if mean < 0.8:
                    failures.append("%s: mean top-10 overlap %.1f %% < 80 %%" % (sort, mean * 100))
            check(not failures, "the embedded index ranks unlike the node:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    run(main)
