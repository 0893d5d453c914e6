"""E0 and E1: the elasticsearch sink (run them through bench.py: `bench.py e0`, `bench.py e1`; see README.md).

E1: N listings (default 1M) preloaded on a 4-partition topic of a real Kafka broker
(tests/lib/kafka_broker.py) are indexed into a real OpenSearch 2.19.6 node
(tests/lib/opensearch_node.py, full JIT, G1, warmed up), each contestant into a
fresh index with pipelines/listings.yaml's index settings and mappings: the
node's own limit (pre-built bulk bodies, peers/e1_bulk_limit.py; first and
last), sluice (listings.yaml with action index, the same with a larger queue,
then as shipped with upsert), elasticsearch.helpers.bulk
(peers/e1_helpers_bulk.py) and the seed's one es.index() per message
(peers/e1_seed_index.py, on a subset). Every index's _count must equal what
was sent.

E0: the sink's own CPU cost per document against peers/null_es.c, a server that
answers every bulk with success at once: sluice's CPU with the elasticsearch
sink minus the same source into a null sink.
"""
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import (HERE, ROOT, _test_lib, free_port, preload, print_ratio, proc_cpu,  # noqa: E402
                   run_measured, run_until, run_until_lines, sluice_bin, warm_up_group)

TOPIC = "new-listings-topic"
PARTITIONS = 4
# The distribution's defaults (jvm.options: a 1 GB heap, G1). The fixture starts its test nodes with C1 only
# and the serial collector, for a quick start in little memory; a benchmark wants the full JIT, and G1: with
# the serial collector the parent circuit breaker, which reads the heap's real usage (garbage included),
# answered a whole bulk 429 "Data too large" after a few million documents.
NODE_HEAP = "1g"
NODE_JAVA_OPTS = ("-XX:TieredStopAtLevel=4 -XX:-UseSerialGC -XX:+UseG1GC -XX:G1ReservePercent=25 "
                  "-XX:InitiatingHeapOccupancyPercent=30")
# The node's JIT keeps making it faster for millions of documents on this machine: it is warmed up with at
# least 8 rounds of 250k documents of the limit loop, then until two rounds in a row are within 5 %.
WARM_UP_DOCS = 250_000
WARM_UP_ROUNDS = (8, 16)
WARM_UP_STEADY = 0.05

# --------------------------------------------------------------------------- documents

_BRANDS = ["Apple MacBook Air 13\"", "Apple MacBook Pro 14\"", "Lenovo ThinkPad X1 Carbon", "Dell XPS 13",
           "iPhone 12 mini", "Samsung Galaxy S21", "Sony WH-1000XM4", "Nintendo Switch OLED", "Canon EOS 80D",
           "Trek Marlin 7", "IKEA Pöang armchair", "Vélo de ville Peugeot", "KitchenAid Artisan mixer",
           "Dyson V11 vacuum", "LEGO Technic 42083", "Fender Stratocaster"]
_STATE = ["like new", "in great condition", "lightly used", "with a few scratches", "barely used",
          "in working order", "refurbished"]
_EXTRA = ["original box and charger included", "battery health 91%", "comes with a case",
          "receipt available", "pick-up only", "can ship at buyer's cost", "no returns", "smoke-free home"]
_CITIES = ["Lyon", "Berlin", "Madrid", "Porto", "Ghent", "Milano", "Kraków", "Utrecht"]


def listings(n, seed=3):
    """n listings as (key, JSON) pairs, key the id: seed 000's `{"id", "title", "description"}` plus a price,
    about 200 bytes each."""
    import json
    rnd = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        brand = rnd.choice(_BRANDS)
        doc = {"id": i,
               "title": f"Used {brand} {rnd.choice(_STATE)}",
               "description": f"Selling my {brand}, {rnd.choice(_STATE)}, {rnd.choice(_EXTRA)}, "
                              f"{rnd.choice(_EXTRA)}. Pick-up in {rnd.choice(_CITIES)} or by post.",
               "price": round(rnd.uniform(5, 2500), 2)}
        out.append((str(i), json.dumps(doc, ensure_ascii=False, separators=(",", ":"))))
    return out


def listings_yaml():
    import yaml
    with open(os.path.join(ROOT, "pipelines", "listings.yaml")) as f:
        return yaml.safe_load(f)


def sluice_pipeline(tmp, name, sink_options, source_options=None, source=None, pipeline_options=None):
    """pipelines/listings.yaml's `listings` pipeline with @sink_options on its elasticsearch sink (an option
    given as None is removed) and @source_options on its kafka source, or @source instead of it, and
    @pipeline_options (queue_max_events, ...); KAFKA_BROKERS and ES_HOSTS come from the environment as usual."""
    import yaml
    doc = listings_yaml()
    pipeline = doc["pipelines"]["listings"]
    pipeline.update(pipeline_options or {})
    if source is not None:
        pipeline["source"] = source
    pipeline["source"].update(source_options or {})
    sink = pipeline["sinks"][0]
    sink.update(sink_options)
    for key in [k for k, v in sink.items() if v is None]:
        del sink[key]
    path = os.path.join(tmp, f"{name}.yaml")
    with open(path, "w") as f:
        yaml.safe_dump({"pipelines": {"listings": pipeline}}, f)
    return path


def metric_sum(text, metric, label=""):
    """The sum of @metric's samples carrying @label in a /metrics page."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(metric + "{") and label in line)


def metric_progress(admin, metric, label):
    """A progress function for run_until: the sum of @metric's samples carrying @label on sluice's /metrics
    (the last page read is kept in progress.text)."""
    url = f"http://{admin}/metrics"

    def progress():
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                progress.text = r.read().decode()
        except OSError:
            return 0
        return int(metric_sum(progress.text, metric, label))
    progress.text = ""
    return progress


def sluice_es_docs(admin):
    return metric_progress(admin, "sluice_elasticsearch_documents_total", 'outcome="ok"')


# --------------------------------------------------------------------------- E1

def write_bulk_bodies(path, docs, index, batch):
    """The limit's bodies, the lines sluice's sink writes for action index (`{"index":{"_index","_id"}}`
    and the document), @batch documents each, every body after a `#ITEMS BYTES` line."""
    with open(path, "wb") as f:
        for start in range(0, len(docs), batch):
            chunk = docs[start:start + batch]
            body = "".join('{"index":{"_index":"%s","_id":"%s"}}\n%s\n' % (index, k, v) for k, v in chunk).encode()
            f.write(b"#%d %d\n" % (len(chunk), len(body)))
            f.write(body)


class E1:
    """One E1 run: the broker and the node, and a fresh index per contestant."""

    def __init__(self, args, broker, node, tmp, docs):
        self.args, self.broker, self.node, self.tmp, self.docs = args, broker, node, tmp, docs
        self.index_body = listings_yaml()["pipelines"]["listings"]["sinks"][0]["create_index"]
        self.run = f"{os.getpid()}-{int(time.time())}"

    def fresh_index(self, name):
        self.node.delete_index(name)
        settings = dict(self.index_body["settings"])
        shards, replicas = settings.pop("number_of_shards"), settings.pop("number_of_replicas")
        self.node.create_index(name, self.index_body["mappings"], shards=shards, replicas=replicas,
                               settings=settings)

    def contestant(self, name, index, n, start):
        """Runs @start() (-> Result) against a fresh @index; adds the node's and the broker's CPU, checks
        _count == @n, drops the index (so that its merges do not run into the next contestant). A contestant
        that fails or loses documents gives None (reported as invalid), and the others still run."""
        self.fresh_index(index)
        cpu0, broker0 = proc_cpu(self.node.pid), proc_cpu(self.broker.pid)
        try:
            r = start()
        except RuntimeError as e:
            print(f"({name}: FAILED: {e})", flush=True)
            self.node.delete_index(index)
            return None
        node_cpu, r.broker_cpu = proc_cpu(self.node.pid) - cpu0, proc_cpu(self.broker.pid) - broker0
        count = self.node.count(index)
        self.node.delete_index(index)
        if count != n:
            print(f"({name}: INVALID: _count of {index} is {count}, {n} were sent)", flush=True)
            return None
        r.name = name
        r.node_cpu = node_cpu
        r.extra.update({"count": f"{count}", "node_cpu": f"{node_cpu:.1f}s", "broker_cpu": f"{r.broker_cpu:.1f}s"})
        print(f"({name}: {n:,} documents in {r.wall:.1f} s, _count checked)", flush=True)
        return r

    def warm_up(self):
        """Rounds of the limit loop into a throwaway index until the node's rate is steady."""
        n = min(WARM_UP_DOCS, len(self.docs))
        rates = []
        while len(rates) < WARM_UP_ROUNDS[1]:
            rates.append(self.limit(n, f"warm-up {len(rates) + 1}", warm_up=True).steady)
            print(f"(node warm-up round {len(rates)}: {rates[-1]:,.0f} docs/s)", flush=True)
            if len(rates) >= max(WARM_UP_ROUNDS[0], 2) and abs(rates[-1] - rates[-2]) <= WARM_UP_STEADY * rates[-2]:
                break
        print(f"(node warm-up: {len(rates)} rounds of {n:,} documents; not reported)", flush=True)

    def limit(self, n, label, warm_up=False):
        index = f"limit-{self.run}"
        bodies = os.path.join(self.tmp, "bodies.ndjson")
        write_bulk_bodies(bodies, self.docs[:n], index, self.args.es_batch)
        progress = os.path.join(self.tmp, f"{index}.progress")
        if os.path.exists(progress):
            os.unlink(progress)
        argv = ["/usr/bin/python3", os.path.join(HERE, "peers", "e1_bulk_limit.py"), bodies, self.node.url,
                str(self.args.es_concurrency), progress]
        start = lambda: run_until_lines(label, argv, progress, n, timeout=3600)  # noqa: E731
        if warm_up:
            self.fresh_index(index)
            r = start()
            self.node.delete_index(index)
            return r
        return self.contestant(label, index, n, start)

    def sluice(self, label, action, queue_max_events=None):
        """sluice with listings.yaml's pipeline (@action, a fresh group); extra: bulk requests made, documents
        per bulk, and the kafka source's pauses (pipeline full)."""
        n = len(self.docs)
        name = f"sluice-{action}" + (f"-q{queue_max_events}" if queue_max_events else "")
        index = f"{name}-{self.run}"
        admin = f"127.0.0.1:{free_port()}"
        pipe = sluice_pipeline(self.tmp, name, {
            "index": index, "action": action, "batch_max_events": self.args.es_batch,
            "concurrency": self.args.es_concurrency}, {"group": index},
            pipeline_options={"queue_max_events": queue_max_events} if queue_max_events else None)
        env = {"KAFKA_BROKERS": self.broker.bootstrap, "ES_HOSTS": self.node.url, "SLUICE_ADMIN_LISTEN": admin}
        argv = [sluice_bin(self.args.build), "run", pipe]
        progress = sluice_es_docs(admin)
        r = self.contestant(label, index, n, lambda: run_until(label, argv, progress, n, env, timeout=3600,
                                                               poll=0.05))
        if r is not None:
            bulks = metric_sum(progress.text, "sluice_elasticsearch_requests_total")
            r.extra.update({"bulks": f"{bulks:.0f}", "docs_per_bulk": f"{n / max(bulks, 1):.0f}",
                            "kafka_pauses": f"{metric_sum(progress.text, 'sluice_kafka_pauses_total'):.0f}"})
        return r

    def python_peer(self, label, script, n, extra=()):
        index = f"{script.split('_', 1)[1].split('.')[0].replace('_', '-')}-{self.run}"
        progress = os.path.join(self.tmp, f"{index}.progress")
        argv = ["/usr/bin/python3", os.path.join(HERE, "peers", script), self.broker.bootstrap, TOPIC,
                f"{index}-group", self.node.url, index, progress, str(n)] + [str(x) for x in extra]
        return self.contestant(label, index, n, lambda: run_until_lines(label, argv, progress, n, timeout=3600))


def bench_e1(args):
    """E1: listings on Kafka -> a real OpenSearch node: node limit, sluice, helpers.bulk, seed's es.index()"""
    _test_lib(needs_kafka_python=True)
    from kafka_broker import KafkaBroker
    from opensearch_node import OpenSearchNode
    n = args.e_events
    docs = listings(n)
    saved = os.environ.get("OPENSEARCH_JAVA_OPTS")
    os.environ["OPENSEARCH_JAVA_OPTS"] = NODE_JAVA_OPTS
    try:
        node = OpenSearchNode(heap=NODE_HEAP, max_seconds=4 * 3600)
        node.start()
    finally:
        if saved is None:
            os.environ.pop("OPENSEARCH_JAVA_OPTS")
        else:
            os.environ["OPENSEARCH_JAVA_OPTS"] = saved
    res = []
    try:
        with tempfile.TemporaryDirectory(prefix="sluice-e1-") as tmp, \
                KafkaBroker(partitions=PARTITIONS, max_seconds=4 * 3600) as broker:
            broker.create_topic(TOPIC, partitions=PARTITIONS)
            preload(broker.bootstrap, TOPIC, docs, tmp, False, "listings")
            e1 = E1(args, broker, node, tmp, docs)
            warm_up_group(broker.bootstrap, TOPIC, f"warm-up-{e1.run}")
            e1.warm_up()
            info = node.info()["version"]
            print(f"(OpenSearch {info['number']}, heap {NODE_HEAP}, {NODE_JAVA_OPTS}; index: 1 shard, 0 replicas; "
                  f"{args.es_batch} documents per bulk, concurrency {args.es_concurrency})", flush=True)
            # The limit first and again last: the node may still get faster during the run.
            res.append(e1.limit(n, "node limit (pre-built bulks), first"))
            res.append(e1.sluice("sluice, action index", "index"))
            res.append(e1.sluice("sluice, index, queue_max_events 40000", "index", 40000))
            res.append(e1.sluice("sluice, listings.yaml's upsert", "upsert"))
            res.append(e1.python_peer("helpers.bulk (kafka-python)", "e1_helpers_bulk.py", n, [args.es_batch]))
            seed_n = min(args.seed_events, n)
            res.append(e1.python_peer(f"seed 000: es.index() per message ({seed_n:,})", "e1_seed_index.py", seed_n))
            res.append(e1.limit(n, "node limit (pre-built bulks), last"))
    finally:
        node.stop()
    return res


def per_million(seconds, n):
    return seconds * 1_000_000 / n


def report_e1(res):
    names = ["node limit, first", "sluice, index", "sluice, index, big queue", "sluice, upsert", "helpers.bulk",
             "seed", "node limit, last"]
    for name, r in zip(names, res):
        if r is None:
            print(f"{name}: no valid result (see above)")
    if any(r is None for r in res):
        return
    print(f"{'':<44} {'steady docs/s':>14} {'wall s':>7} {'client cpu-s/1M':>16} {'node cpu-s/1M':>14} "
          f"{'broker cpu-s/1M':>16} {'peak RSS MiB':>13}")
    for r in res:
        print(f"{r.name:<44} {r.steady:>14,.0f} {r.wall:>7.1f} {per_million(r.cpu, r.events):>16.1f} "
              f"{per_million(r.node_cpu, r.events):>14.1f} {per_million(r.broker_cpu, r.events):>16.1f} "
              f"{r.peak_rss_kb / 1024:>13.1f}")
    limit_first, sluice, big_queue, upsert, bulk, seed, limit_last = res
    limit = max(limit_first, limit_last, key=lambda r: r.steady)  # the higher of the two: the harder ratio
    print_ratio(f"steady sluice/node limit ({limit.name.rsplit(' ', 1)[1]})", sluice, limit, "steady")
    print_ratio("steady sluice (queue_max_events 40000)/node limit", big_queue, limit, "steady")
    print_ratio("steady sluice (upsert)/node limit", upsert, limit, "steady")
    print_ratio("steady sluice/helpers.bulk", sluice, bulk, "steady")
    print_ratio("steady sluice/seed's es.index()", sluice, seed, "steady")


# --------------------------------------------------------------------------- E0

def null_es_bin(tmp):
    """peers/null_es.c compiled with cc into @tmp."""
    exe = os.path.join(tmp, "null_es")
    subprocess.run(["cc", "-O2", "-pthread", "-o", exe, os.path.join(HERE, "peers", "null_es.c")], check=True)
    return exe


class NullEs:
    def __init__(self, exe):
        self.proc = subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("PORT="):
            raise RuntimeError(f"null_es printed {line!r}")
        self.url = f"http://127.0.0.1:{line.split('=', 1)[1]}"

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def close(self):
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err.strip()


E0_TEMPLATE = {
    "id": "{seq}",
    "title": "Used {random_choice:Apple MacBook Air 13,Lenovo ThinkPad X1 Carbon,Samsung Galaxy S21,Sony WH-1000XM4,"
             "Nintendo Switch OLED,Trek Marlin 7} {random_choice:like new,in great condition,lightly used}",
    "description": "Selling my {random_choice:laptop,phone,headphones,console,bike} "
                   "{random_choice:in great condition,with a few scratches,barely used}, "
                   "{random_choice:original box and charger included,battery health 91%,comes with a case}. "
                   "Pick-up in {random_choice:Lyon,Berlin,Madrid,Porto,Ghent} or by post.",
    "price": "{random_int:5:2500}",
}


E0_REPEAT = 3  # each case runs this many times; the run of median CPU is reported (CPU time is noisy here)


def bench_e0(args):
    """E0: the elasticsearch sink's CPU per document against a null server (sluice CPU, ES sink minus null sink)"""
    import yaml
    n = args.e0_events
    res = []
    with tempfile.TemporaryDirectory(prefix="sluice-e0-") as tmp:
        server = NullEs(null_es_bin(tmp))
        try:
            es = {"hosts": server.url, "index": "listing_index", "create_index": None,
                  "batch_max_events": args.es_batch, "concurrency": args.es_concurrency}
            ndjson = os.path.join(tmp, "listings.ndjson")
            with open(ndjson, "w") as f:
                for _, v in listings(n):
                    f.write(v + "\n")
            sources = [("generate", {"type": "generate", "count": n, "template": E0_TEMPLATE}, None),
                       ("stdin ndjson", {"type": "stdin", "format": "ndjson"}, ndjson)]
            env = {"SLUICE_ADMIN_LISTEN": "off"}
            for label, source, stdin_path in sources:
                cases = []
                for action in ("index", "upsert"):
                    cases.append((f"{label} -> elasticsearch ({action})",
                                  sluice_pipeline(tmp, f"e0-{action}", dict(es, action=action), source=source)))
                null_pipe = os.path.join(tmp, "e0-null.yaml")
                with open(null_pipe, "w") as f:
                    yaml.safe_dump({"pipelines": {"listings": {"source": source, "sinks": [{"type": "null"}]}}}, f)
                cases.append((f"{label} -> null (baseline)", null_pipe))
                for name, pipe in cases:
                    runs = []
                    for _ in range(E0_REPEAT):
                        cpu0 = server.cpu()
                        with open(stdin_path or os.devnull, "rb") as stdin:
                            r = run_measured(name, [sluice_bin(args.build), "run", pipe], env, n, stdin=stdin)
                        r.extra["server_cpu"] = f"{server.cpu() - cpu0:.2f}s"
                        runs.append(r)
                    runs.sort(key=lambda r: r.cpu)
                    r = runs[len(runs) // 2]
                    r.extra["cpu_runs"] = "/".join(f"{x.cpu:.2f}" for x in runs)
                    res.append(r)
        finally:
            print(f"(null server: {server.close()})", flush=True)
    return res


def report_e0(res):
    print(f"{'(median of ' + str(E0_REPEAT) + ' runs)':<40} {'sluice µs/doc':>14} {'sink µs/doc (minus null sink)':>30}")
    for i in range(0, len(res), 3):
        group, base = res[i:i + 2], res[i + 2]
        for r in group + [base]:
            sink = f"{(r.cpu - base.cpu) * 1e6 / r.events:.2f}" if r is not base else "-"
            print(f"{r.name:<40} {r.cpu * 1e6 / r.events:>14.2f} {sink:>30}")
