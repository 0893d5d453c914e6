#!/usr/bin/python3
"""pipelines/visits.yaml counts every page view exactly once, through kill -9 and a rebalance: a real
Kafka broker (`page-views`, 16 partitions) -> aggregate (count by item_id, 1 s windows, by partition)
-> a real OpenSearch node (`increment` of `visits`, guarded per partition by the offset).

200k views {"user_id": N, "item_id": I} over 2000 items (skewed, seeded) are produced in waves. sluice
is killed with SIGKILL five times, each at a random moment chosen by a condition (while windows are
open: views consumed, counts not written; while counts are being written: the index's visits part
way; after some offset commits), and restarted each time; then two instances share the group, one is
killed -9 mid-run and the survivor takes over its partitions when its session expires. In the end the
group has committed every partition's end offset, and every item's `visits` is the number of views it
was given: none over-counted (a replayed count applied again), none under-counted (a count lost).
SLUICE_TEST_SEED=N replays another draw.
"""
import collections
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from kafka_broker import KafkaBroker  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import Sluice, check, run, wait_until  # noqa: E402
from visits_lib import TOPIC, Views, committed, compare, derived_pipeline, settle, summed_visits  # noqa: E402

SEED = int(os.environ.get("SLUICE_TEST_SEED", "1000"))
PARTITIONS = 16
ITEMS = 2000
# Waves 1-5: one instance each, killed -9; wave 6: two instances, one killed -9; wave 7: the survivor.
WAVES = [30000] * 6 + [20000]
TOTAL = sum(WAVES)  # 200k
# Where the five kills land (in an order the seed shuffles).
KINDS = ["open", "writing", "commits", "open", "writing"]


def kill_when(kind, s, node, bootstrap, views, rng, before, replay, wave):
    """Waits for the moment of kind @kind in the wave of @wave views that followed @before views (of
    which @replay were not committed yet), then kills @s with SIGKILL. Returns what the moment was."""
    frac = rng.uniform(0.1, 0.9)
    if kind == "open":
        # Windows open: the views are consumed, their counts not made yet (windows last 1 s).
        target = replay + int(frac * wave)
        what = "%d views consumed (%d again, then %.0f%% of the wave)" % (target, replay, 100 * frac)
        wait_until(lambda: s.check_alive() or (s.metric("sluice_kafka_messages_total") or 0) >= target, 90, what,
                   interval=0.01)
    elif kind == "writing":
        # Counts being written: the index holds part of the wave's visits.
        target = before + int(frac * wave)
        what = "%d visits in the index (%.0f%% of the wave)" % (target, 100 * frac)
        wait_until(lambda: s.check_alive() or summed_visits(node) >= target, 90, what, interval=0.05)
    else:
        # After some offset commits of this instance (or once it is done: nothing more to commit).
        n = rng.randint(1, 4)
        what = "%d offset commits (sluice_kafka_commits_total) or the group caught up" % n
        wait_until(lambda: s.check_alive() or (s.metric("sluice_kafka_commits_total") or 0) >= n or
                   committed(bootstrap, views) == views.ends, 90, what, interval=0.05)
    s.kill9()
    return what


def main(env):
    rng = random.Random(SEED + 1)
    kinds = list(KINDS)
    rng.shuffle(kinds)
    t0 = time.monotonic()
    views = Views(SEED, TOTAL, ITEMS, PARTITIONS)
    top = collections.Counter(views.item).most_common(1)[0]
    print("seed %d: %d views of %d items (item %d the most: %d views) on %d partitions"
          % (SEED, TOTAL, len(set(views.item)), top[0], top[1], PARTITIONS), flush=True)
    with KafkaBroker(partitions=PARTITIONS) as broker, OpenSearchNode() as node:
        broker.create_topic(TOPIC, partitions=PARTITIONS)
        # The shipped pipeline, with a session timeout short enough for a restarted or surviving member
        # to get a killed one's partitions within the test (librdkafka's default: 45 s).
        pipeline = derived_pipeline(env, source={"rdkafka.session.timeout.ms": 6000,
                                                 "rdkafka.heartbeat.interval.ms": 500})
        run_env = {"KAFKA_BROKERS": broker.bootstrap, "ES_HOSTS": node.url}
        instances = []
        replayed_stored = 0  # kills that left counts stored whose views are consumed again (the guard's case)
        for k, kind in enumerate(kinds):
            replay = views.produced - sum(max(c, 0) for c in committed(broker.bootstrap, views))
            before = views.produced
            s = Sluice(env, [pipeline], extra_env=run_env, name="run%d" % (k + 1), admin=True)
            instances.append(s)
            with s:
                views.produce(broker.bootstrap, WAVES[k])
                what = kill_when(kind, s, node, broker.bootstrap, views, rng, before, replay, WAVES[k])
            indexed = summed_visits(node)
            done = sum(max(c, 0) for c in committed(broker.bootstrap, views))
            replayed_stored += indexed > done
            print("%5.1f s: kill -9 #%d (%s) at %s: %d of %d visits in the index, %d views committed"
                  % (time.monotonic() - t0, k + 1, kind, what, indexed, views.produced, done), flush=True)

        # The rebalance: two members split the partitions; one is killed -9 while counts are written.
        a = Sluice(env, [pipeline], extra_env=run_env, name="a", admin=True)
        b = Sluice(env, [pipeline], extra_env=run_env, name="b", admin=True)
        instances += [a, b]
        with a, b:
            def split():
                a.check_alive()
                b.check_alive()
                na, nb = a.metric("sluice_kafka_assigned_partitions"), b.metric("sluice_kafka_assigned_partitions")
                return na and nb and na + nb == PARTITIONS
            wait_until(split, 60, "both members assigned (sluice_kafka_assigned_partitions)", interval=0.2)
            before = views.produced
            views.produce(broker.bootstrap, WAVES[5])
            target = before + int(rng.uniform(0.15, 0.45) * WAVES[5])
            wait_until(lambda: a.check_alive() or b.check_alive() or summed_visits(node) >= target, 90,
                       "%d visits in the index with both members" % target, interval=0.05)
            b.kill9()
            indexed = summed_visits(node)
            done = sum(max(c, 0) for c in committed(broker.bootstrap, views))
            replayed_stored += indexed > done
            print("%5.1f s: kill -9 of member b (a holds %d partitions): %d of %d visits in the index, %d views "
                  "committed" % (time.monotonic() - t0, a.metric("sluice_kafka_assigned_partitions"), indexed,
                                 views.produced, done), flush=True)
            views.produce(broker.bootstrap, WAVES[6])
            wait_until(lambda: a.check_alive() or a.metric("sluice_kafka_assigned_partitions") == PARTITIONS, 60,
                       "the survivor to take over b's partitions (session timeout)", interval=0.2)
            print("%5.1f s: a holds all %d partitions" % (time.monotonic() - t0, PARTITIONS), flush=True)

            total = settle(node, broker.bootstrap, views, [a])
            print("%5.1f s: the group is caught up; %d visits in the index" % (time.monotonic() - t0, total),
                  flush=True)
            compare(node, views, logs=instances[:-2])  # a's and b's are shown as their with-block ends
            code = a.stop()
            check(code == 0, "the survivor stopped with %s:\n%s" % (code, a.log_tail()))
        check(summed_visits(node) == total, "stopping the survivor changed the index: %d visits, then %d"
              % (total, summed_visits(node)))
        print("%d of the %d kills left counts stored whose views were consumed again" % (replayed_stored, len(KINDS) + 1),
              flush=True)
        check(replayed_stored, "no kill left counts stored whose views were not committed yet: the guard was not "
              "tested (nothing was counted twice to skip)")
        for s in instances:
            check(s.dead_letters("visits") == [], "%s dead-lettered nothing: %s" % (s.name, s.dead_letters("visits")[:3]))


if __name__ == "__main__":
    run(main)
