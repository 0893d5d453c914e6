#!/usr/bin/python3
"""One non-JSON message among good ones on a real Kafka broker, consumed by the shipped
pipelines/access-log.yaml (which declares no dead-letter sink): the message lands in the default
dead-letter file <data_dir>/dead-letter/access-log.jsonl with its coordinates, every good message is
written, the committed offset covers the poison message, /health stays 200 and nothing is stuck;
a restart rewrites no line (issue 9, finding 7: it used to pin the offset, and every restart
rewrote everything after it).
"""
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from kafka_broker import KafkaBroker  # noqa: E402
from sluice_test import (Sluice, check, committed_offsets, count_lines, kcat_produce, read_lines, run,  # noqa: E402
                         wait_until)

GOOD = 300
POISON_AT = 117
POISON = "GET /index.html HTTP/1.1 not json \\xff"


def view(i):
    return '{"user_id": %d, "item_id": %d}' % (i, 5000 + i)


def health(s):
    try:
        with urllib.request.urlopen("http://%s/health" % s.admin, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main(env):
    with KafkaBroker(partitions=1) as broker:
        try:
            broker.create_topic("page-views", 1)
            messages = [view(i) for i in range(GOOD)]
            messages.insert(POISON_AT, POISON)
            kcat_produce(broker.bootstrap, "page-views", messages, partition=0)
            out = env.path("access.log")
            run_env = {"KAFKA_BROKERS": broker.bootstrap, "ACCESS_LOG": out, "SAMPLE_VIEWS": "0"}
            dead_path = env.path("access-log-data", "dead-letter", "access-log.jsonl")

            def committed():
                return committed_offsets(broker.bootstrap, "access-logger", "page-views", 1)[0]

            with Sluice(env, [env.pipeline("access-log.yaml")], name="access-log", admin=True,
                        extra_env=run_env) as s:
                wait_until(lambda: s.check_alive() or (count_lines(out) >= GOOD and count_lines(dead_path) >= 1),
                           60, "%d lines in %s and one dead letter" % (GOOD, out))
                wait_until(lambda: committed() == len(messages), 30,
                           "the committed offset to reach %d (past the poison message)" % len(messages))
                wait_until(lambda: s.metric("sluice_kafka_commit_lag") == 0, 10, "commit lag 0")
                check(s.metric("sluice_source_stuck") == 0, "the source reports stuck partitions")
                status, body = health(s)
                check(status == 200, "/health answered %d: %s" % (status, body))
                check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
            check("events that cannot be delivered are recorded in %s" % dead_path in open(s.log_path).read(),
                  "the default dead-letter file was not logged at start")

            lines = read_lines(out)
            want = ["%d\t%d" % (i, 5000 + i) for i in range(GOOD)]
            check(sorted(lines) == sorted(want), "access log: %d lines, %d expected" % (len(lines), len(want)))
            dead = [json.loads(line) for line in read_lines(dead_path)]
            check(len(dead) == 1, "%d dead letters, expected 1: %r" % (len(dead), dead))
            d = dead[0]
            check(d["topic"] == "page-views" and d["partition"] == 0 and d["offset"] == POISON_AT,
                  "coordinates of the dead letter: %r" % d)
            check(d.get("payload_text") == POISON, "payload altered: %r" % d)
            check("invalid JSON" in d["reason"] and "offset %d" % POISON_AT in d["reason"], "reason: %r" % d)
            check(d["source"] == "access-log.source.kafka" and d["pipeline"] == "access-log", "origin: %r" % d)

            # The restart goes on from the committed offset: only new views are written.
            kcat_produce(broker.bootstrap, "page-views", [view(i) for i in range(GOOD, GOOD + 10)], partition=0)
            with Sluice(env, [env.pipeline("access-log.yaml")], name="access-log", admin=True,
                        extra_env=run_env) as s:
                wait_until(lambda: s.check_alive() or count_lines(out) >= GOOD + 10, 60, "the 10 new views")
                wait_until(lambda: committed() == len(messages) + 10, 30, "the new views to be committed")
                check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
            lines = read_lines(out)
            check(len(lines) == GOOD + 10, "after the restart: %d lines, expected %d (lines rewritten)"
                  % (len(lines), GOOD + 10))
            check(count_lines(dead_path) == 1, "the poison message was dead-lettered again after the restart")
            print("poison message at offset %d in %s; %d lines, committed offset %d; restart wrote only the "
                  "10 new views" % (POISON_AT, dead_path, len(lines), committed()), flush=True)
        except Exception:
            print("--- broker log (tail) ---\n" + broker.log_tail(), flush=True)
            raise


if __name__ == "__main__":
    run(main)
