"""T1: what one `sluice tap` listening costs a busy pipeline (run it through bench.py: `bench.py t1`).

`pipelines/b1-generate-filter-null.yaml` (N page views, default 5M, generated, filtered, dropped), run
alternately without a tap and with one `sluice tap b1` (the filter's output, 100 events/s, the default)
attached as soon as the admin endpoint answers /ready, three times each; the medians' ratio is the cost.
"""
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import HERE, Result, free_port, run_measured, sluice_bin, wait_http  # noqa: E402

PIPE = os.path.join(HERE, "pipelines", "b1-generate-filter-null.yaml")


def one_run(args, n, with_tap):
    port = free_port()
    env = {"BENCH_EVENTS": str(n), "SLUICE_ADMIN_LISTEN": "127.0.0.1:%d" % port}
    taps = []

    def attach():
        if wait_http("http://127.0.0.1:%d/ready" % port, time.monotonic() + 10):
            taps.append(subprocess.Popen([sluice_bin(args.build), "tap", "b1", "--admin", "127.0.0.1:%d" % port],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))

    t = threading.Thread(target=attach) if with_tap else None
    if t:
        t.start()
    r = run_measured("with a tap" if with_tap else "no tap", [sluice_bin(args.build), "run", PIPE], env, n)
    if t:
        t.join()
        lines = 0
        for p in taps:
            out, _ = p.communicate(timeout=30)
            lines += len(out.splitlines())
        r.extra["tapped"] = lines
    return r


def bench_t1(args):
    n = args.events
    runs = {False: [], True: []}
    for _ in range(3):
        for with_tap in (False, True):
            runs[with_tap].append(one_run(args, n, with_tap))
    out = []
    for with_tap, rs in runs.items():
        med = sorted(rs, key=lambda r: r.wall)[1]
        out.append(Result(("median with one tap" if with_tap else "median without a tap"), med.wall, med.cpu,
                          med.peak_rss_kb, n, dict(med.extra, walls=",".join("%.2f" % r.wall for r in rs))))
    return out


def report_t1(res):
    no_tap, tap = res
    print(f"with one tap / without: {tap.rate / no_tap.rate:.3f} of the events/s "
          f"(spread of the walls without a tap: {statistics.pstdev(float(w) for w in no_tap.extra['walls'].split(',')):.3f} s)")
