#!/usr/bin/python3
"""The OpenSearch fixture and the fault proxy do what the elasticsearch sink's tests rely on.

1. A real OpenSearch 2.19.6 node (tests/fixtures/opensearch, from Maven Central) starts on
   127.0.0.1 with the HTTP layer, Painless and the common analyzers; an index goes green.
2. Debian's python3-elasticsearch (7.17) refuses it in its product check, and works once that check
   is marked done; documents indexed with it (index, helpers.bulk) are read back by the fixture's
   helpers (count, ids, get) and found by a query_string search.
3. The fault proxy in front of the node: forwards (chunked request bodies too, keep-alive); down ->
   connect() refused, then back; status 429 with Retry-After for a time and 503 for a count, not
   forwarded; 413 with an empty body above max_bytes, as the real node above http.max_content_length;
   a truncated response (the write still happened); a delay longer than the client's timeout; the
   request log records method, path and body size.
4. A node with a one-thread, one-slot write pool gives real per-item 429s (rejected_execution_exception
   inside an HTTP 200) in one bulk of 400 documents over 4 shards; resending only the rejected items
   through the proxy gets every document in exactly once.
"""
import http.client
import json
import os
import socket
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from fault_proxy import FaultProxy  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import check, run  # noqa: E402

N_BULK_429 = 400


def http_call(port, method, path, body=None, headers=None, timeout=10, conn=None):
    """(status, headers dict, body bytes) of one request to 127.0.0.1:@port."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def ndjson(lines):
    return "".join(json.dumps(x) + "\n" for x in lines).encode()


def check_node(node):
    info = node.info()
    check(info["version"]["number"] == "2.19.6", "version %s" % info["version"])
    status, plugins = node.request("GET", "/_cat/plugins", params={"format": "json"})
    names = sorted(p["component"].rsplit(".", 1)[-1] for p in plugins)
    check(names == ["CommonAnalysisPlugin", "IngestCommonPlugin", "Netty4Plugin", "PainlessPlugin"], "plugins %s" % names)
    # analysis-common is there: asciifolding is one of its filters.
    _, tokens = node.request("POST", "/_analyze", {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"],
                                                    "text": "Café MacBook"})
    check([t["token"] for t in tokens["tokens"]] == ["cafe", "macbook"], "asciifolding: %s" % tokens)
    node.create_index("listing_index", mappings={"properties": {
        "id": {"type": "keyword"}, "title": {"type": "text"}, "description": {"type": "text"},
        "visits": {"type": "long"}}}, shards=2)
    check(node.health("listing_index")["status"] == "green", "listing_index not green")
    print("node: %s, plugins %s, green index with 2 shards, RSS %d MB"
          % (info["version"]["number"], names, node.rss_kb() // 1024), flush=True)


def check_python_client(node):
    import elasticsearch
    from elasticsearch import Elasticsearch, helpers
    check(elasticsearch.__version__[0] == 7, "python3-elasticsearch %s, expected 7.x" % (elasticsearch.__version__,))
    # The 7.17 client's product check reads 2.19.6 as an Elasticsearch older than 6.0 and refuses it
    # (compatibility.override_main_response_version, which reports 7.10.2, does not help: for 7.0-7.13 the
    # client wants Elasticsearch's tagline).
    try:
        Elasticsearch([node.url]).info()
        refused = None
    except elasticsearch.exceptions.UnsupportedProductError as e:
        refused = str(e)
    check(refused is not None, "python3-elasticsearch %s no longer refuses OpenSearch: update the docs"
          % (elasticsearch.__version__,))
    es = Elasticsearch([node.url], timeout=30)
    es.transport._verified_elasticsearch = True  # the product check, done: what works with OpenSearch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(es.info()["version"]["number"] == "2.19.6", "info through the client")
        es.index(index="listing_index", id="mba", document={
            "id": "mba", "title": "MacBook Air 13", "description": "light laptop", "visits": 0})
        for i in range(4):
            es.index(index="listing_index", id="l%d" % i, document={"id": "l%d" % i, "title": "listing %d" % i,
                                                                    "visits": i})
        ok, errors = helpers.bulk(es, ({"_index": "listing_index", "_id": "b%d" % i,
                                        "_source": {"id": "b%d" % i, "title": "bulk %d" % i, "visits": i}}
                                       for i in range(200)))
        check(ok == 200 and not errors, "helpers.bulk: %d ok, %s" % (ok, errors))
        # Painless is there: a scripted update with params.
        es.update(index="listing_index", id="mba", body={"script": {
            "source": "ctx._source.visits += params.n", "lang": "painless", "params": {"n": 3}}})
        es.indices.refresh(index="listing_index")
        hits = es.search(index="listing_index", body={"query": {"query_string": {"query": "macbook air"}}})
    check([h["_id"] for h in hits["hits"]["hits"]] == ["mba"], "query_string 'macbook air': %s" % hits["hits"])
    check(node.count("listing_index") == 205, "count %d, expected 205" % node.count("listing_index"))
    expected = {"mba"} | {"l%d" % i for i in range(4)} | {"b%d" % i for i in range(200)}
    ids = node.ids("listing_index")
    check(len(ids) == 205 and set(ids) == expected, "ids: %d, missing %s" % (len(ids), sorted(expected - set(ids))[:5]))
    check(node.get("listing_index", "mba")["visits"] == 3, "painless update: %s" % node.get("listing_index", "mba"))
    check(node.get("listing_index", "nope") is None, "get of a missing id")
    print("python3-elasticsearch %s: refused by its product check (%s); with it marked done: 205 documents "
          "indexed, read back, found" % (".".join(map(str, elasticsearch.__version__)), refused), flush=True)


def check_proxy(node):
    with FaultProxy(node.url, keep_bodies=True) as proxy:
        port = proxy.port
        # Forwarding: keep-alive (one connection, several requests), a chunked request body.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        st, _, body = http_call(port, "GET", "/", conn=conn)
        check(st == 200 and json.loads(body)["version"]["number"] == "2.19.6", "GET / through the proxy: %d" % st)
        bulk = ndjson(x for i in range(50) for x in ({"index": {"_index": "proxied", "_id": str(i)}}, {"n": i}))
        conn.request("POST", "/_bulk", body=iter([bulk[:1000], bulk[1000:]]), encode_chunked=True,
                     headers={"Content-Type": "application/x-ndjson", "Transfer-Encoding": "chunked"})
        r = conn.getresponse()
        answer = json.loads(r.read())
        check(r.status == 200 and not answer["errors"] and len(answer["items"]) == 50, "chunked bulk: %d" % r.status)
        check(node.count("proxied") == 50, "50 documents through the proxy")
        logged = proxy.requests("/_bulk")
        check(len(logged) == 1 and logged[0].method == "POST" and logged[0].body_size == len(bulk)
              and logged[0].status == 200, "request log: %s" % (logged,))

        # down: connect() refused, then back by itself.
        t0 = time.monotonic()
        proxy.down(2)
        try:
            socket.create_connection(("127.0.0.1", port), 2).close()
            check(False, "connect() succeeded while the proxy was down")
        except ConnectionRefusedError:
            pass
        try:
            http_call(port, "GET", "/", conn=conn)  # the open keep-alive connection was reset
            check(False, "a request on an old connection was answered while down")
        except (OSError, http.client.HTTPException):
            pass
        proxy.wait_clear(10)
        back = time.monotonic() - t0
        check(back >= 1.9, "up again after %.2f s, expected 2" % back)
        st, _, _ = http_call(port, "GET", "/")
        check(st == 200, "GET / after down: %d" % st)
        print("proxy down: connect() refused, old connection reset, back after %.1f s" % back, flush=True)

        # status 429 for a time, with Retry-After; not forwarded.
        before = node.count("proxied")
        t0 = time.monotonic()
        proxy.status(429, seconds=1.5, retry_after=1)
        st, hdrs, body = http_call(port, "POST", "/_bulk", ndjson([{"index": {"_index": "proxied", "_id": "x"}},
                                                                   {"n": -1}]), {"Content-Type": "application/x-ndjson"})
        err = json.loads(body)
        check(st == 429 and err["status"] == 429 and err["error"]["type"] == "rejected_execution_exception"
              and hdrs.get("retry-after") == "1", "429 answer: %d %s %s" % (st, hdrs, body))
        seen = [st]
        while seen[-1] == 429:  # until it ends by itself
            time.sleep(0.05)
            seen.append(http_call(port, "GET", "/")[0])
            check(time.monotonic() - t0 < 10, "status(429, 1.5 s) still on after 10 s")
        lasted = time.monotonic() - t0
        check(seen[-1] == 200 and lasted >= 1.4, "status(429) ended after %.2f s with %d" % (lasted, seen[-1]))
        check(node.count("proxied") == before and node.get("proxied", "x") is None, "a 429'd bulk reached the node")
        # status 503 for a count.
        proxy.status(503, count=3)
        codes = [http_call(port, "GET", "/_cluster/health")[0] for _ in range(4)]
        check(codes == [503, 503, 503, 200], "status(503, count=3): %s" % codes)
        print("proxy status: %d x 429 with Retry-After in 1.5 s (not forwarded), 3 x 503 by count" % seen.count(429),
              flush=True)

        # 413 above max_bytes, as the real node above http.max_content_length (1mb here).
        proxy.max_bytes(1000)
        small = ndjson([{"index": {"_index": "proxied", "_id": "small"}}, {"pad": "s" * 100}])
        big = ndjson([{"index": {"_index": "proxied", "_id": "big"}}, {"pad": "b" * 1000}])
        st_big, hdrs_big, body_big = http_call(port, "POST", "/_bulk", big, {"Content-Type": "application/x-ndjson"})
        st_small, _, _ = http_call(port, "POST", "/_bulk", small, {"Content-Type": "application/x-ndjson"})
        proxy.max_bytes(None)
        check(st_big == 413 and body_big == b"" and hdrs_big.get("content-length") == "0"
              and "connection" not in hdrs_big, "413 from the proxy: %d %s %r" % (st_big, hdrs_big, body_big))
        check(st_small == 200, "a body under max_bytes: %d" % st_small)
        real = ndjson([{"index": {"_index": "proxied", "_id": "huge"}}, {"pad": "h" * (1 << 20)}])
        st_real, hdrs_real, body_real = http_call(int(node.url.rsplit(":", 1)[1]), "POST", "/_bulk", real,
                                                  {"Content-Type": "application/x-ndjson"})
        check(st_real == 413 and body_real == b"" and hdrs_real == {"content-length": "0"},
              "the real node's 413: %d %s %r" % (st_real, hdrs_real, body_real))
        check(node.get("proxied", "big") is None and node.get("proxied", "small") is not None, "413 forwarded?")
        print("proxy 413: empty body above max_bytes, connection kept, as the real node's 413", flush=True)

        # truncate: the write happens, the answer is cut.
        proxy.truncate(1)
        cut = ndjson(x for i in range(20) for x in ({"index": {"_index": "proxied", "_id": "t%d" % i}}, {"n": i}))
        try:
            st, _, body = http_call(port, "POST", "/_bulk", cut, {"Content-Type": "application/x-ndjson"})
            check(False, "a truncated answer read whole: %d %r" % (st, body[:100]))
        except http.client.IncompleteRead as e:
            check(0 < len(e.partial) < len(e.partial) + e.expected, "partial %d bytes" % len(e.partial))
        proxy.wait_clear(5)
        check(all(node.get("proxied", "t%d" % i) is not None for i in range(20)), "the truncated bulk's documents")
        st, _, _ = http_call(port, "GET", "/")
        check(st == 200, "after truncate: %d" % st)
        print("proxy truncate: body cut in half, connection closed, the bulk was applied", flush=True)

        # delay longer than the client's timeout: the client gives up, the write happens.
        proxy.delay(2, 1)
        t0 = time.monotonic()
        try:
            http_call(port, "POST", "/_bulk", ndjson([{"index": {"_index": "proxied", "_id": "slow"}}, {"n": 1}]),
                      {"Content-Type": "application/x-ndjson"}, timeout=0.5)
            check(False, "a delayed answer came before the client's timeout")
        except socket.timeout:
            pass
        check(time.monotonic() - t0 < 1.5, "the client's timeout")
        proxy.wait_clear(10)
        check(node.get("proxied", "slow") is not None, "the delayed bulk's document")
        t0 = time.monotonic()
        st, _, _ = http_call(port, "GET", "/", timeout=0.5)
        check(st == 200 and time.monotonic() - t0 < 0.5, "after delay: %d" % st)
        faults = [r.fault for r in proxy.requests()]
        for kind in ("status", "413", "truncate", "delay"):
            check(kind in faults, "no %s in the request log: %s" % (kind, faults))
        print("proxy delay: client timed out at 0.5 s, the answer was held 2 s, the bulk was applied; "
              "%d requests logged" % proxy.count, flush=True)


def check_per_item_429s():
    with OpenSearchNode(write_threads=1, write_queue=1) as node:
        node.create_index("busy", shards=4)
        with FaultProxy(node.url, keep_bodies=True) as proxy:
            pending = ["d%d" % i for i in range(N_BULK_429)]
            rounds = []
            rejected_by_round = []
            first_error = None
            while pending and len(rounds) < 50:
                body = ndjson(x for doc_id in pending for x in ({"index": {"_index": "busy", "_id": doc_id}},
                                                                {"id": doc_id, "text": "document %s" % doc_id}))
                st, _, raw = http_call(proxy.port, "POST", "/_bulk", body, {"Content-Type": "application/x-ndjson"},
                                       timeout=60)
                check(st == 200, "bulk answered %d: %r" % (st, raw[:300]))
                items = [it["index"] for it in json.loads(raw)["items"]]
                check([it["_id"] for it in items] == pending, "items do not match the request")
                rejected = [it["_id"] for it in items if it["status"] == 429]
                others = {it["status"] for it in items if it["status"] != 429}
                check(others <= {200, 201}, "statuses other than 429/201: %s" % others)
                if rejected and first_error is None:
                    first_error = next(it["error"] for it in items if it["status"] == 429)
                rounds.append(len(rejected))
                rejected_by_round.append(rejected)
                pending = rejected
        check(rounds[0] > 0, "no per-item 429 in a bulk of %d over 4 shards with a 1/1 write pool" % N_BULK_429)
        check(first_error["type"] == "rejected_execution_exception", "429 item error: %s" % first_error)
        check(not pending, "still rejected after %d rounds: %s" % (len(rounds), rounds))
        # Only the rejected items were resent: each bulk after the first carried exactly the ids rejected before.
        bulks = proxy.requests("/_bulk")
        check(len(bulks) == len(rounds), "%d bulks logged, %d rounds" % (len(bulks), len(rounds)))
        for n, (bulk, rejected) in enumerate(zip(bulks[1:], rejected_by_round)):
            sent = [json.loads(line)["index"]["_id"] for line in bulk.body.decode().splitlines()[::2]]
            check(sent == rejected, "bulk %d resent %d items, %d were rejected" % (n + 1, len(sent), len(rejected)))
        ids = node.ids("busy")
        check(len(ids) == N_BULK_429 and len(set(ids)) == N_BULK_429 and node.count("busy") == N_BULK_429,
              "%d ids (%d distinct), expected %d" % (len(ids), len(set(ids)), N_BULK_429))
        print("per-item 429s: %s rejected per round of a %d-document bulk over 4 shards (%s: %s); every document "
              "in once after resending only those" % (rounds, N_BULK_429, first_error["type"],
                                                       first_error["reason"][:90]), flush=True)


def main(env):
    with OpenSearchNode(settings={"http.max_content_length": "1mb"}) as node:
        check_node(node)
        check_python_client(node)
        check_proxy(node)
        print("node RSS after the checks: %d MB" % (node.rss_kb() // 1024), flush=True)
    check_per_item_429s()


if __name__ == "__main__":
    run(main)
