#!/usr/bin/python3
"""EsSearchIndex (the SDK's SearchIndex over a cluster, libsluice-search) against a real OpenSearch
2.19 node, through sluice_search_tool: what the search page and a writer see.

- an index that does not exist yet: count 0, no hits, no document (the search page before the
  first listing).
- writes answer as the embedded index does: update of a missing id → missing, remove → noop,
  index created/updated, create of an existing id → exists
  (the document left alone), update → updated / noop / missing, upsert keeps fields it does not
  carry, a guarded increment replayed is not applied twice, remove → deleted, then noop.
- search: the seed's "macbook air" finds the MacBook first, with the request's tags around the
  words and the rest HTML-escaped; user syntax is never an error; hot ranks by visits; newest is the
  order of writes; pages; a page past 10,000 is empty, not an error.
- a document the mapping refuses: an error with the server's reason; a node that is down: an
  error saying no host answers.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from opensearch_node import OpenSearchNode  # noqa: E402
from search_tool import LISTING_MAPPINGS, LISTING_SETTINGS, SearchTool  # noqa: E402
from sluice_test import check, run  # noqa: E402


def result(idx, op, **args):
    args["op"] = op
    return idx.call(args).get("result")


def main(env):
    with OpenSearchNode() as node:
        with SearchTool(env, "listings", hosts=node.url) as idx:
            # Nothing there yet (the sink has not created the index).
            check(idx.call({"op": "count"}) == {"count": 0}, "a missing index counts 0")
            check(idx.search("bike") == {"total": 0, "hits": []}, "a missing index has no hits")
            check(idx.call({"op": "get", "id": "1"}) == {"doc": None}, "no document in a missing index")

            node.create_index("listings", mappings=LISTING_MAPPINGS, settings=LISTING_SETTINGS)
            check(result(idx, "update", id="1", doc={"a": 1}) == "missing", "update of a missing document")
            check(result(idx, "remove", id="1") == "noop", "remove of a missing document")
            air = {"id": 42, "title": "Used MacbookAir 13\"", "description": "This is a used Macbook Air in great condition"}
            check(result(idx, "index", id=42, doc=air) == "created", "index: created")
            check(result(idx, "index", id=42, doc=air) == "updated", "index again: updated")
            check(result(idx, "create", id=42, doc={"title": "other"}) == "exists", "create of an existing id: exists")
            check(idx.call({"op": "get", "id": 42})["doc"] == air, "create left the document alone")
            check(result(idx, "update", id=42, doc={"price": 500}) == "updated", "update: updated")
            check(result(idx, "update", id=42, doc={"price": 500}) == "noop", "the same update: noop")
            check(result(idx, "update", id=7, doc={"price": 1}) == "missing", "update of a missing id: missing")
            check(result(idx, "upsert", id=43, doc={"title": "MacBook Air M2 <15\">", "visits": 40}) == "created",
                  "upsert of a new id: created")
            check(result(idx, "upsert", id=43, doc={"description": "Space Gray & Midnight, 8GB"}) == "updated",
                  "upsert: updated")
            check(idx.call({"op": "get", "id": 43})["doc"].get("visits") == 40, "upsert kept the visits")
            guard = {"field": "sluice_applied", "key": "views-0", "sequence": 5}
            check(result(idx, "increment", id=42, field="visits", by=2, guard=guard) == "updated", "increment")
            check(result(idx, "increment", id=42, field="visits", by=2, guard=guard) == "noop",
                  "a replayed increment is not applied twice")
            guard["sequence"] = 6
            check(result(idx, "increment", id=42, field="visits", by=3, guard=guard) == "updated", "the next one is")
            check(result(idx, "increment", id=44, field="visits", by=1) == "created", "increment of a new id")
            check(idx.call({"op": "get", "id": 42})["doc"]["visits"] == 5, "visits 0 + 2 + 3")
            check(result(idx, "index", id=45, doc={"title": "Road bike", "description": "a bike"}) == "created", "bike")
            check(result(idx, "remove", id=44) == "deleted", "remove: deleted")
            check(result(idx, "remove", id=44) == "noop", "remove again: noop")
            check(result(idx, "commit") == "ok", "commit (a refresh)")
            check(idx.call({"op": "count"}) == {"count": 3}, "3 documents")

            page = idx.search("macbook air", pre="<mark>", post="</mark>")
            check(page["total"] == 2 and page["hits"][0]["id"] == "43", "MacBook Air M2 first (title): %s" % page)
            check(page["hits"][0]["title"] == "<mark>MacBook</mark> <mark>Air</mark> M2 &lt;15&quot;&gt;",
                  "the title highlighted, HTML-escaped: %r" % page["hits"][0]["title"])
            check(page["hits"][0]["snippet"] == "Space Gray &amp; Midnight, 8GB",
                  "a description without a match, escaped: %r" % page["hits"][0]["snippet"])
            check("<mark>Macbook</mark> <mark>Air</mark>" in page["hits"][1]["snippet"], "the seed's listing: %s" % page)
            for text in ['"unbalanced (', "-", "a OR b AND", "title:macbook", "*", "\\", "日本 ☃"]:
                check("hits" in idx.search(text), "user text %r is no error" % text)
            hot = idx.search("macbook", sort="hot", missing=0.1)["hits"]
            check([h["id"] for h in hot] == ["43", "42"], "hot: 40 visits before 5: %s" % hot)
            newest = idx.search("", sort="newest")["hits"]
            check([h["id"] for h in newest] == ["45", "42", "43"], "newest: the last written first: %s" % newest)
            check([h["id"] for h in idx.search("", size=2, **{"from": 1})["hits"]] ==
                  [h["id"] for h in idx.search("", size=3)["hits"]][1:], "pages")
            check(idx.search("bike", size=50, **{"from": 20000})["hits"] == [], "past the result window: empty")

            refused = idx.call({"op": "index", "id": 46, "doc": {"visits": "lots"}}, allow_error=True)
            check("mapper_parsing_exception" in refused.get("error", "") and "HTTP 400" in refused["error"],
                  "a refused document: the server's reason: %s" % refused)
            node.stop()
            down = idx.call({"op": "search", "text": "bike"}, allow_error=True)
            check("no host answers" in down.get("error", ""), "a node that is down: %s" % down)


if __name__ == "__main__":
    run(main)
