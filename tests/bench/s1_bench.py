"""S1 (issue 13): the search page's `/api/search` under wrk, on the embedded index and on OpenSearch.

N listings (default 10k, scripts/make_sample_listings.py's generator, the shipped corpus's first 400)
go through the elasticsearch sink (listings.yaml's: upsert by id) into `hosts: embedded` and into a
real OpenSearch 2.19.6 node (listings.yaml's create_index). Then wrk (--s1-connections, default 32,
2 threads, --s1-duration seconds after a warm-up) runs, in one run, one after another:

  node _search    POST /listing_index/_search on the node, with the very bodies the SRP's
                  EsSearchIndex sends (captured from the SRP by a fake node, see capture_bodies)
  srp opensearch  GET /api/search on a daemon whose srp source has `hosts:` the node
  srp embedded    GET /api/search on a daemon whose srp source has `hosts: embedded`
  node _search    again, so that the drift of the machine over the run shows

Each wrk Lua script cycles through the queries of search_relevance_test.py (60), each `relevant`
and `hot` (visits_missing 0.1, as the seed). Reported: requests/s, p50 / p99 (wrk --latency),
non-2xx answers, CPU of the server process over the measured part; the ratios to the node's
`_search` rate (the mean of its two runs). Run through bench.py: `bench.py s1`.
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, Result, _test_lib, free_port, proc_cpu, sluice_bin, vm_hwm_kb  # noqa: E402
from x1_bench import index_run  # noqa: E402

RELEVANCE_TEST = os.path.join(ROOT, "plugins", "elasticsearch", "tests", "integration", "search_relevance_test.py")
SORTS = ["relevant", "hot"]
VISITS_MISSING = 0.1


def relevance_queries():
    """QUERIES of search_relevance_test.py, read without importing it (it needs the test fixtures)."""
    with open(RELEVANCE_TEST, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "QUERIES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise RuntimeError("no QUERIES in " + RELEVANCE_TEST)


def api_paths(queries):
    return ["/api/search?" + urllib.parse.urlencode({"q": q, "sort": s}) for s in SORTS for q in queries]


def lua_string(s):
    return "[==[" + s + "]==]"


def write_lua(path, requests):
    """A wrk script sending @requests ((method, path, body or None)) in turn, each thread from its own offset."""
    lines = ["local reqs = {"]
    for method, p, body in requests:
        lines.append("  {%s, %s, %s}," % (lua_string(method), lua_string(p), lua_string(body) if body else "nil"))
    lines += ["}",
              "local i = 0",
              "local json = {[\"Content-Type\"] = \"application/json\"}",
              "function setup(thread) thread:set(\"offset\", math.random(#reqs)) end",
              "function init(args) i = offset or 0 end",
              "function request()",
              "  i = i % #reqs + 1",
              "  local r = reqs[i]",
              "  if r[3] then return wrk.format(r[1], r[2], json, r[3]) end",
              "  return wrk.format(r[1], r[2])",
              "end", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def run_wrk(name, url, script, args, pid):
    base = ["wrk", "-t", "2", "-c", str(args.s1_connections), "--latency", "-s", script, url]
    subprocess.run(base[:1] + ["-d", "%ds" % args.s1_warmup] + base[1:], stdout=subprocess.DEVNULL, check=True)
    cpu0 = proc_cpu(pid)
    out = subprocess.run(base[:1] + ["-d", "%ds" % args.s1_duration] + base[1:], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    cpu = proc_cpu(pid) - cpu0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    extra = {"rps": "%.0f" % rps, "p50": "%.2fms" % to_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
             "p99": "%.2fms" % to_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
             "non2xx": non2xx.group(1) if non2xx else "0"}
    if errors:
        extra["socket_errors"] = errors.group(1).replace(" ", "")
    r = Result(name, float(args.s1_duration), cpu, vm_hwm_kb(pid), total, extra)
    r.rps, r.p99 = rps, float(extra["p99"][:-2])
    return r


class _Capture(BaseHTTPRequestHandler):
    """A fake node: records the body of every `_search` and answers no hits."""
    bodies = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("/_search"):
            _Capture.bodies.append((self.path, body.decode()))
        self._answer(b'{"took":0,"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}')

    def do_GET(self):  # noqa: N802
        self._answer(b'{"version":{"number":"2.19.6","distribution":"opensearch"}}')

    def _answer(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


class Daemon:
    """`sluice run` with one srp source on 127.0.0.1 (hosts as given), page views into a null sink."""

    def __init__(self, args, tmp, name, hosts, data_dir):
        self.port = free_port()
        pipeline = os.path.join(tmp, name + "-srp.yaml")
        source = {"type": "srp", "listen": "127.0.0.1:%d" % self.port, "hosts": hosts, "index": "listing_index",
                  "visits_missing": VISITS_MISSING}
        for kv in args.s1_srp_option or []:
            key, value = kv.split("=", 1)
            source[key] = json.loads(value)
        with open(pipeline, "w") as f:
            json.dump({"pipelines": {"s1": {"source": source, "sinks": [{"type": "null"}]}}}, f)
        conf = os.path.join(tmp, name + "-srp.conf.yaml")
        with open(conf, "w") as f:
            f.write("plugin_dirs: [%s]\nadmin: {listen: off}\ndata_dir: %s\n"
                    % (json.dumps(os.path.join(args.build, "plugins")), json.dumps(data_dir)))
        self.log = open(os.path.join(tmp, name + "-srp.log"), "wb")
        self.proc = subprocess.Popen([sluice_bin(args.build), "run", "--config", conf, pipeline],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.url = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/search?q=bike", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("s1: the %s daemon did not serve (see %s)" % (name, self.log.name))
            time.sleep(0.1)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def capture_bodies(args, tmp, paths):
    """The `_search` request (path, body) the SRP's EsSearchIndex sends for each of @paths, in order."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    daemon = Daemon(args, tmp, "capture", "http://127.0.0.1:%d" % server.server_address[1],
                    os.path.join(tmp, "capture-data"))
    try:
        _Capture.bodies.clear()
        out = []
        for p in paths:
            n = len(_Capture.bodies)
            with urllib.request.urlopen(daemon.url + p, timeout=10) as r:
                r.read()
            if len(_Capture.bodies) != n + 1:
                raise RuntimeError("s1: %s sent %d searches" % (p, len(_Capture.bodies) - n))
            out.append(_Capture.bodies[-1])
        return out
    finally:
        daemon.close()
        server.shutdown()


def bench_s1(args):
    _test_lib()
    from opensearch_node import OpenSearchNode
    if not shutil.which("wrk"):
        raise RuntimeError("wrk not found (apt-get install wrk)")
    n = args.s1_listings
    tmp = tempfile.mkdtemp(prefix="sluice-s1-")
    corpus = os.path.join(tmp, "listings.jsonl")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_sample_listings.py"), corpus, str(n)],
                   check=True)
    paths = api_paths(relevance_queries())
    srp_lua = os.path.join(tmp, "srp.lua")
    write_lua(srp_lua, [("GET", p, None) for p in paths])
    bodies = capture_bodies(args, tmp, paths)
    node_lua = os.path.join(tmp, "node.lua")
    write_lua(node_lua, [("POST", p, b) for p, b in bodies])
    results = []
    _, embedded_dir = index_run(args, tmp, "embedded", "embedded", corpus, n)
    with OpenSearchNode(heap=args.x1_heap) as node:
        index_run(args, tmp, "opensearch", node.url, corpus, n, node)
        node.request("POST", "/listing_index/_forcemerge", params={"max_num_segments": 1})
        node.refresh("listing_index")
        results.append(run_wrk("s1 node _search", node.url, node_lua, args, node.pid))
        d = Daemon(args, tmp, "opensearch", node.url, os.path.join(tmp, "srp-os-data"))
        try:
            results.append(run_wrk("s1 srp opensearch", d.url, srp_lua, args, d.proc.pid))
        finally:
            d.close()
        d = Daemon(args, tmp, "embedded", "embedded", embedded_dir)
        try:
            results.append(run_wrk("s1 srp embedded", d.url, srp_lua, args, d.proc.pid))
        finally:
            d.close()
        results.append(run_wrk("s1 node _search (again)", node.url, node_lua, args, node.pid))
    subprocess.run(["rm", "-rf", tmp], check=False)
    return results


def report_s1(results):
    node_runs = [r for r in results if r.name.startswith("s1 node")]
    base = sum(r.rps for r in node_runs) / len(node_runs)
    print("node _search: %.0f req/s (mean of %s)" % (base, " and ".join("%.0f" % r.rps for r in node_runs)))
    for r in results:
        if r.name.startswith("s1 srp"):
            print("%-18s %6.0f req/s  %.2f x the node's _search  p99 %.2f ms" % (r.name[3:], r.rps, r.rps / base,
                                                                               r.p99))
    srp = {r.name: r for r in results}
    os_ok = srp["s1 srp opensearch"].rps >= 0.8 * base
    emb = srp["s1 srp embedded"]
    print("targets: srp over OpenSearch >= 0.8x: %s; srp embedded >= 2x: %s, p99 <= 20 ms: %s"
          % ("met" if os_ok else "NOT met", "met" if emb.rps >= 2 * base else "NOT met",
             "met" if emb.p99 <= 20 else "NOT met"))
