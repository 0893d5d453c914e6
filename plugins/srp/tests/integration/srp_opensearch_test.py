#!/usr/bin/python3
"""The search page over a real OpenSearch 2.19 node (`hosts: http://...`, the EsSearchIndex of
libsluice-search): the elasticsearch sink writes the listings into the node (`refresh: wait_for`,
so they are searchable once acknowledged), the srp source searches them; the same checks as over
the embedded index (srp_checks.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from opensearch_node import OpenSearchNode  # noqa: E402
from srp_checks import check_search_page  # noqa: E402
from sluice_test import run  # noqa: E402


def main(env):
    with OpenSearchNode() as node:
        node.create_index("listing_index", shards=1, mappings={"properties": {
            "id": {"type": "keyword"}, "title": {"type": "text"}, "description": {"type": "text"},
            "visits": {"type": "long"}}})
        check_search_page(env, node.url, ", refresh: wait_for")


if __name__ == "__main__":
    run(main)
