#!/usr/bin/python3
"""At-least-once across kill -9 for the file source: 200k NDJSON lines, file source -> file sink
(fsync per batch). The daemon is killed with SIGKILL midway, once a checkpoint is stored; the
restarted one resumes from the checkpoint (not from line 1), reads to the end and exits by itself
(a finite source); every line is then in the output at least once, the duplicates are only what the
first run wrote past its last checkpoint, and a third, clean run adds nothing.
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from sluice_test import Sluice, check, count_lines, read_lines, run, wait_until  # noqa: E402

TOTAL = 200000


def main(env):
    src = env.path("in.jsonl")
    with open(src, "w") as f:
        for i in range(TOTAL):
            f.write('{"n": %d, "pad": "%s"}\n' % (i, "x" * 40))
    out = env.path("out", "copy.jsonl")
    # A relative source path: relative to the daemon's working directory (the test's directory).
    pipeline = env.write("copy.yaml", """
pipelines:
  copy:
    source: {type: file, path: in.jsonl, format: ndjson, batch_size: 100}
    sinks:
      - {type: file, path: %s, format: json, fsync: batch, batch_max_events: 100}
""" % json.dumps(out))

    first = Sluice(env, [pipeline], name="daemon")
    checkpoints = os.path.join(first.data_dir(), "file-source", "copy-*.json")
    with first:
        wait_until(lambda: first.check_alive() or (glob.glob(checkpoints) and count_lines(out) >= 20000), 60,
                   "a stored checkpoint and 20000 lines written", interval=0.005)
        first.kill9()
    before = count_lines(out)
    with open(glob.glob(checkpoints)[0]) as f:
        cp = json.load(f)
    print("killed -9 after %d lines written; checkpoint at line %d (byte %d)" % (before, cp["line"], cp["offset"]),
          flush=True)
    check(before < TOTAL, "the first run wrote everything (%d) before the kill: nothing tested" % before)
    check(0 < cp["line"] <= before, "checkpoint at line %d, but %d lines were written" % (cp["line"], before))

    second = Sluice(env, [pipeline], name="daemon")
    with second:
        code = second.wait_exit(120)  # a finite source: the daemon drains and exits
        check(code == 0, "the restarted sluice exited with %s:\n%s" % (code, second.log_tail()))
        check("resuming at byte %d" % cp["offset"] in second.log_text(),
              "the restarted sluice did not resume from the checkpoint:\n" + second.log_tail())

    # A kill -9 in the middle of the sink's write(2) may leave the first part of a line, which the
    # next run's first line is appended to: that one line at the kill point is not JSON. The next run
    # starts at the checkpoint, at or before what the first run wrote whole, so nothing is lost with it.
    ns, torn = [], []
    for i, line in enumerate(read_lines(out)):
        try:
            ns.append(json.loads(line)["n"])
        except ValueError:
            torn.append(i)
    check(torn in ([], [before - 1], [before]), "lines %r are not JSON (the kill was after line %d)" % (torn, before))
    missing = set(range(TOTAL)) - set(ns)
    check(not missing, "lost %d lines, e.g. %r" % (len(missing), sorted(missing)[:5]))
    duplicates = len(ns) - TOTAL
    check(duplicates <= before - cp["line"],
          "%d duplicates, more than the %d lines written past the checkpoint" % (duplicates, before - cp["line"]))
    print("%d lines, %d duplicates (written before the kill past the checkpoint: %d)"
          % (len(ns), duplicates, before - cp["line"]), flush=True)

    third = Sluice(env, [pipeline], name="daemon")
    with third:
        code = third.wait_exit(60)
        check(code == 0, "the third sluice exited with %s:\n%s" % (code, third.log_tail()))
    written = len(ns) + len(torn)
    check(count_lines(out) == written, "a clean run after the end added %d lines" % (count_lines(out) - written))


if __name__ == "__main__":
    run(main)
