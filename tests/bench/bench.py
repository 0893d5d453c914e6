#!/usr/bin/env python3
"""sluice benchmark harness.

Runs a pipeline as a whole process and reports wall time, events/s, CPU
seconds and peak RSS, with peers' commands measured in the same run so the
figures are ratios, not absolute claims. Not part of the test suite.

    python3 tests/bench/bench.py [--build build] [NAME...]

NAME is one of the benchmarks below (default: all that need no broker).
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


def run_measured(name, argv, env=None, events=None, stdin=None, stdout=subprocess.DEVNULL):
    """Runs argv to completion; CPU and peak RSS come from wait4's rusage of that child only."""
    full_env = dict(os.environ, **(env or {}))
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=full_env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{name}: exit {p.returncode}\n{err[-2000:]}")
    return Result(name, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, events)


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


def bench_b1(args):
    """generate -> filter -> null, N events; peer: the same loop in Python."""
    n = args.events
    pipe = os.path.join(HERE, "pipelines", "b1-generate-filter-null.yaml")
    env = {"BENCH_EVENTS": str(n), "SLUICE_ADMIN_LISTEN": "off"}
    res = [run_measured("sluice generate->filter->null", [sluice_bin(args.build), "run", pipe], env, n)]
    # Same job as the seeds' scripts would do it: dicts, a condition, discard.
    res.append(run_measured("python3 loop (peer)", [sys.executable, os.path.join(HERE, "peers", "b1_python.py"), str(n)],
                            None, n))
    # One core: taskset pins sluice to CPU 0 (whole process).
    if shutil.which("taskset"):
        res.append(run_measured("sluice, pinned to one core", ["taskset", "-c", "0", sluice_bin(args.build), "run", pipe],
                                env, n))
    return res


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


BENCHES = {"b1": bench_b1, "startup": bench_startup_idle}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("names", nargs="*", default=["b1", "startup"])
    args = ap.parse_args()
    for name in args.names:
        if name not in BENCHES:
            sys.exit(f"unknown benchmark {name}; known: {', '.join(BENCHES)}")
        print(f"## {name}: {BENCHES[name].__doc__.strip().splitlines()[0]}")
        results = BENCHES[name](args)
        for r in results:
            print(r.row())
        if len(results) > 1 and results[0].rate and results[1].rate:
            print(f"ratio sluice/peer: {results[0].rate / results[1].rate:.1f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
