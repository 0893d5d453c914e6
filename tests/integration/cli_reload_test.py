#!/usr/bin/python3
"""SIGHUP reload of the real binary: sluice consumes a topic (mock cluster helper) into a file.
1. The pipeline file is changed (a third column) and SIGHUP sent: views produced afterwards are
   written with the new template, and none of the views produced before is lost.
2. The file is made invalid and SIGHUP sent: the reload is refused with file:line:col in the log,
   the old pipeline keeps running and keeps writing.
3. SIGTERM: exit 0; every view produced is in the file exactly once (the reload drained and
   committed what it had written before the new consumer started).
"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import (MockCluster, Sluice, check, kcat_produce_spread, read_lines, run,  # noqa: E402
                         wait_until)

PARTITIONS = 4
N = 3000
PIPELINE = """
pipelines:
  views:
    source:
      type: kafka
      brokers: "%s"
      topics: [views]
      group: reloader
      start: earliest
      commit_interval: 200ms
      # The mock cluster waits session.timeout.ms - 1 s for the members of a group that one member
      # left (a real broker does not): keep it short so the reloaded consumer is assigned at once.
      rdkafka.session.timeout.ms: 6000
      rdkafka.heartbeat.interval.ms: 500
    sinks:
      - type: file
        path: %s
        format: template
        template: "%s"
"""


def main(env):
    with MockCluster(env, brokers=1, topics=[("views", PARTITIONS)]) as cluster:
        out = env.path("views.log")
        path = env.write("views.yaml", PIPELINE % (cluster.bootstrap, out, "{n}\\told"))

        def produce(first, count):
            kcat_produce_spread(cluster.bootstrap, "views", ['{"n": %d}' % i for i in range(first, first + count)],
                                PARTITIONS)

        def written():
            return {line.split("\t")[0] for line in read_lines(out)}

        with Sluice(env, [path], name="reload", admin=True) as s:
            produce(0, N)
            wait_until(lambda: s.check_alive() or len(written()) >= N, 60, "the first %d views written" % N)

            env.write("views.yaml", PIPELINE % (cluster.bootstrap, out, "{n}\\tnew\\t{meta.partition}"))
            s.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: s.check_alive() or "reload done" in s.log_tail(200), 30, "'reload done' in the log")
            produce(N, N)
            wait_until(lambda: s.check_alive() or len(written()) >= 2 * N, 60, "the second %d views written" % N)
            new_lines = [line for line in read_lines(out) if int(line.split("\t")[0]) >= N]
            check(all(line.split("\t")[1] == "new" and len(line.split("\t")) == 3 for line in new_lines),
                  "views after the reload not written with the new template: %r" % new_lines[:3])

            env.write("views.yaml", "pipelines:\n  views:\n    source: {type: kafka, brokers: x, topics: [v], group: g,"
                      " bogus_key: 1}\n    sinks: [{type: null}]\n")
            s.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: s.check_alive() or "reload refused" in s.log_tail(200), 30, "'reload refused' in the log")
            log = s.log_tail(200)
            check("views.yaml:3:" in log and "bogus_key" in log,
                  "the refusal does not name file:line:col and the key:\n" + log)
            produce(2 * N, N)
            wait_until(lambda: s.check_alive() or len(written()) >= 3 * N, 60,
                       "the third %d views written by the old pipeline after the refused reload" % N)
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())

    ns = [int(line.split("\t")[0]) for line in read_lines(out)]
    check(set(ns) == set(range(3 * N)), "lost %r" % sorted(set(range(3 * N)) - set(ns))[:10])
    dups = len(ns) - len(set(ns))
    check(dups == 0, "%d views written twice across a graceful reload" % dups)
    print("produced=%d written=%d duplicates=%d across one reload and one refused reload" % (3 * N, len(ns), dups),
          flush=True)


if __name__ == "__main__":
    run(main)
