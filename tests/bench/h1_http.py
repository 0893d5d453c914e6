#!/usr/bin/env python3
"""H1: HTTP ingest, seed 001's `POST /clicks` into Kafka, answered after delivery.

    python3 tests/bench/h1_http.py [--build build] [--duration 10] [--connections 32]

wrk (Debian) posts the seed's click JSON for --duration seconds over --connections keep-alive
connections, first against `sluice run pipelines/clicks.yaml` (answer: ack, the default), then in the
same run against the seed's Flask + kafka-python app (peers/h1_flask.py). Both write to the same
librdkafka mock cluster, in a process of its own (build/bin/sluice-mock-cluster). Reports requests/s,
p99 latency, non-2xx answers, CPU and peak RSS of the server process, and the ratio.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import HERE, ROOT, Result, free_port, proc_cpu, sluice_bin  # noqa: E402

CLICK = ('{"visitor_platform": "mobile","ts_ingest": 1515819844345,"article_title": "Cercanías San Sebastián",'
         '"visitor_country": "BE","visitor_page_timer": 0,"visitor_os": "ios","article": '
         '"https://en.wikipedia.org/wiki/Cercan%C3%ADas_San_Sebasti%C3%A1n","visitor_page_height": 0,'
         '"visitor_browser": "unknown"}')


class MockCluster:
    def __init__(self, build):
        exe = os.path.join(ROOT, build, "bin", "sluice-mock-cluster")
        self.proc = subprocess.Popen([exe, "--brokers", "1", "clicks:4"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("BOOTSTRAP="):
            raise RuntimeError(f"mock cluster printed {line!r}")
        self.bootstrap = line.split("=", 1)[1]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


def wait_post(url, deadline):
    while time.monotonic() < deadline:
        p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                            "-H", "Content-Type: application/json", "--data", CLICK, url], stdout=subprocess.PIPE)
        if p.stdout == b"200":
            return True
        time.sleep(0.1)
    return False


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def run_wrk(name, url, args, tmp, pid):
    script = os.path.join(tmp, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.body = [[%s]]\n' % CLICK)
    cpu0 = proc_cpu(pid)
    out = subprocess.run(["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
                          "--latency", "-s", script, url], stdout=subprocess.PIPE, text=True, check=True).stdout
    cpu = proc_cpu(pid) - cpu0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    extra = {"p50_ms": f"{p50:.2f}", "p99_ms": f"{p99:.2f}", "non2xx": non2xx.group(1) if non2xx else "0"}
    if errors:
        extra["socket_errors"] = errors.group(1).replace(" ", "")
    r = Result(name, float(args.duration), cpu, proc_status(pid, "VmHWM"), total, extra)
    r.rps = rps
    return r


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--pipeline", default=os.path.join(ROOT, "pipelines", "clicks.yaml"),
                    help="the sluice pipeline (default: the shipped clicks.yaml)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found (apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="sluice-h1-")
    cluster = MockCluster(args.build)
    results = []
    try:
        port = free_port()
        env = dict(os.environ, KAFKA_BROKERS=cluster.bootstrap, INGEST_LISTEN=f"127.0.0.1:{port}",
                   SLUICE_ADMIN_LISTEN="off")
        p = subprocess.Popen([sluice_bin(args.build), "run", os.path.abspath(args.pipeline)],
                             env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "sluice.log"), "w"))
        try:
            if not wait_post(f"http://127.0.0.1:{port}/clicks", time.monotonic() + 30):
                raise RuntimeError("sluice did not answer 200; see " + tmp)
            results.append(run_wrk("sluice clicks.yaml (answer after ack)", f"http://127.0.0.1:{port}/clicks",
                                   args, tmp, p.pid))
        finally:
            stop(p)
        if not args.skip_peer:
            port = free_port()
            p = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "peers", "h1_flask.py"), str(port),
                                  cluster.bootstrap], stdout=subprocess.DEVNULL,
                                 stderr=open(os.path.join(tmp, "flask.log"), "w"))
            try:
                if not wait_post(f"http://127.0.0.1:{port}/clicks", time.monotonic() + 30):
                    raise RuntimeError("the Flask peer did not answer 200; see " + tmp)
                results.append(run_wrk("Flask + kafka-python (seed 001)", f"http://127.0.0.1:{port}/clicks",
                                       args, tmp, p.pid))
            finally:
                stop(p)
    finally:
        cluster.close()
    print(f"## H1: wrk -c{args.connections} -d{args.duration}s POST /clicks (seed 001 JSON), mock cluster")
    for r in results:
        print(f"{r.name:<40} {r.rps:>10,.0f} req/s  p50 {r.extra['p50_ms']:>7} ms  p99 {r.extra['p99_ms']:>7} ms  "
              f"non-2xx {r.extra['non2xx']}  cpu {r.cpu:6.1f}s  peak RSS {r.peak_rss_kb / 1024:6.1f} MiB"
              + (f"  socket errors {r.extra['socket_errors']}" if "socket_errors" in r.extra else ""))
    if len(results) == 2 and results[1].rps > 0:
        print(f"ratio sluice/Flask: {results[0].rps / results[1].rps:.1f}x")


if __name__ == "__main__":
    main()
