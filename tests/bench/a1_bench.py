"""A1: the aggregate transform (run it through bench.py: `bench.py a1`; see README.md).

N generated page views (default 10M) over K items (default 50k), `generate -> aggregate (count by
item_id, 1 s windows) -> null`, sluice pinned to one core; beside it the same count in Python
(peers/a1_python.py: json.loads and collections.Counter, also pinned). Then peak RSS with K distinct keys
and with 5M distinct keys, the latter bounded by max_groups.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import HERE, print_ratio, run_measured, sluice_bin  # noqa: E402

PIPE = os.path.join(HERE, "pipelines", "a1-generate-aggregate-null.yaml")


def pinned(argv):
    return ["taskset", "-c", "0"] + argv if shutil.which("taskset") else argv


def bench_a1(args):
    """A1: generate -> aggregate (count by item_id, 1 s windows) -> null; Python json.loads + Counter"""
    n, items = args.a_events, args.a_items
    env = {"BENCH_EVENTS": str(n), "BENCH_ITEMS": str(items), "SLUICE_ADMIN_LISTEN": "off"}
    res = [run_measured(f"sluice aggregate, {items:,} items, pinned", pinned([sluice_bin(args.build), "run", PIPE]),
                        env, n)]
    res.append(run_measured(f"python3 json.loads + Counter, {items:,} items, pinned",
                            pinned([sys.executable, os.path.join(HERE, "peers", "a1_python.py"), str(n), str(items)]),
                            None, n))
    many = 5_000_000
    bounded = dict(env, BENCH_ITEMS=str(many), BENCH_MAX_GROUPS="100000")
    res.append(run_measured(f"sluice aggregate, {many:,} items, max_groups 100000, pinned",
                            pinned([sluice_bin(args.build), "run", PIPE]), bounded, n))
    return res


def report_a1(res):
    print_ratio("sluice/python3", res[0], res[1])
