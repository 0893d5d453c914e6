#!/usr/bin/env python3
"""sluice benchmark harness.

Runs a pipeline as a whole process and reports wall time, events/s, CPU
seconds and peak RSS, with peers' commands measured in the same run so the
figures are ratios, not absolute claims. Not part of the test suite.

    python3 tests/bench/bench.py [--build build] [NAME...]

NAME is one of the benchmarks below (default: b1 and startup, which need no
broker). Helpers (run_measured, run_until_lines, Result, ...) are importable:
nothing runs at import time.
"""
import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Result:
    def __init__(self, name, wall, cpu, peak_rss_kb, events=None, extra=None):
        self.name, self.wall, self.cpu, self.peak_rss_kb = name, wall, cpu, peak_rss_kb
        self.events, self.extra = events, extra or {}

    @property
    def rate(self):
        return self.events / self.wall if self.events and self.wall > 0 else None

    def row(self):
        rate = f"{self.rate:,.0f}/s" if self.rate else "-"
        per_cpu = f"{self.events / self.cpu:,.0f}/cpu-s" if self.events and self.cpu > 0 else "-"
        extra = " ".join(f"{k}={v}" for k, v in self.extra.items())
        return (f"{self.name:<34} wall {self.wall:7.3f}s  cpu {self.cpu:7.3f}s  "
                f"peak RSS {self.peak_rss_kb / 1024:7.1f} MiB  {rate:>14} {per_cpu:>16} {extra}")


def vm_hwm_kb(pid):
    """Peak RSS of a running process (VmHWM). Not rusage's ru_maxrss: that one starts at
    the RSS of the forking parent (this script, which may hold a million page views)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(name, argv, env=None, events=None, stdin=None, stdout=subprocess.DEVNULL):
    """Runs argv to completion; CPU from wait4's rusage of that child, peak RSS from its VmHWM."""
    full_env = dict(os.environ, **(env or {}))
    err_file = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=full_env, stdin=stdin, stdout=stdout, stderr=err_file)
    hwm = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        hwm = max(hwm, vm_hwm_kb(p.pid))
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    err_file.seek(0)
    err = err_file.read().decode(errors="replace")
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{name}: exit {p.returncode}\n{err[-2000:]}")
    return Result(name, wall, ru.ru_utime + ru.ru_stime, hwm, events)


def proc_cpu(pid):
    """CPU seconds (user + system) a running process has used so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def line_counter(path):
    """A progress function for run_until: the lines written to @path so far (read incrementally)."""
    state = {"pos": 0, "lines": 0}

    def progress():
        try:
            with open(path, "rb") as f:
                f.seek(state["pos"])
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        state["pos"] += len(chunk)
        state["lines"] += chunk.count(b"\n")
        return state["lines"]
    return progress


def run_until(name, argv, progress, n, env=None, stdout=subprocess.DEVNULL, timeout=300, poll=0.005):
    """Runs argv until progress() (items done so far) reaches @n, then stops it (SIGTERM) if it has
    not exited.

    Reports the wall time from spawn to the n-th item, and in extra the steady
    rate from the first item done to the last (consumer-group joins and
    start-up are left out); CPU from wait4's rusage, peak RSS from VmHWM."""
    full_env = dict(os.environ, **(env or {}))
    t0 = time.perf_counter()
    err_file = tempfile.TemporaryFile()  # a file, not a pipe: a chatty peer cannot block on it
    p = subprocess.Popen(argv, env=full_env, stdout=stdout, stderr=err_file)
    done, first_t, first_done, last_t, hwm, ru = 0, None, 0, None, 0, None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = done
        done = progress()
        now = time.perf_counter()
        if done and first_t is None:
            first_t, first_done = now, done
        if done >= n:
            last_t = now
            break
        if p.returncode is None:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
        hwm = max(hwm, vm_hwm_kb(p.pid)) if p.returncode is None else hwm
        if p.returncode is not None and done == before:
            break
        time.sleep(poll)
    if p.returncode is None:
        hwm = max(hwm, vm_hwm_kb(p.pid))
        os.kill(p.pid, signal.SIGTERM)  # not p.send_signal(): it polls, and so reaps the rusage away
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    if last_t is None:
        err_file.seek(0)
        raise RuntimeError(f"{name}: {done} of {n} done\n{err_file.read().decode(errors='replace')[-2000:]}")
    r = Result(name, last_t - t0, (ru.ru_utime + ru.ru_stime) if ru else 0.0, hwm, n)
    steady = (n - first_done) / (last_t - first_t) if last_t > first_t else float("inf")
    r.steady = steady
    r.extra = {"steady": f"{steady:,.0f}/s", "first_line_s": f"{first_t - t0:.2f}"}
    return r


def run_until_lines(name, argv, out_path, n, env=None, stdout=subprocess.DEVNULL, timeout=300, poll=0.005):
    """run_until() with the lines of @out_path as the progress (K1's log files, E1's peers)."""
    return run_until(name, argv, line_counter(out_path), n, env, stdout, timeout, poll)


def benthos_bin():
    """Benthos (MIT, github.com/redpanda-data/benthos/v4) built once into ~/.cache; never committed.

    `go install ...@v4.60.0` asks the module proxy for the version list, which
    this machine's proxy refuses, so a two-file module that requires the
    pinned version and runs its CLI (what cmd/benthos does) is built instead."""
    version = "v4.60.0"
    cache = os.environ.get("SLUICE_BENCH_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "sluice-bench")
    d = os.path.join(cache, f"benthos-{version}")
    b = os.path.join(d, "benthos")
    if os.path.exists(b):
        return b
    if not shutil.which("go"):
        return None
    src = os.path.join(d, "src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "go.mod"), "w") as f:
        f.write("module sluicebench/benthos\n\ngo 1.22\n")
    with open(os.path.join(src, "main.go"), "w") as f:
        f.write('package main\n\nimport (\n\t"context"\n\n'
                '\t_ "github.com/redpanda-data/benthos/v4/public/components/io"\n'
                '\t_ "github.com/redpanda-data/benthos/v4/public/components/pure"\n'
                '\t"github.com/redpanda-data/benthos/v4/public/service"\n)\n\n'
                'func main() { service.RunCLI(context.Background()) }\n')
    print(f"building Benthos {version} into {d} (once; a few minutes)", flush=True)
    subprocess.run(["go", "get", f"github.com/redpanda-data/benthos/v4/public/service@{version}"], cwd=src,
                   check=True)
    subprocess.run(["go", "mod", "tidy"], cwd=src, check=True)
    subprocess.run(["go", "build", "-o", b, "."], cwd=src, check=True)
    return b


def print_ratio(label, a, b, attr="rate"):
    if a is None or b is None:
        return
    x, y = getattr(a, attr, None), getattr(b, attr, None)
    if x and y:
        print(f"ratio {label}: {x / y:.2f}x")


def sluice_bin(build):
    b = os.path.join(ROOT, build, "bin", "sluice")
    if not os.path.exists(b):
        sys.exit(f"no sluice binary at {b}: build first (bash scripts/build.sh {build})")
    return b


def wait_http(url, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=0.2) as r:
                if r.status == 200:
                    return True
        except Exception:
            pass
        time.sleep(0.001)
    return False


BENTHOS_B1 = """
input:
  generate:
    count: {n}
    interval: ""
    batch_size: 1024
    mapping: |
      root.seq = counter()
      root.user_id = random_int(min: 1, max: 1000)
      root.item_id = random_int(min: 1, max: 5000)
      root.kind = "view"
pipeline:
  processors:
    - mapping: root = if this.item_id <= 100 {{ deleted() }}
output:
  drop: {{}}
http:
  enabled: false
logger:
  level: warn
"""


def bench_b1(args):
    """generate -> filter -> null, N events; peers: Benthos (same shape) and the same loop in Python."""
    n = args.events
    pipe = os.path.join(HERE, "pipelines", "b1-generate-filter-null.yaml")
    env = {"BENCH_EVENTS": str(n), "SLUICE_ADMIN_LISTEN": "off"}
    res = [run_measured("sluice generate->filter->null", [sluice_bin(args.build), "run", pipe], env, n)]
    # One core: taskset pins sluice to CPU 0 (whole process).
    if shutil.which("taskset"):
        res.append(run_measured("sluice, pinned to one core", ["taskset", "-c", "0", sluice_bin(args.build), "run", pipe],
                                env, n))
    benthos = benthos_bin()
    if benthos:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(BENTHOS_B1.format(n=n))
        res.append(run_measured("benthos v4.60.0 (peer)", [benthos, "-c", f.name], None, n))
        if shutil.which("taskset"):
            res.append(run_measured("benthos, pinned to one core", ["taskset", "-c", "0", benthos, "-c", f.name], None,
                                    n))
        os.unlink(f.name)
    else:
        print("(no Go toolchain: Benthos peer skipped)")
    # Same job as the seeds' scripts would do it: dicts, a condition, discard.
    res.append(run_measured("python3 loop (peer)", [sys.executable, os.path.join(HERE, "peers", "b1_python.py"), str(n)],
                            None, n))
    return res


def report_b1(res):
    by = {r.name: r for r in res}
    s, sp = by.get("sluice generate->filter->null"), by.get("sluice, pinned to one core")
    print_ratio("sluice/benthos", s, by.get("benthos v4.60.0 (peer)"))
    print_ratio("sluice/benthos, both pinned to one core", sp, by.get("benthos, pinned to one core"))
    print_ratio("sluice/python3 loop", s, by.get("python3 loop (peer)"))
    print_ratio("sluice unpinned/pinned", s, sp)


def bench_startup_idle(args):
    """Start-up to /ready, and idle RSS with every built-in plugin loaded."""
    port = free_port()
    pipe = os.path.join(HERE, "pipelines", "idle.yaml")
    env = dict(os.environ, SLUICE_ADMIN_LISTEN=f"127.0.0.1:{port}")
    times, rss = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        p = subprocess.Popen([sluice_bin(args.build), "run", pipe], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        ok = wait_http(f"http://127.0.0.1:{port}/ready", time.monotonic() + 10)
        t = time.perf_counter() - t0
        if not ok:
            p.kill()
            raise RuntimeError("sluice never became ready")
        times.append(t)
        time.sleep(0.5)  # let start-up allocations settle before reading idle RSS
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss.append(int(line.split()[1]))
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
    times.sort()
    med = times[len(times) // 2]
    r = Result("sluice start-up to /ready (median)", med, 0.0, max(rss),
               extra={"min_ms": f"{times[0] * 1000:.1f}", "idle_rss_mib": f"{max(rss) / 1024:.1f}"})
    return [r]


# ---------------------------------------------------------------- Kafka (K1, K2)

class _Paths:
    """What tests/lib/sluice_test.MockCluster needs to find the helper."""

    def __init__(self, build):
        self.mock_cluster_bin = os.path.join(ROOT, build, "bin", "sluice-mock-cluster")


def _test_lib(needs_kafka_python=False):
    """tests/lib/sluice_test (MockCluster, ...), imported on first use so importing bench.py does no work."""
    if needs_kafka_python:
        try:
            import kafka  # noqa: F401 - Debian's python3-kafka creates the real broker's topics
        except ImportError:
            sys.exit("the real-broker benchmarks need Debian's python3-kafka: run bench.py with /usr/bin/python3")
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    import sluice_test  # noqa: E402 - tests/lib is put on the path only when a Kafka bench runs
    return sluice_test


def page_views(n, seed=1):
    """n page views as (key, JSON) pairs, the shape of seed 000's access log input."""
    import random
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        u, i = rnd.randint(1, 1000), rnd.randint(1, 5000)
        out.append((str(u), '{"user_id":%d,"item_id":%d}' % (u, i)))
    return out


def kcat_produce_file(bootstrap, topic, path, mock):
    """The kcat -P command that produces a file of KEY<TAB>JSON lines, one message per line."""
    argv = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-l", path]
    if mock:
        argv += ["-X", "receive.message.max.bytes=1000000000"]
    return argv


def access_log_pipeline(tmp, topic, group, sink_options=None):
    """pipelines/access-log.yaml's `access-log` pipeline as shipped (not its sample generator), with a
    fresh consumer group (and @sink_options on its file sink); KAFKA_BROKERS and ACCESS_LOG come from
    the environment as usual."""
    import yaml
    with open(os.path.join(ROOT, "pipelines", "access-log.yaml")) as f:
        doc = yaml.safe_load(f)
    pipeline = doc["pipelines"]["access-log"]
    pipeline["source"].update({"group": group, "topics": [topic]})
    pipeline["sinks"][0].update(sink_options or {})
    path = os.path.join(tmp, f"access-log.{group}.yaml")
    with open(path, "w") as f:
        yaml.safe_dump({"pipelines": {"access-log": pipeline}}, f)
    return path


def warm_up_group(bootstrap, topic, group, kcat_options=()):
    """The first group on a fresh broker creates __consumer_offsets during its join: a throwaway group
    (kcat reading one message) pays for that, not the first contestant."""
    subprocess.run(["kcat", "-b", bootstrap, "-G", group, "-q", "-c", "1", "-o", "beginning",
                    "-X", "auto.offset.reset=earliest"] + list(kcat_options) + [topic], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


def kafka_contestants(args, bootstrap, topic, n, mock, tmp, tag):
    """K1 on one cluster: sluice, kcat -G (defaults, then sluice's fetch settings), kafka-python; each with a
    fresh group, one after the other."""
    res = []
    big = ["-X", "receive.message.max.bytes=1000000000"] if mock else []
    run = f"{tag}-{os.getpid()}-{int(time.time())}"
    warm_up_group(bootstrap, topic, f"warm-up-{run}", big)

    out = os.path.join(tmp, "sluice.log")
    env = {"KAFKA_BROKERS": bootstrap, "ACCESS_LOG": out, "SLUICE_ADMIN_LISTEN": "off"}
    pipe = access_log_pipeline(tmp, topic, f"sluice-{run}")
    res.append(run_until_lines(f"sluice kafka->file ({tag})", [sluice_bin(args.build), "run", pipe], out, n, env))

    # The shipped pipeline fsyncs every write before acknowledging it; the peers never fsync. With
    # `fsync: interval` lines are acknowledged once written to the OS (a process crash loses
    # nothing, as with the peers) and fsynced every second.
    out = os.path.join(tmp, "sluice-interval.log")
    env = dict(env, ACCESS_LOG=out)
    pipe = access_log_pipeline(tmp, topic, f"sluice-interval-{run}", {"fsync": "interval"})
    res.append(run_until_lines(f"sluice, fsync: interval ({tag})", [sluice_bin(args.build), "run", pipe], out, n,
                               env))

    out = os.path.join(tmp, "kcat.log")
    with open(out, "wb") as f:
        res.append(run_until_lines(f"kcat -G ({tag})",
                                   ["kcat", "-b", bootstrap, "-G", f"kcat-{run}", "-e", "-q", "-f", "%s\n",
                                    "-X", "auto.offset.reset=earliest"] + big + [topic], out, n, stdout=f))

    # kcat again with the fetch settings sluice's kafka source uses by default, so the ratio to
    # librdkafka itself is shown both ways.
    out = os.path.join(tmp, "kcat-tuned.log")
    with open(out, "wb") as f:
        res.append(run_until_lines(f"kcat -G, sluice's fetch settings ({tag})",
                                   ["kcat", "-b", bootstrap, "-G", f"kcat-tuned-{run}", "-e", "-q", "-f", "%s\n",
                                    "-X", "auto.offset.reset=earliest", "-X", "queued.min.messages=1000000",
                                    "-X", "fetch.wait.max.ms=100"] + big + [topic], out, n, stdout=f))

    out = os.path.join(tmp, "python.log")
    res.append(run_until_lines(f"kafka-python, seed 000 ({tag})",
                               ["/usr/bin/python3", os.path.join(HERE, "peers", "k1_kafka_python.py"), bootstrap,
                                topic, f"python-{run}", out, str(n)], out, n))
    return res


def report_k1(res):
    for s in res[:2]:
        for r in res[2:]:
            print_ratio(f"steady {s.name.split(' (')[0]} / {r.name}", s, r, "steady")


def preload(bootstrap, topic, views, tmp, mock, what="page views"):
    """Produces (key, value) pairs to @topic with kcat -P (one message per pair); returns the TSV file."""
    path = os.path.join(tmp, f"{topic}.tsv")
    with open(path, "w") as f:
        for k, v in views:
            f.write(f"{k}\t{v}\n")
    t0 = time.perf_counter()
    subprocess.run(kcat_produce_file(bootstrap, topic, path, mock), check=True, stderr=subprocess.PIPE)
    print(f"(preloaded {len(views):,} {what} on {topic} in {time.perf_counter() - t0:.1f} s)", flush=True)
    return path


def bench_k1(args):
    """K1: 1M page views on a 16-partition topic of the mock cluster -> two-column log; sluice, kcat -G, kafka-python."""
    lib = _test_lib()
    n = args.k_events
    with tempfile.TemporaryDirectory(prefix="sluice-k1-") as tmp, \
            lib.MockCluster(_Paths(args.build), brokers=3, topics=[("page-views", 16)]) as mc:
        print(f"(mock cluster {mc.bootstrap}: sluice-mock-cluster, 3 brokers)", flush=True)
        preload(mc.bootstrap, "page-views", page_views(n), tmp, True)
        res = kafka_contestants(args, mc.bootstrap, "page-views", n, True, tmp, "mock")
    return res


def bench_k1_real(args):
    """K1 on a real Apache Kafka broker (tests/fixtures/kafka, one KRaft node)."""
    lib = _test_lib(needs_kafka_python=True)
    from kafka_broker import KafkaBroker
    n = args.k_events
    with tempfile.TemporaryDirectory(prefix="sluice-k1-") as tmp, KafkaBroker(partitions=16) as broker:
        broker.create_topic("page-views", partitions=16)
        preload(broker.bootstrap, "page-views", page_views(n), tmp, False)
        res = kafka_contestants(args, broker.bootstrap, "page-views", n, False, tmp, "real broker")
    del lib
    return res


def k2_contestants(args, bootstrap, n, mock, tmp, tag, make_topic):
    views = page_views(n, seed=2)
    path = os.path.join(tmp, "k2.tsv")
    with open(path, "w") as f:
        for k, v in views:
            f.write(f"{k}\t{v}\n")
    make_topic("k2-sluice")
    make_topic("k2-kcat")
    env = {"KAFKA_BROKERS": bootstrap, "K2_TOPIC": "k2-sluice", "BENCH_EVENTS": str(n), "SLUICE_ADMIN_LISTEN": "off"}
    pipe = os.path.join(HERE, "pipelines", "k2-generate-kafka.yaml")
    res = [run_measured(f"sluice generate->kafka ({tag})", [sluice_bin(args.build), "run", pipe], env, n)]
    res.append(run_measured(f"kcat -P ({tag})", kcat_produce_file(bootstrap, "k2-kcat", path, mock), None, n))
    # Each write() waits for the delivery reports of its batch before the next starts (concurrency 1,
    # order kept): a fixed cost per batch, so the same with 10000 events per write.
    import yaml
    with open(pipe) as f:
        doc = yaml.safe_load(f)
    doc["pipelines"]["k2"]["queue_max_events"] = 20000
    doc["pipelines"]["k2"]["sinks"][0]["batch_max_events"] = 10000
    big = os.path.join(tmp, "k2-big-batches.yaml")
    with open(big, "w") as f:
        yaml.safe_dump(doc, f)
    make_topic("k2-sluice-big")
    env["K2_TOPIC"] = "k2-sluice-big"
    res.append(run_measured(f"sluice, 10000 events per write ({tag})", [sluice_bin(args.build), "run", big], env, n))
    return res


def bench_k2(args):
    """K2: generate -> kafka (acknowledged on delivery) beside kcat -P of the same number of page views (mock cluster)."""
    lib = _test_lib()
    n = args.k_events
    with tempfile.TemporaryDirectory(prefix="sluice-k2-") as tmp, \
            lib.MockCluster(_Paths(args.build), brokers=3, topics=[]) as mc:
        res = k2_contestants(args, mc.bootstrap, n, True, tmp, "mock", lambda t: mc.command(f"topic {t} 16"))
    return res


def bench_k2_real(args):
    """K2 on a real Apache Kafka broker."""
    _test_lib(needs_kafka_python=True)
    from kafka_broker import KafkaBroker
    n = args.k_events
    with tempfile.TemporaryDirectory(prefix="sluice-k2-") as tmp, KafkaBroker(partitions=16) as broker:
        res = k2_contestants(args, broker.bootstrap, n, False, tmp, "real broker",
                             lambda t: broker.create_topic(t, partitions=16))
    return res


def report_k2(res):
    print_ratio("sluice/kcat -P", res[0], res[1])
    print_ratio("sluice (10000 events per write)/kcat -P", res[2], res[1])


# ---------------------------------------------------------------- Elasticsearch (E0, E1): es_bench.py

def bench_e0(args):
    """E0: the elasticsearch sink's CPU per document against a null server (sluice CPU, ES sink minus null sink)"""
    import es_bench
    return es_bench.bench_e0(args)


def bench_e1(args):
    """E1: listings on Kafka -> a real OpenSearch node: node limit, sluice, helpers.bulk, seed's es.index()"""
    import es_bench
    return es_bench.bench_e1(args)


def report_e0(res):
    import es_bench
    es_bench.report_e0(res)


def report_e1(res):
    import es_bench
    es_bench.report_e1(res)


def bench_a1(args):
    """A1: generate -> aggregate (count by item_id, 1 s windows) -> null; Python json.loads + Counter"""
    import a1_bench
    return a1_bench.bench_a1(args)


def report_a1(res):
    import a1_bench
    a1_bench.report_a1(res)


def bench_x1(args):
    """X1: listings -> the sink -> embedded index vs an OpenSearch node (docs/s, CPU, RSS, disk); queries/s, p99"""
    import x1_bench
    return x1_bench.bench_x1(args)


def bench_t1(args):
    """T1: one `sluice tap` listening to generate -> filter -> null, N events, against none"""
    import t1_bench
    return t1_bench.bench_t1(args)


def report_t1(res):
    import t1_bench
    t1_bench.report_t1(res)


def bench_s1(args):
    """S1: wrk on the SRP's /api/search, embedded index and OpenSearch, beside the node's own _search"""
    import s1_bench
    return s1_bench.bench_s1(args)


def report_s1(res):
    import s1_bench
    s1_bench.report_s1(res)


BENCHES = {"b1": bench_b1, "startup": bench_startup_idle, "k1": bench_k1, "k1-real": bench_k1_real,
           "k2": bench_k2, "k2-real": bench_k2_real, "e0": bench_e0, "e1": bench_e1, "a1": bench_a1,
           "x1": bench_x1, "t1": bench_t1, "s1": bench_s1}
REPORTS = {"b1": report_b1, "k1": report_k1, "k1-real": report_k1, "k2": report_k2, "k2-real": report_k2,
           "e0": report_e0, "e1": report_e1, "a1": report_a1, "t1": report_t1, "s1": report_s1}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--k-events", type=int, default=1_000_000, help="page views for K1 and K2")
    ap.add_argument("--e-events", type=int, default=1_000_000, help="listings for E1")
    ap.add_argument("--seed-events", type=int, default=20_000,
                    help="listings for E1's seed peer (one es.index() per message: slow)")
    ap.add_argument("--e0-events", type=int, default=1_000_000, help="documents for E0")
    ap.add_argument("--es-batch", type=int, default=5000, help="documents per bulk request in E0 and E1")
    ap.add_argument("--es-concurrency", type=int, default=2, help="bulk requests in flight in E0 and E1")
    ap.add_argument("--a-events", type=int, default=10_000_000, help="page views for A1")
    ap.add_argument("--a-items", type=int, default=50_000, help="distinct items for A1")
    ap.add_argument("--x1-listings", type=int, default=100_000, help="listings for X1")
    ap.add_argument("--x1-queries", type=int, default=10_000, help="queries per index for X1")
    ap.add_argument("--x1-heap", default="512m", help="the OpenSearch node's heap for X1")
    ap.add_argument("--s1-listings", type=int, default=10_000, help="listings for S1")
    ap.add_argument("--s1-duration", type=int, default=10, help="seconds of each wrk run of S1 (after the warm-up)")
    ap.add_argument("--s1-warmup", type=int, default=3, help="seconds of wrk before each measured S1 run")
    ap.add_argument("--s1-connections", type=int, default=32, help="wrk connections for S1")
    ap.add_argument("--s1-srp-option", action="append", metavar="KEY=JSON",
                    help="an option of S1's srp sources (e.g. search_threads=8); repeatable")
    ap.add_argument("names", nargs="*", default=["b1", "startup"])
    args = ap.parse_args()
    for name in args.names:
        if name not in BENCHES:
            sys.exit(f"unknown benchmark {name}; known: {', '.join(BENCHES)}")
        print(f"## {name}: {BENCHES[name].__doc__.strip().splitlines()[0]}")
        results = BENCHES[name](args)
        for r in results:
            if r is not None:  # None: a contestant without a valid result (it said why)
                print(r.row())
        report = REPORTS.get(name)
        if report:
            report(results)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
