#!/usr/bin/python3
"""At-least-once across kill -9: pipelines/access-log.yaml against a mock cluster hosted in a helper
process (16 partitions, 400k page views preloaded). sluice is killed with SIGKILL midway and restarted;
in the end every view is in the access log, and the only duplicates are, per partition, a contiguous
tail of what was written before the kill (the unacknowledged / uncommitted tail).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import (MockCluster, Sluice, check, committed_offsets, count_lines,  # noqa: E402
                         derived_access_log_pipeline, kcat_produce, read_lines, run, wait_until)

PARTITIONS = 16
PER_PARTITION = 25000  # 400k in all
STRIDE = 1000000       # user_id = partition * STRIDE + sequence within the partition


def main(env):
    total = PARTITIONS * PER_PARTITION
    with MockCluster(env, brokers=3, topics=[("page-views", PARTITIONS)]) as cluster:
        t0 = time.monotonic()
        for p in range(PARTITIONS):
            kcat_produce(cluster.bootstrap, "page-views",
                         ['{"user_id": %d, "item_id": %d}' % (p * STRIDE + i, i % 5000) for i in range(PER_PARTITION)],
                         partition=p)
        print("preloaded %d views on %d partitions in %.1f s" % (total, PARTITIONS, time.monotonic() - t0), flush=True)

        out = env.path("data", "access.log")
        run_env = {"KAFKA_BROKERS": cluster.bootstrap, "ACCESS_LOG": out}
        # The access-log pipeline as shipped, with a session timeout short enough that the restarted
        # process gets the killed one's partitions within the test's time. It drains 400k views in
        # well under a second, so to kill it midway with both a committed part and a tail: commits
        # every 100 ms, and 100 lines per fsynced write (at least 4000 fsyncs in all).
        pipeline = derived_access_log_pipeline(env, {"rdkafka.session.timeout.ms": 6000,
                                                     "rdkafka.heartbeat.interval.ms": 500,
                                                     "commit_interval": "100ms"},
                                               {"batch_max_events": 100})
        first = Sluice(env, [pipeline], extra_env=run_env, name="first", admin=True)
        with first:
            # Kill once some offsets are committed, so both a committed part and a tail exist.
            wait_until(lambda: first.check_alive() or (first.metric("sluice_kafka_commits_total") or 0) >= 1, 40,
                       "a first offset commit (sluice_kafka_commits_total)", interval=0.01)
            # ... and once more lines are written after it: those are the uncommitted tail.
            after_commit = count_lines(out)
            wait_until(lambda: first.check_alive() or count_lines(out) >= min(after_commit + 5000, total), 20,
                       "lines written after the first commit", interval=0.005)
            first.kill9()
        before = read_lines(out)
        check(len(before) < total, "the first run wrote everything (%d) before the kill: nothing tested" % len(before))
        committed = committed_offsets(cluster.bootstrap, "access-logger", "page-views", PARTITIONS)
        print("killed -9 after %d lines; %d offsets committed"
              % (len(before), sum(max(c, 0) for c in committed.values())), flush=True)

        second = Sluice(env, [pipeline], extra_env=run_env, name="second")
        with second:
            def all_written():
                second.check_alive()
                return count_lines(out) >= total and len(set(read_lines(out))) >= total
            wait_until(all_written, 45, "all %d views in the log after the restart" % total, interval=0.25)
            check(second.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + second.log_tail())

    lines = read_lines(out)
    ids = []
    for line in lines:
        user, _, item = line.partition("\t")
        ids.append(int(user))
    unique = set(ids)
    expected = {p * STRIDE + i for p in range(PARTITIONS) for i in range(PER_PARTITION)}
    check(unique == expected, "lost %d views, e.g. %r; unexpected %r"
          % (len(expected - unique), sorted(expected - unique)[:5], sorted(unique - expected)[:5]))
    duplicates = len(ids) - len(unique)

    # Per partition: what the first run wrote is a prefix 0..k; the duplicates must be a tail c..k of it.
    first_run = [int(line.partition("\t")[0]) for line in before]
    for p in range(PARTITIONS):
        written = sorted(i - p * STRIDE for i in first_run if i // STRIDE == p)
        check(written == list(range(len(written))), "partition %d: first run wrote out of order / with gaps" % p)
        seen, dups = set(), set()
        for i in ids:
            if i // STRIDE == p:
                (dups if i in seen else seen).add(i)
        dup_seq = sorted(i - p * STRIDE for i in dups)
        check(len(dup_seq) == len(written) - max(committed[p], 0),
              "partition %d: %d duplicates, but %d lines were written before the kill and %d committed"
              % (p, len(dup_seq), len(written), max(committed[p], 0)))
        if dup_seq:
            check(dup_seq == list(range(dup_seq[0], len(written))),
                  "partition %d: duplicates %d..%d are not the tail of the %d lines written before the kill"
                  % (p, dup_seq[0], dup_seq[-1], len(written)))
    print("sent=%d written=%d duplicates=%d (exactly the uncommitted tail of each partition)"
          % (total, len(ids), duplicates), flush=True)


if __name__ == "__main__":
    run(main)
