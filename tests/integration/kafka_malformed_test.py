#!/usr/bin/python3
"""Malformed JSON on a topic (mock cluster helper) goes to the pipeline's dead-letter sink (a file sink,
JSON lines with metadata) with its topic, partition and offset in the reason (meta.error); every valid
message is written and the pipeline goes on.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import MockCluster, Sluice, check, count_lines, kcat_produce, read_lines, run, wait_until  # noqa: E402

VALID = 1000
BAD_EVERY = 100  # offsets 50, 150, ... are malformed


def main(env):
    with MockCluster(env, brokers=3, topics=[("mixed", 1)]) as cluster:
        messages, bad = [], {}
        for off in range(VALID + VALID // BAD_EVERY):
            if off % BAD_EVERY == 50:
                text = '{"n": %d, broken' % off if off % 200 == 50 else "not json at %d" % off
                bad[off] = text
                messages.append(text)
            else:
                messages.append('{"n": %d}' % off)
        kcat_produce(cluster.bootstrap, "mixed", messages, partition=0)
        out, dlq = env.path("good.log"), env.path("dead.jsonl")
        pipeline = env.write("malformed.yaml", """
pipelines:
  mixed:
    source:
      type: kafka
      brokers: "%s"
      topics: [mixed]
      group: malformed
      start: earliest
    sinks:
      - type: file
        path: %s
        format: template
        template: "{n}"
    dead_letter:
      type: file
      path: %s
      format: json
      include_meta: true
""" % (cluster.bootstrap, out, dlq))
        with Sluice(env, [pipeline], name="malformed") as s:
            wait_until(lambda: s.check_alive() or (count_lines(out) >= VALID and count_lines(dlq) >= len(bad)), 30,
                       "%d lines and %d dead letters" % (VALID, len(bad)))
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())

    good = read_lines(out)
    want = [str(off) for off in range(len(messages)) if off not in bad]
    check(sorted(good, key=int) == want and len(good) == len(want),
          "valid messages: %d written, %d expected" % (len(good), len(want)))
    dead = [json.loads(line) for line in read_lines(dlq)]
    check(len(dead) == len(bad), "%d dead letters, expected %d" % (len(dead), len(bad)))
    for d in dead:
        meta = d["meta"]
        off = meta["offset"]
        check(off in bad, "dead letter at offset %s is not a malformed message: %r" % (off, d))
        check(meta["topic"] == "mixed" and meta["partition"] == 0, "coordinates missing: %r" % meta)
        check(d["payload"] == bad[off], "payload altered: %r vs %r" % (d["payload"], bad[off]))
        err = meta.get("error", "")
        check("mixed" in err and str(off) in err and "0" in err,
              "reason lacks topic/partition/offset: %r" % err)
    print("sent=%d valid written=%d dead-lettered=%d, e.g. reason: %s"
          % (len(messages), len(good), len(dead), dead[0]["meta"]["error"]), flush=True)


if __name__ == "__main__":
    run(main)
