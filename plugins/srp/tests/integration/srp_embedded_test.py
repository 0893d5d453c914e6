#!/usr/bin/python3
"""The search page over the embedded index (`hosts: embedded`) in a real daemon on real sockets:
the elasticsearch sink of the same daemon writes the listings, the srp source searches them (every
check is in srp_checks.py)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from srp_checks import check_search_page  # noqa: E402
from sluice_test import run  # noqa: E402


def main(env):
    check_search_page(env, "embedded")


if __name__ == "__main__":
    run(main)
