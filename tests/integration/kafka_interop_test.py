#!/usr/bin/python3
"""Interop with a REAL Apache Kafka broker (KRaft, from Maven Central) and clients sluice did not write.

1. Messages produced by kcat (key -K, header -H) and by python3-kafka are consumed by sluice
   (kafka source -> file sink) with key, headers and payload intact, checked line by line.
2. Messages produced by sluice (generate -> kafka sink with key and header templates) are read by
   kcat (-f '%k %h %s') and by python3-kafka with key, headers and payload intact.
3. pipelines/access-log.yaml writes exactly the page views kcat put on `page-views`.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from kafka_broker import KafkaBroker  # noqa: E402
from sluice_test import (Sluice, check, count_lines, kcat_consume, kcat_produce, read_lines, run,  # noqa: E402
                         wait_until)

N_KCAT = 300
N_PY = 300
N_OUT = 500
N_VIEWS = 2000


def consume_into_file(env, broker):
    broker.create_topic("interop-in", 3)
    expected = set()
    lines = []
    for i in range(N_KCAT):
        lines.append('k%d:{"n":%d,"src":"kcat","text":"caf\\u00e9 \\t %d"}' % (i, i, i))
        expected.add("k%d\tkcat\t%d\tkcat\tcafé \t %d" % (i, i, i))
    kcat_produce(broker.bootstrap, "interop-in", lines, key_delim=":", headers=["origin=kcat"])

    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    for i in range(N_PY):
        producer.send("interop-in", json.dumps({"n": 10000 + i, "src": "python", "text": "p%d" % i}).encode(),
                      key=b"p%d" % i, headers=[("origin", b"python3-kafka"), ("extra", b"x")])
        expected.add("p%d\tpython3-kafka\t%d\tpython\tp%d" % (i, 10000 + i, i))
    producer.flush(30)
    producer.close()

    out = env.path("interop-in.log")
    pipeline = env.write("consume.yaml", """
pipelines:
  consume:
    source:
      type: kafka
      brokers: "%s"
      topics: [interop-in]
      group: sluice-interop
      start: earliest
    sinks:
      - type: file
        path: %s
        format: template
        template: "{meta.key}\\t{meta.header.origin}\\t{n}\\t{src}\\t{text}"
""" % (broker.bootstrap, out))
    with Sluice(env, [pipeline], name="consume") as s:
        total = N_KCAT + N_PY
        wait_until(lambda: s.check_alive() or count_lines(out) >= total, 40, "%d lines in %s" % (total, out))
        check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    got = read_lines(out)
    check(len(got) == len(expected), "expected %d lines, got %d" % (len(expected), len(got)))
    missing = expected - set(got)
    check(not missing, "lines missing or altered, e.g. %r; got e.g. %r" % (sorted(missing)[:3], got[:3]))
    print("consumed by sluice: %d from kcat + %d from python3-kafka, %d lines, all exact"
          % (N_KCAT, N_PY, len(got)), flush=True)


def produce_from_sluice(env, broker):
    broker.create_topic("interop-out", 3)
    pipeline = env.write("produce.yaml", """
pipelines:
  produce:
    source:
      type: generate
      count: %d
      template: {seq: "{seq}", user: "u{seq}"}
    sinks:
      - type: kafka
        brokers: "%s"
        topic: interop-out
        key: "{user}"
        headers: {seq: "{seq}", origin: sluice}
""" % (N_OUT, broker.bootstrap))
    with Sluice(env, [pipeline], name="produce") as s:
        code = s.wait_exit(40)  # a finite source: the daemon drains and exits
        check(code == 0, "sluice (generate -> kafka) exited %s:\n%s" % (code, s.log_tail()))

    def check_record(key, headers, value, who):
        doc = json.loads(value)
        seq = str(doc["seq"])
        check(key == "u" + seq, "%s: key %r does not match payload %r" % (who, key, value))
        check(str(doc["user"]) == key, "%s: payload %r lost its fields" % (who, value))
        check(headers.get("seq") == seq and headers.get("origin") == "sluice",
              "%s: headers %r of %r" % (who, headers, value))
        return int(seq)

    seen = set()
    for line in kcat_consume(broker.bootstrap, "interop-out", N_OUT, fmt="%k\\t%h\\t%s\\n"):
        key, hdrs, value = line.split("\t", 2)
        headers = dict(h.split("=", 1) for h in hdrs.split(",") if h)
        seen.add(check_record(key, headers, value, "kcat"))
    check(len(seen) == N_OUT, "kcat read %d distinct records, expected %d" % (len(seen), N_OUT))

    from kafka import KafkaConsumer
    c = KafkaConsumer("interop-out", bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=10000, group_id=None)
    seen_py = set()
    for m in c:
        seen_py.add(check_record(m.key.decode(), {k: v.decode() for k, v in m.headers}, m.value.decode(), "python"))
        if len(seen_py) == N_OUT:
            break
    c.close()
    check(len(seen_py) == N_OUT, "python3-kafka read %d distinct records, expected %d" % (len(seen_py), N_OUT))
    print("produced by sluice: %d records read by kcat and python3-kafka with key, headers, payload intact"
          % N_OUT, flush=True)


def access_log(env, broker):
    broker.create_topic("page-views", 4)
    views = ['{"user_id": %d, "item_id": %d}' % (i, (i * 7919) % 5000) for i in range(N_VIEWS)]
    kcat_produce(broker.bootstrap, "page-views", views)
    out = env.path("data", "access.log")
    with Sluice(env, [env.pipeline("access-log.yaml")], name="access-log",
                extra_env={"KAFKA_BROKERS": broker.bootstrap, "ACCESS_LOG": out, "SAMPLE_VIEWS": "0"}) as s:
        wait_until(lambda: s.check_alive() or count_lines(out) >= N_VIEWS, 40, "%d views in %s" % (N_VIEWS, out))
        check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    got = read_lines(out)
    expected = ["%d\t%d" % (i, (i * 7919) % 5000) for i in range(N_VIEWS)]
    check(sorted(got) == sorted(expected),
          "access log differs from the views on the topic: %d lines, %d expected, missing e.g. %r, extra e.g. %r"
          % (len(got), len(expected), sorted(set(expected) - set(got))[:3], sorted(set(got) - set(expected))[:3]))
    print("access-log pipeline: %d views on the topic, %d lines written, identical" % (N_VIEWS, len(got)), flush=True)


def main(env):
    with KafkaBroker(partitions=3) as broker:
        try:
            consume_into_file(env, broker)
            produce_from_sluice(env, broker)
            access_log(env, broker)
        except Exception:
            print("--- broker log (tail) ---\n" + broker.log_tail(), flush=True)
            raise


if __name__ == "__main__":
    run(main)
