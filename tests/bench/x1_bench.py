"""X1 (issue 12): the embedded search index against a real OpenSearch 2.19.6 node, side by side.

N listings (default 100k, scripts/make_sample_listings.py's generator) go from stdin through the
elasticsearch sink (action upsert, as pipelines/listings.yaml) into `hosts: embedded` and into
the node (an index with listings.yaml's create_index); per side: docs/s, CPU seconds (sluice,
and the node's own), peak RSS, the index's size on disk. Then Q queries (default 10k, one to
three words of listing vocabulary, half `relevant`, half `hot`) one after another through the
SDK's SearchIndex (plugins/elasticsearch/tests/search_tool.cpp: EmbeddedIndex or EsSearchIndex):
queries/s, p50 and p99 of one search call, CPU. Run through bench.py: `bench.py x1`.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, _test_lib, proc_cpu, run_measured, sluice_bin, vm_hwm_kb  # noqa: E402

WORDS = ["macbook", "air", "pro", "laptop", "dell", "xps", "thinkpad", "iphone", "13", "256gb", "unlocked",
         "samsung", "galaxy", "pixel", "bike", "road", "mountain", "electric", "velo", "trek", "sofa", "canape",
         "ikea", "kallax", "desk", "chair", "bed", "futon", "table", "oak", "calculus", "chemistry", "biology",
         "textbook", "edition", "keurig", "fridge", "microwave", "vacuum", "headphones", "ipad", "switch",
         "ps5", "watch", "kindle", "monitor", "speaker", "charger", "battery", "new", "used", "great",
         "condition", "white", "black", "16gb", "ssd", "campus", "venmo", "zurich"]


def queries(n, seed=7):
    rng = random.Random(seed)
    return [{"op": "search", "text": " ".join(rng.sample(WORDS, rng.randint(1, 3))),
             "sort": "hot" if i % 2 else "relevance", "missing": 0.1, "size": 10} for i in range(n)]


def du_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def index_run(args, tmp, name, hosts, corpus, n, node=None):
    with open(os.path.join(ROOT, "pipelines", "listings.yaml")) as f:
        import yaml
        create_index = yaml.safe_load(f)["pipelines"]["listings"]["sinks"][0]["create_index"]
    sink = {"type": "elasticsearch", "hosts": hosts, "index": "listing_index", "id": "{id}", "action": "upsert"}
    if node:
        sink["create_index"] = create_index
    pipeline = os.path.join(tmp, name + ".yaml")
    with open(pipeline, "w") as f:
        json.dump({"pipelines": {"x1": {"source": {"type": "stdin", "format": "ndjson"}, "sinks": [sink]}}}, f)
    data_dir = os.path.join(tmp, name + "-data")
    conf = os.path.join(tmp, name + ".conf.yaml")
    with open(conf, "w") as f:
        f.write("plugin_dirs: [%s]\nadmin: {listen: off}\ndata_dir: %s\n"
                % (json.dumps(os.path.join(args.build, "plugins")), json.dumps(data_dir)))
    node_cpu0 = proc_cpu(node.pid) if node else 0
    with open(corpus, "rb") as stdin:
        r = run_measured("x1 index %s" % name, [sluice_bin(args.build), "run", "--config", conf, pipeline],
                         events=n, stdin=stdin)
    if node:
        node.refresh("listing_index")
        node.request("POST", "/listing_index/_flush")
        count = node.count("listing_index")
        store = node.request("GET", "/listing_index/_stats/store")[1]
        r.extra["disk"] = "%.1fMiB" % (store["_all"]["primaries"]["store"]["size_in_bytes"] / 2**20)
        r.extra["node_cpu"] = "%.1fs" % (proc_cpu(node.pid) - node_cpu0)
        r.extra["node_peak_rss"] = "%.0fMiB" % (vm_hwm_kb(node.pid) / 1024)
    else:
        out = subprocess.run([os.path.join(args.build, "plugins", "elasticsearch", "sluice_index_dump"), "--count",
                              os.path.join(data_dir, "search-index", "listing_index")],
                             capture_output=True, text=True, check=True).stdout
        count = json.loads(out)["count"] if out.strip().startswith("{") else int(out)
        r.extra["disk"] = "%.1fMiB" % (du_bytes(os.path.join(data_dir, "search-index")) / 2**20)
    if count != n:
        raise RuntimeError("x1 %s: %d documents indexed of %d" % (name, count, n))
    return r, data_dir


def query_run(args, tmp, name, tool_args, ops, node=None):
    path = os.path.join(tmp, "queries.jsonl")
    with open(path, "w") as f:
        f.writelines(json.dumps(op) + "\n" for op in ops)
    out_path = os.path.join(tmp, name + "-answers.jsonl")
    node_cpu0 = proc_cpu(node.pid) if node else 0
    with open(path, "rb") as stdin, open(out_path, "wb") as stdout:
        r = run_measured("x1 query %s" % name,
                         [os.path.join(args.build, "plugins", "elasticsearch", "sluice_search_tool")] + tool_args,
                         events=len(ops), stdin=stdin, stdout=stdout)
    took = []
    with open(out_path) as f:
        for line in f:
            answer = json.loads(line)
            if "error" in answer:
                raise RuntimeError("x1 query %s: %s" % (name, answer["error"]))
            took.append(answer["took_us"])
    took.sort()
    r.extra["p50"] = "%.2fms" % (took[len(took) // 2] / 1000)
    r.extra["p99"] = "%.2fms" % (took[int(len(took) * 0.99)] / 1000)
    if node:
        r.extra["node_cpu"] = "%.1fs" % (proc_cpu(node.pid) - node_cpu0)
    return r


def bench_x1(args):
    _test_lib()
    from opensearch_node import OpenSearchNode
    n, q = args.x1_listings, args.x1_queries
    tmp = tempfile.mkdtemp(prefix="sluice-x1-")
    corpus = os.path.join(tmp, "listings.jsonl")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_sample_listings.py"), corpus, str(n)],
                   check=True)
    ops = queries(q)
    results = []
    r, data_dir = index_run(args, tmp, "embedded", "embedded", corpus, n)
    results.append(r)
    results.append(query_run(args, tmp, "embedded", ["--embedded", data_dir, "listing_index"], ops))
    with OpenSearchNode(heap=args.x1_heap) as node:
        r, _ = index_run(args, tmp, "opensearch", node.url, corpus, n, node)
        results.append(r)
        results.append(query_run(args, tmp, "opensearch", ["--hosts", node.url, "listing_index"], ops, node))
    subprocess.run(["rm", "-rf", tmp], check=False)
    return results
