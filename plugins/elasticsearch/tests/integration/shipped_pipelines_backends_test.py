#!/usr/bin/python3
"""Issue 12's "done when": the shipped pipelines/listings.yaml and pipelines/visits.yaml, run unchanged
with ES_HOSTS unset (the embedded index) and with ES_HOSTS naming a real OpenSearch 2.19 node, give the
same searchable results.

Two daemons run side by side, `sluice run pipelines/listings.yaml pipelines/visits.yaml
search-page.yaml` each (the third file, written here, is the srp search page over `${ES_HOSTS:-embedded}`,
as plugins/srp/README.md shows it), each on its own data directory and its own embedded Kafka
(KAFKA_BROKERS unset: the bootstrap address is read from the daemon's log). kcat gives both the same
input: the shipped corpus pipelines/data/sample-listings.jsonl on `new-listings-topic`; once indexed,
seeded, skewed page views of 30 listings on `page-views` (visits_lib.Views); once counted, edits of 10 of
those listings, re-sent as the seed sends a listing (id, title, description: no `visits`).

Asserted on each backend, by waiting for it (no fixed sleep): every listing is there with its title
(the edits' titles for the edited ones), and its `visits` are exactly the corpus's `visits` plus the
views sent (the edits kept them); the consumer groups committed every offset; nothing dead-lettered;
both daemons stop cleanly. Then, through each search page's /api/search: for the seed's query, the 59
more of search_relevance_test and the edits' words, `relevant` and `hot` (visits_missing 0.1, as there),
the same number of results, the same first hit (or one tied with it on the node's score) and a mean
top-10 overlap >= 80 % per sort; the overlap of every query is printed, with how far the scores are from
the node's (some per cent here, unlike search_relevance_test's fresh index: the node's BM25 statistics
still count the documents its updates replaced).
"""
import json
import os
import re
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "plugins", "srp", "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "plugins", "aggregate", "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, HERE)
from embedded_index_kill9_test import dump  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from search_relevance_test import QUERIES, compare  # noqa: E402
from search_tool import SAMPLE_LISTINGS  # noqa: E402
from sluice_test import (  # noqa: E402
    Sluice, TestFailure, check, committed_offsets, free_port, kcat_produce_spread, run, wait_until)
from srp_checks import Client  # noqa: E402
from visits_lib import INDEX, Views, committed  # noqa: E402

LISTINGS_TOPIC = "new-listings-topic"
LISTINGS_GROUP = "listing-indexer"
PARTITIONS = 4          # the embedded broker's partitions for a topic created on first use
VIEWS = 600             # page views over VIEWED listings, skewed
VIEWED = 30
EDITED = 10             # of the viewed listings, re-sent with a new title
EDIT_PREFIX = "Reduced relisted"  # words no listing of the corpus has
SORTS = [("relevant", {}), ("hot", {})]

SEARCH_PAGE = """# The search page over the listings index of pipelines/listings.yaml (plugins/srp/README.md).
pipelines:
  search-page:
    source:
      type: srp
      listen: ${SRP_LISTEN}
      hosts: ${ES_HOSTS:-embedded}
      index: listing_index
      visits_missing: 0.1
    sinks:
      - type: "null"
"""


def corpus():
    with open(SAMPLE_LISTINGS) as f:
        return [json.loads(line) for line in f if line.strip()]


def viewed_listings(listings):
    """VIEWED listing ids the queries find: for each query in turn, the first listing whose title holds
    its first word (so that the views move the `hot` rankings compared below)."""
    ids = []
    for text in QUERIES:
        word = text.split()[0].lower()
        for listing in listings:
            if word in listing["title"].lower() and listing["id"] not in ids:
                ids.append(listing["id"])
                break
        if len(ids) == VIEWED:
            return ids
    for listing in listings:
        if len(ids) == VIEWED:
            break
        if listing["id"] not in ids:
            ids.append(listing["id"])
    return ids


class ListingViews(Views):
    """visits_lib's seeded, skewed views, of the listings @ids (its item k is listing ids[k - 1])."""

    def __init__(self, ids):
        super().__init__(seed=12, total=VIEWS, items=len(ids), partitions=PARTITIONS)
        self.item = [ids[k - 1] for k in self.item]


class Backend:
    """One daemon running the shipped files and the search page; @node: the OpenSearch node ES_HOSTS
    names, None for ES_HOSTS unset."""

    def __init__(self, env, name, search_page, node=None):
        self.name = name
        self.node = node
        self.port = free_port()
        extra = {"SRP_LISTEN": "127.0.0.1:%d" % self.port}
        if node:
            extra["ES_HOSTS"] = node.url
        self.sluice = Sluice(env, [env.pipeline("listings.yaml"), env.pipeline("visits.yaml"), search_page],
                             extra_env=extra, name=name, admin=True)
        self.sluice.proc_env.pop("KAFKA_BROKERS", None)
        if not node:
            self.sluice.proc_env.pop("ES_HOSTS", None)
        self.env = env
        self.bootstrap = None
        self.listings_sent = 0
        self.views = None
        self.total = None
        self.page = Client(self.port)

    def start(self):
        self.sluice.start()

        def logged():
            self.sluice.check_alive()
            m = re.search(r"embedded Kafka started: bootstrap (\S+)", self.sluice.log_text())
            return m and m.group(1)
        self.bootstrap = wait_until(logged, 30, "%s: the embedded Kafka's bootstrap address in the log" % self.name)
        print("%s: embedded Kafka at %s, search page on %d" % (self.name, self.bootstrap, self.port), flush=True)

    def docs(self):
        """Every listing in the index: id -> its document (title, visits, ...)."""
        self.sluice.check_alive()
        if self.node is None:
            return (dump(self.env, self.sluice.data_dir()) or {}).get("docs", {})
        if not self.node.exists(INDEX):
            return {}
        answer = self.node.search(INDEX, {"size": 1000, "query": {"match_all": {}}})
        return {h["_id"]: h["_source"] for h in answer["hits"]["hits"]}

    def caught_up(self):
        """True once both consumer groups committed the end offset of every partition they read."""
        listings = committed_offsets(self.bootstrap, LISTINGS_GROUP, LISTINGS_TOPIC, PARTITIONS)
        return (sum(max(o, 0) for o in listings.values()) == self.listings_sent
                and (self.views is None or committed(self.bootstrap, self.views) == self.views.ends))

    def search(self, text, sort, size=10, **_):
        """/api/search of the search page, shaped as compare() reads a SearchIndex's answer."""
        answer = self.page.api(urllib.parse.urlencode({"q": text, "sort": sort, "size": size}))
        self.total = answer["total"]
        return answer


def compare_pages(backends, queries):
    """search_relevance_test's compare() of the two search pages for @queries, relevant and hot; prints the
    overlap of each, and returns the failures: a first hit that differs (and is not tied with the node's),
    result counts that differ, a mean top-10 overlap under 80 %."""
    failures = []
    for sort, options in SORTS:
        total, lowest, worst = 0.0, 1.0, 0.0
        for text in queries:
            overlap, same_first, ids_a, ids_b, deviation = compare(backends[0], backends[1], text, sort, options)
            total += overlap
            lowest = min(lowest, overlap)
            worst = max(worst, deviation)
            same = overlap == 1 and same_first
            print("%-9s %-32s overlap %3.0f%%  first %s  score deviation %.1e%s" % (
                sort, text, overlap * 100, "same" if same_first else "DIFFERS", deviation,
                "" if same else "\n    embedded %s\n    node     %s" % (ids_a, ids_b)), flush=True)
            if not same_first:
                failures.append("%s %r: first hit %s (embedded) vs %s (node)" % (sort, text, ids_a[:1], ids_b[:1]))
            if backends[0].total != backends[1].total:
                failures.append("%s %r: %d results (embedded) vs %d (node)" % (sort, text, backends[0].total,
                                                                              backends[1].total))
        mean = total / len(queries)
        print("%s: mean top-10 overlap %.1f %% (lowest %.0f %%) over %d queries; scores within %.1e of the node's"
              % (sort, mean * 100, lowest * 100, len(queries), worst), flush=True)
        if mean < 0.8:
            failures.append("%s: mean top-10 overlap %.1f %% < 80 %%" % (sort, mean * 100))
    return failures


def differences(docs, want):
    """What differs between the index's @docs and @want (id -> (title, visits)), a few examples."""
    out = []
    for doc_id in sorted(set(docs) | set(want), key=lambda i: int(i) if i.isdigit() else 0):
        doc = docs.get(doc_id)
        got = (doc.get("title"), doc.get("visits", 0)) if doc else None
        if got != want.get(doc_id):
            out.append("%s: %s, expected %s" % (doc_id, got, want.get(doc_id)))
    return out


def wait_for(backends, want, what, timeout=90):
    """Waits until every backend's index holds exactly @want and its groups committed every offset."""
    for b in backends:
        seen = {}

        def done():
            seen["diff"] = differences(b.docs(), want)
            return not seen["diff"] and b.caught_up()
        try:
            wait_until(done, timeout, "%s: %s" % (b.name, what), interval=0.3)
        except TestFailure as e:
            diff = seen.get("diff") or []
            raise TestFailure("%s; %d listings differ, e.g.\n  %s" % (e, len(diff), "\n  ".join(diff[:8])))
        print("%s: %s" % (b.name, what), flush=True)


def main(env):
    listings = corpus()
    for name in ("listings.yaml", "visits.yaml"):
        with open(env.pipeline(name)) as f:
            text = f.read()
        check("${ES_HOSTS:-embedded}" in text and "${KAFKA_BROKERS:-embedded}" in text,
              "%s defaults to the embedded index and broker" % name)
    search_page = env.write("search-page.yaml", SEARCH_PAGE)
    with OpenSearchNode() as node:
        backends = [Backend(env, "embedded", search_page), Backend(env, "opensearch", search_page, node)]
        try:
            for b in backends:
                b.start()

            # The corpus, as on the seed's topic (spread over the partitions).
            want = {str(x["id"]): (x["title"], x.get("visits", 0)) for x in listings}
            for b in backends:
                kcat_produce_spread(b.bootstrap, LISTINGS_TOPIC, [json.dumps(x) for x in listings], PARTITIONS)
                b.listings_sent = len(listings)
            wait_for(backends, want, "the %d listings indexed" % len(listings))

            # Page views of 30 listings: each one's visits become the corpus's plus its views.
            viewed = viewed_listings(listings)
            for b in backends:
                b.views = ListingViews(viewed)
                b.views.produce(b.bootstrap, VIEWS)
            counts = backends[0].views.expected()
            check(counts == backends[1].views.expected() and sum(counts.values()) == VIEWS, "the same views to both")
            print("views per listing: %s" % dict(counts.most_common()), flush=True)
            for doc_id, n in counts.items():
                title, visits = want[doc_id]
                want[doc_id] = (title, visits + n)
            wait_for(backends, want, "the %d views counted" % VIEWS)

            # Edits of viewed listings, sent as the seed sends a listing (no `visits`): upsert keeps them.
            edits = [x for x in listings if x["id"] in viewed[:EDITED]]
            for x in edits:
                want[str(x["id"])] = (EDIT_PREFIX + ": " + x["title"], want[str(x["id"])][1])
            lines = [json.dumps({"id": x["id"], "title": want[str(x["id"])][0], "description": x["description"]})
                     for x in edits]
            for b in backends:
                kcat_produce_spread(b.bootstrap, LISTINGS_TOPIC, lines, PARTITIONS)
                b.listings_sent += len(lines)
            wait_for(backends, want, "the %d edits indexed, their visits kept" % len(edits))

            # What a user of the search page sees, embedded vs the node. The node's BM25 statistics still
            # count the documents its updates replaced (each `visits` increment, each edit: soft deletes,
            # kept past a force merge), the embedded index's are exact: scores differ by some per cent and
            # close neighbours may swap; the first hits, the result counts and nearly all of each top 10
            # stay the same.
            queries = QUERIES + [EDIT_PREFIX]
            failures = compare_pages(backends, queries)
            for b in backends:
                found = sorted(h["id"] for h in b.search(EDIT_PREFIX, "hot")["hits"])
                check(found == sorted(str(x["id"]) for x in edits), "%s: the edits, and only they, are found by their "
                      "new words: %s" % (b.name, found))
            check(not failures,
                  "the embedded index's search page answers unlike the node's:\n  " + "\n  ".join(failures))

            for b in backends:
                for pipeline in ("listings", "visits", "search-page"):
                    check(b.sluice.dead_letters(pipeline) == [], "%s: nothing dead-lettered by %s" % (b.name, pipeline))
                code = b.sluice.stop()
                check(code == 0, "%s stopped with %s:\n%s" % (b.name, code, b.sluice.log_tail()))
        except BaseException:
            for b in backends:
                print("--- %s log (tail) ---\n%s" % (b.name, b.sluice.log_tail(30)), flush=True)
            raise
        finally:
            for b in backends:
                if b.sluice.alive():
                    b.sluice.proc.kill()
                    b.sluice.proc.wait()


if __name__ == "__main__":
    run(main)
