#!/usr/bin/python3
"""Two sluice processes in one consumer group split the partitions of a topic on a mock cluster
(helper process, 3 brokers): both write lines. One is killed with SIGKILL; the survivor takes over
its partitions and nothing is lost. Run once with the eager `range` assignor and once with
`cooperative-sticky` (incremental assign / unassign).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import MockCluster, Sluice, check, count_lines, kcat_produce_spread, read_lines, run, wait_until  # noqa: E402

PARTITIONS = 8
FIRST = 4000
SECOND = 4000


def pipeline(env, bootstrap, name, out, assignor):
    return env.write(name + ".yaml", """
pipelines:
  grouped:
    source:
      type: kafka
      brokers: "%s"
      topics: [views]
      group: split-%s
      assignor: %s
      start: earliest
      commit_interval: 200ms
      rdkafka.session.timeout.ms: 6000
      rdkafka.heartbeat.interval.ms: 500
    sinks:
      - type: file
        path: %s
        format: template
        template: "{n}\\t{meta.partition}"
""" % (bootstrap, assignor, assignor, out))


def main(env):
    for assignor in ("range", "cooperative-sticky"):
        print("== assignor %s" % assignor, flush=True)
        split_and_kill(env, assignor)


def split_and_kill(env, assignor):
    with MockCluster(env, brokers=3, topics=[("views", PARTITIONS)]) as cluster:
        out_a, out_b = env.path("views-a-%s.txt" % assignor), env.path("views-b-%s.txt" % assignor)
        a = Sluice(env, [pipeline(env, cluster.bootstrap, "a-" + assignor, out_a, assignor)], name="a-" + assignor,
                   admin=True)
        b = Sluice(env, [pipeline(env, cluster.bootstrap, "b-" + assignor, out_b, assignor)], name="b-" + assignor,
                   admin=True)
        with a, b:
            # Both members hold partitions before data arrives, so the split is visible.
            def assigned():
                a.check_alive()
                b.check_alive()
                na, nb = a.metric("sluice_kafka_assigned_partitions"), b.metric("sluice_kafka_assigned_partitions")
                return na and nb and na + nb == PARTITIONS
            wait_until(assigned, 30, "both members assigned (sluice_kafka_assigned_partitions)", interval=0.2)
            kcat_produce_spread(cluster.bootstrap, "views", ['{"n": %d}' % i for i in range(FIRST)], PARTITIONS)

            def split_done():
                a.check_alive()
                b.check_alive()
                return count_lines(out_a) + count_lines(out_b) >= FIRST and count_lines(out_a) and count_lines(out_b)
            wait_until(split_done, 30, "both members writing the first %d views" % FIRST, interval=0.1)
            parts_a = {line.split("\t")[1] for line in read_lines(out_a)}
            parts_b = {line.split("\t")[1] for line in read_lines(out_b)}
            print("before the kill: a wrote %d lines from partitions %s, b wrote %d from %s"
                  % (count_lines(out_a), sorted(parts_a), count_lines(out_b), sorted(parts_b)), flush=True)
            check(not (parts_a & parts_b), "both members consumed partitions %s" % sorted(parts_a & parts_b))

            b.kill9()
            written_by_b = count_lines(out_b)
            kcat_produce_spread(cluster.bootstrap, "views", ['{"n": %d}' % i for i in range(FIRST, FIRST + SECOND)],
                                PARTITIONS)
            total = FIRST + SECOND

            def all_there():
                a.check_alive()
                return len({line.split("\t")[0] for line in read_lines(out_a) + read_lines(out_b)}) >= total
            wait_until(all_there, 40, "all %d views written after b was killed" % total, interval=0.2)
            check(a.stop() == 0, "a exited non-zero on SIGTERM:\n" + a.log_tail())

    ns = [int(line.split("\t")[0]) for line in read_lines(out_a) + read_lines(out_b)]
    check(set(ns) == set(range(total)), "lost %r" % sorted(set(range(total)) - set(ns))[:10])
    check(len(ns) - len(set(ns)) <= written_by_b,
          "%d duplicates, more than the %d lines b wrote before it was killed" % (len(ns) - len(set(ns)), written_by_b))
    print("sent=%d written=%d duplicates=%d; a took over b's partitions after kill -9"
          % (total, len(ns), len(ns) - len(set(ns))), flush=True)


if __name__ == "__main__":
    run(main)
