#!/usr/bin/python3
"""SIGTERM under load: sluice consumes a large topic (mock cluster helper, 8 partitions) into a file;
SIGTERM midway. The file is written by the test-only `slow` sink (fsync per write, then a delay), so
that the topic cannot be drained before the signal however fast the machine is; a remap puts each
message's partition and offset into the line. After the graceful stop, the group's committed offsets (read with python3-kafka's
committed()) equal, partition by partition, exactly what was written: offset of the last line + 1.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import (MockCluster, Sluice, check, committed_offsets, count_lines, kcat_produce,  # noqa: E402
                         read_lines, run, wait_until)

PARTITIONS = 8
PER_PARTITION = 15000


def main(env):
    total = PARTITIONS * PER_PARTITION
    with MockCluster(env, brokers=3, topics=[("load", PARTITIONS)]) as cluster:
        for p in range(PARTITIONS):
            kcat_produce(cluster.bootstrap, "load", ['{"n": %d}' % (p * PER_PARTITION + i) for i in range(PER_PARTITION)],
                         partition=p)
        out = env.path("load.log")
        pipeline = env.write("sigterm.yaml", """
pipelines:
  load:
    source:
      type: kafka
      brokers: "%s"
      topics: [load]
      group: sigterm
      start: earliest
      batch_size: 500
      commit_interval: 5s
    transforms:
      - type: remap
        operations:
          - set: {p: "{meta.partition}", o: "{meta.offset}"}
    sinks:
      - type: slow
        path: %s
        delay: 20ms
        batch_max_events: 200
""" % (cluster.bootstrap, out))
        with Sluice(env, [pipeline], name="sigterm", test_plugins=["slow"]) as s:
            wait_until(lambda: s.check_alive() or count_lines(out) >= total // 4, 40, "a quarter of the topic written")
            code = s.stop(30)
            check(code == 0, "sluice exited %s on SIGTERM:\n%s" % (code, s.log_tail()))
        lines = read_lines(out)
        check(len(lines) < total, "everything (%d) was written before SIGTERM: not under load" % len(lines))
        committed = committed_offsets(cluster.bootstrap, "sigterm", "load", PARTITIONS)

    per_partition = {p: [] for p in range(PARTITIONS)}
    for line in lines:
        doc = json.loads(line)
        per_partition[int(doc["p"])].append(int(doc["o"]))
    for p, offsets in per_partition.items():
        check(offsets == list(range(len(offsets))), "partition %d: written offsets are not 0..%d" % (p, len(offsets) - 1))
        want = len(offsets) if offsets else -1
        got = committed[p]
        check(got == want or (not offsets and got in (-1, 0)),
              "partition %d: committed %s, but %d lines were written (expected %d)" % (p, got, len(offsets), want))
    print("sent=%d written=%d at SIGTERM; committed offsets %s equal the lines written per partition"
          % (total, len(lines), [committed[p] for p in range(PARTITIONS)]), flush=True)


if __name__ == "__main__":
    run(main)
