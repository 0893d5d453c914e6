#!/usr/bin/python3
"""The elasticsearch sink against a real OpenSearch 2.19 node (tests/fixtures/opensearch): what a
user checks in the index after a run. Finite runs read ndjson from stdin.

- index: every document lands with its id; a mapping conflict (400) goes to the dead-letter file
  with the server's error type and reason while the rest is indexed; the exit status says so.
- create of ids that exist (409) counts as delivered and leaves the documents alone.
- update, upsert (keeps fields it does not carry), delete, script (values as params), increment
  with its idempotency guard (a replayed increment is not applied twice).
- create_index creates the index with its mappings at start, and leaves an existing one alone.
- the server's name and version are logged; documents read back with Debian's python3-elasticsearch.
- a server unreachable at start: the pipeline waits (/health says why) and writes once it answers;
  SIGTERM while nothing answers stops within the shutdown timeout and dead-letters nothing.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from fault_proxy import FaultProxy  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import Sluice, check, free_port, run, wait_until  # noqa: E402


def finite(env, name, sink, docs, hosts, admin=False, shutdown_timeout="30s"):
    """A Sluice running pipeline @name: stdin ndjson (@docs) → the sink given @sink options."""
    options = {"type": "elasticsearch", "hosts": hosts, "refresh": "wait_for"}
    options.update(sink)
    pipeline = env.write(name + ".yaml", json.dumps(
        {"pipelines": {name: {"shutdown_timeout": shutdown_timeout,
                              "source": {"type": "stdin", "format": "ndjson"}, "sinks": [options]}}}))
    data = env.write(name + ".ndjson", "".join(json.dumps(d) + "\n" for d in docs))
    return Sluice(env, [pipeline], name=name, stdin_path=data, admin=admin)


def run_finite(env, node, name, sink, docs, expect_exit=0):
    """Runs pipeline @name to its end; returns the Sluice."""
    s = finite(env, name, sink, docs, node.url)
    with s:
        code = s.wait_exit(120)
    check(code == expect_exit, "%s exited %s, expected %s:\n%s" % (name, code, expect_exit, s.log_tail()))
    return s


def health(s):
    try:
        with urllib.request.urlopen("http://%s/health" % s.admin, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


def unreachable_at_start(env, node):
    with FaultProxy(node.url) as proxy:
        proxy.down(600)
        s = finite(env, "late", {"index": "late", "id": "{id}"}, [{"id": i} for i in range(50)], proxy.url, admin=True)
        with s:
            wait_until(lambda: s.check_alive() or health(s)[0] == 503, 30, "/health to say the sink is not connected")
            code, text = health(s)
            check("not connected to Elasticsearch" in text, "/health says why: %s" % text)
            proxy.clear()  # the server answers from now on
            code = s.wait_exit(60)
        check(code == 0, "once the server answers, everything is written: exit %s\n%s" % (code, s.log_tail()))
        check(node.count("late") == 50, "50 documents indexed, found %d" % node.count("late"))
    # Nothing ever answers: SIGTERM still stops it, in time, and nothing is dead-lettered.
    s = finite(env, "never", {"index": "never", "id": "{id}"}, [{"id": i} for i in range(10)],
               "http://127.0.0.1:%d" % free_port(), admin=True, shutdown_timeout="5s")
    with s:
        wait_until(lambda: s.check_alive() or health(s)[0] == 503, 30, "/health to be unhealthy")
        t0 = time.monotonic()
        s.stop(timeout=40)
        took = time.monotonic() - t0
    check(took < 15, "SIGTERM took %.1f s with the server unreachable (the pipeline's shutdown_timeout is 5 s)"
          % took)
    check(s.dead_letters("never") == [], "an unreachable server dead-letters nothing")
    check("10 event(s) failed (acknowledged as failed)" in s.log_text(),
          "the log says the events were not delivered (not acknowledged: a Kafka source redelivers them)")


def index_and_mapping_conflict(env, node):
    node.create_index("listings", mappings={"properties": {"id": {"type": "keyword"}, "title": {"type": "text"},
                                                           "price": {"type": "integer"}}})
    docs = [{"id": "l-%d" % i, "title": "listing %d" % i, "price": i} for i in range(200)]
    docs[17]["price"] = "cheap"  # refused by the mapping: the rest must still be indexed
    s = run_finite(env, node, "conflict", {"index": "listings", "id": "{id}"}, docs, expect_exit=1)
    check(node.count("listings") == 199, "199 documents indexed, found %d" % node.count("listings"))
    check(sorted(node.ids("listings")) == sorted(d["id"] for i, d in enumerate(docs) if i != 17),
          "the ids in the index are the documents' ids, but the refused one")
    check(node.get("listings", "l-5") == docs[5], "a document is stored as it was sent")
    dead = s.dead_letters("conflict")
    check(len(dead) == 1, "one dead letter, found %d: %s" % (len(dead), dead))
    check(dead[0]["payload"] == docs[17], "the dead letter carries the original event: %s" % dead[0])
    check("400 mapper_parsing_exception" in dead[0]["reason"] and "price" in dead[0]["reason"],
          "the dead letter says why, with the server's error type and reason: %s" % dead[0]["reason"])
    log = s.log_text()
    info = node.info()
    check("connected to opensearch %s" % info["version"]["number"] in log,
          "the server's distribution and version are logged:\n%s" % s.log_tail())


def create_conflicts_are_delivered(env, node):
    node.create_index("created")
    node.bulk([{"index": {"_index": "created", "_id": "1"}}, {"id": 1, "title": "first"}], params={"refresh": "true"})
    docs = [{"id": i, "title": "second %d" % i} for i in range(1, 11)]
    s = run_finite(env, node, "create", {"index": "created", "id": "{id}", "action": "create"}, docs)
    check(s.dead_letters("create") == [], "a 409 on create is not a dead letter")
    check(node.count("created") == 10, "10 documents, found %d" % node.count("created"))
    check(node.get("created", "1")["title"] == "first", "create left the existing document alone")


def actions(env, node):
    node.create_index("acts")
    run_finite(env, node, "seed", {"index": "acts", "id": "{id}"},
               [{"id": "a", "title": "A", "visits": 5}, {"id": "b", "title": "B"}, {"id": "gone", "title": "x"}])
    # upsert: merges into a, inserts c; a keeps the visits it does not carry.
    run_finite(env, node, "upsert", {"index": "acts", "id": "{id}", "action": "upsert"},
               [{"id": "a", "title": "A2"}, {"id": "c", "title": "C"}])
    check(node.get("acts", "a") == {"id": "a", "title": "A2", "visits": 5}, "upsert merged into a")
    check(node.get("acts", "c") == {"id": "c", "title": "C"}, "upsert inserted c")
    # update of a missing document: dead-lettered with document_missing_exception, b updated.
    s = run_finite(env, node, "update", {"index": "acts", "id": "{id}", "action": "update", "exclude": ["secret"]},
                   [{"id": "b", "price": 3, "secret": "s"}, {"id": "nope", "price": 1}], expect_exit=1)
    check(node.get("acts", "b") == {"id": "b", "title": "B", "price": 3}, "update changed b, without "
          "the excluded field: %s" % node.get("acts", "b"))
    dead = s.dead_letters("update")
    check(len(dead) == 1 and "document_missing_exception" in dead[0]["reason"], "update of a missing document is "
          "dead-lettered with the reason: %s" % dead)
    # delete: gone is removed; deleting what is not there is done, not an error.
    s = run_finite(env, node, "delete", {"index": "acts", "id": "{id}", "action": "delete"},
                   [{"id": "gone"}, {"id": "never-was"}])
    check(node.get("acts", "gone") is None, "delete removed the document")
    check(s.dead_letters("delete") == [], "deleting a missing document is not an error")
    # script: one inline source, values as params.
    run_finite(env, node, "script", {"index": "acts", "id": "{id}", "action": "script",
                                     "script": {"source": "ctx._source.tags = params.t", "params": {"t": "tags"}},
                                     "scripted_upsert": True},
               [{"id": "a", "tags": ["x", "y"]}, {"id": "d", "tags": ["'; ctx.op='delete"]}])
    check(node.get("acts", "a")["tags"] == ["x", "y"], "the script set a's tags")
    check(node.get("acts", "d") == {"tags": ["'; ctx.op='delete"]},
          "a scripted upsert created d, the value passed as data, not code")
    # increment with a guard: the second run replays the first's increments (a redelivery) and adds one more.
    inc = {"index": "acts", "id": "{item}", "action": "increment",
           "increment": {"field": "visits", "by": "n", "guard_key": "{stream}", "guard_sequence": "seq"}}
    first = [{"item": "a", "n": 2, "stream": "p0", "seq": 10}, {"item": "e", "n": 1, "stream": "p0", "seq": 11}]
    run_finite(env, node, "inc1", inc, first)
    run_finite(env, node, "inc2", inc, first + [{"item": "a", "n": 4, "stream": "p0", "seq": 12}])
    check(node.get("acts", "a")["visits"] == 5 + 2 + 4,
          "a's visits: 5 + 2 + 4, the replayed increment not applied twice: %s" % node.get("acts", "a"))
    check(node.get("acts", "e")["visits"] == 1, "e was created by its first increment")
    # ... and without a guard each increment counts.
    run_finite(env, node, "inc3", {"index": "acts", "id": "{item}", "action": "increment",
                                   "increment": {"field": "visits"}}, [{"item": "e"}, {"item": "e"}])
    check(node.get("acts", "e")["visits"] == 3, "two unguarded increments of 1")


def create_index(env, node):
    mappings = {"properties": {"id": {"type": "keyword"}, "title": {"type": "text"}, "visits": {"type": "long"}}}
    s = run_finite(env, node, "mk", {"index": "made", "id": "{id}",
                                     "create_index": {"settings": {"number_of_shards": 2, "number_of_replicas": 0},
                                                      "mappings": mappings}},
                   [{"id": "1", "title": "t", "visits": 1}])
    got = node.request("GET", "/made/_mapping")[1]["made"]["mappings"]
    check(got == mappings, "the index has the declared mappings: %s" % got)
    check("created index made" in s.log_text(), "its creation is logged")
    s = run_finite(env, node, "mk2", {"index": "made", "id": "{id}",
                                      "create_index": {"mappings": {"properties": {"id": {"type": "long"}}}}},
                   [{"id": "2", "title": "u", "visits": 2}])
    check("index made exists: left as it is" in s.log_text(), "an existing index is left alone (logged)")
    check(node.request("GET", "/made/_mapping")[1]["made"]["mappings"] == mappings, "its mappings did not change")


def interop(env, node):
    from elasticsearch import Elasticsearch
    es = Elasticsearch([node.url])
    # Debian's client (7.17) refuses any server that is not Elasticsearch (its product check); marking the
    # check as done is the known way to use it with OpenSearch (tests/fixtures/README.md).
    es.transport._verified_elasticsearch = True
    got = es.get(index="listings", id="l-5")
    check(got["_source"]["title"] == "listing 5", "python3-elasticsearch reads what sluice wrote: %s" % got)
    hits = es.search(index="listings", query={"query_string": {"query": "listing 42"}})["hits"]["hits"]
    check(hits and hits[0]["_id"] == "l-42", "a query_string search finds it first: %s" % hits[:2])


def main(env):
    with OpenSearchNode() as node:
        index_and_mapping_conflict(env, node)
        create_conflicts_are_delivered(env, node)
        actions(env, node)
        create_index(env, node)
        interop(env, node)
        unreachable_at_start(env, node)


if __name__ == "__main__":
    run(main)
