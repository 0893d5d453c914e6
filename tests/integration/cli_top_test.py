#!/usr/bin/env python3
"""`sluice top` against a running daemon, as a user watches it from a second terminal: in a real
terminal (tmux, 80x24: send-keys, capture-pane) it shows every pipeline and component with rates and
totals that agree with /metrics, `s` changes the sort, `/` filters the pipelines, `q` quits; without
a terminal it prints the same lines once a second and stops after --iterations."""
import re
import shutil
import subprocess
import sys
import time
import os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import Sluice, check, run, wait_until  # noqa: E402

PIPELINES = """
pipelines:
  views:
    source: {type: generate, rate: 2000, template: {user_id: "{random_int:1:100}", item_id: "{random_int:1:50}"}}
    transforms:
      - type: filter
        conditions: [{field: user_id, op: "<=", value: 50}]
    sinks: [{type: "null"}]
  trickle:
    source: {type: generate, rate: 20}
    sinks: [{type: "null"}]
"""


def number(text):
    """12.3k -> 12300: the figures top prints."""
    m = re.fullmatch(r"([0-9.]+)([kMG]?)", text)
    check(m, "not a figure: %r" % text)
    return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]


def sink_row(screen, pipeline):
    """The columns of the `sink null` row under @pipeline's title line."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(pipeline + "  "):
            for row in lines[i + 1:]:
                if not row.startswith("  "):
                    break
                if row.startswith("  sink null"):
                    return row.split()
    return None


def main(env):
    check(shutil.which("tmux"), "tmux is not installed (scripts/install-deps.sh installs it)")
    with Sluice(env, [env.write("p.yaml", PIPELINES)], admin=True) as d:
        wait_until(lambda: (d.metric("sluice_events_out_total") or 0) > 500, 30, "the pipelines running")

        # Without a terminal: plain lines, --iterations of them, then exit 0.
        out = subprocess.run([env.bin, "top", "--admin", d.admin, "--iterations", "2"], capture_output=True,
                             text=True, timeout=30)
        check(out.returncode == 0, "top --iterations 2: exit %d: %s" % (out.returncode, out.stderr))
        blocks = [b for b in out.stdout.split("\n\n") if b.strip()]
        check(len(blocks) == 2, "expected 2 refreshes, got %d:\n%s" % (len(blocks), out.stdout))
        row = sink_row(blocks[-1], "views")
        check(row is not None, "no `sink null` row under views:\n" + blocks[-1])
        # sink null: IN/s OUT/s FAIL/s DLQ/s QUEUE LAT OUT — about half of 2000/s pass the filter.
        check(500 <= number(row[3]) <= 1500, "views' sink rate %s, expected about 1000/s:\n%s" % (row[3], blocks[-1]))
        check(row[4] == "0" and row[5] == "0", "failures shown where there are none: %s" % row)

        # In a terminal.
        server = "sluice-top-test-%d" % os.getpid()
        tmux = ["tmux", "-L", server, "-f", "/dev/null"]
        try:
            subprocess.run(tmux + ["new-session", "-d", "-x", "80", "-y", "24",
                                   "%s top --admin %s" % (env.bin, d.admin)], check=True, timeout=30)

            def screen():
                return subprocess.run(tmux + ["capture-pane", "-p"], capture_output=True, text=True,
                                      timeout=10).stdout

            def rated():
                r = sink_row(screen(), "views")
                return r is not None and r[3] != "-"
            wait_until(rated, 30, "top showing rates for the views pipeline")
            before = d.metric("sluice_null_events_total")
            shown = screen()
            after = d.metric("sluice_null_events_total")
            check(all(len(line) <= 80 for line in shown.splitlines()), "a line wider than 80 columns:\n" + shown)
            for text in ("views  running", "trickle  running", "source generate", "transform filter", "sink null",
                         "dlq default", "q quit", "NOTES"):
                check(text in shown, "%r is not on the screen:\n%s" % (text, shown))
            # Totals agree with /metrics: the sinks' OUT totals, read between two metric reads.
            totals = sum(number(sink_row(shown, p)[-1]) for p in ("views", "trickle"))
            check(0.95 * before <= totals <= after * 1.05 + 50,
                  "top shows %d sink events, /metrics said %d then %d:\n%s" % (totals, before, after, shown))
            # Busiest first by default (out/s): views above trickle; `s` sorts by failures, then by name.
            check(shown.index("views  running") < shown.index("trickle  running"), "not sorted by out/s:\n" + shown)
            subprocess.run(tmux + ["send-keys", "s"], check=True)
            wait_until(lambda: "sort: failed" in screen(), 10, "the sort to change to failed")
            subprocess.run(tmux + ["send-keys", "s"], check=True)
            wait_until(lambda: "sort: name" in screen(), 10, "the sort to change to name")
            s = screen()
            check(s.index("trickle  running") < s.index("views  running"), "not sorted by name:\n" + s)
            subprocess.run(tmux + ["send-keys", "/", "trick", "Enter"], check=True)
            wait_until(lambda: "filter: trick" in screen(), 10, "the filter")
            s = screen()
            check("trickle  running" in s and "views  running" not in s, "the filter did not apply:\n" + s)
            subprocess.run(tmux + ["send-keys", "q"], check=True)
            wait_until(lambda: subprocess.run(tmux + ["has-session"], capture_output=True).returncode != 0, 10,
                       "top to quit on q")
        finally:
            subprocess.run(tmux + ["kill-server"], capture_output=True)

        # A daemon that is not there: a clear error, exit 1.
        d.check_alive()
    gone = subprocess.run([env.bin, "top", "--admin", "127.0.0.1:1", "--iterations", "1"], capture_output=True,
                          text=True, timeout=30)
    check(gone.returncode == 1 and "cannot poll" in gone.stdout, "top against nothing: %d %r" % (
        gone.returncode, gone.stdout))


run(main)
