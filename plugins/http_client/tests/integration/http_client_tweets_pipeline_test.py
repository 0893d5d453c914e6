#!/usr/bin/python3
"""pipelines/tweets.yaml (seed 004) from a local stand-in for the X v2 filtered stream (x_stream_server.py;
the real API cannot be reached from here) into Kafka (the mock cluster helper), read back with kcat:

- without TWITTER_BEARER_TOKEN the daemon says so at start and exits 2 (the config cannot work here, as for an
  invalid one: a supervisor does not restart it), and the server sees no request;
- with it, through a mid-line disconnect, a 503, a 429 with x-rate-limit-reset and a stall (the pipeline's
  numbers shrunk in a derived copy: stall_timeout 1 s, first waits 100-300 ms), every tweet sent whole is on
  the topic `tweets` exactly once, in order, keyed by its id, as X sent it; the cut one is not.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_test import MockCluster, Sluice, check, kcat_consume, run, wait_until  # noqa: E402
from x_stream_server import XStreamServer, tweet  # noqa: E402

TOKEN = "AAAAAAAAAAAAAAAAAAAAAtweets-test-token"


def main(env):
    import yaml
    with MockCluster(env, brokers=1, topics=[("tweets", 1)]) as cluster, XStreamServer() as server:
        base = {"KAFKA_BROKERS": cluster.bootstrap, "STREAM_URL": server.url}

        # No token: a clear message at start, exit 2, no request.
        s = Sluice(env, [env.pipeline("tweets.yaml")], extra_env=base, name="no-token")
        s.proc_env.pop("TWITTER_BEARER_TOKEN", None)
        with s:
            rc = s.wait_exit(60)
            check(rc == 2, "sluice without a token exited %d, not 2" % rc)
            check("TWITTER_BEARER_TOKEN" in s.log_text() and "not set" in s.log_text(),
                  "the log does not say the token is missing:\n" + s.log_tail())
        check(server.request_list() == [], "without a token the server saw %d requests" % len(server.request_list()))

        with open(env.pipeline("tweets.yaml")) as f:
            doc = yaml.safe_load(f)
        doc["pipelines"]["tweets"]["source"].update({
            "stall_timeout": "1s", "network_backoff_step": "100ms", "network_backoff_max": "300ms",
            "http_backoff_initial": "300ms", "http_backoff_max": "1s",
            "rate_limit_backoff_initial": "200ms", "rate_limit_backoff_max": "1s"})
        derived = env.write("tweets.derived.yaml", yaml.safe_dump(doc))

        reset_at = int(time.time()) + 3
        server.add({"lines": [tweet(1), tweet(2)], "end": "cut", "cut": tweet(3)[:40]},
                   {"status": 503},
                   {"status": 429, "headers": {"x-rate-limit-reset": reset_at}},
                   {"lines": [tweet(4), tweet(5, "ünïcødé ✓ 🐦")], "end": "stall"},
                   {"lines": [tweet(6), tweet(7)], "end": "hold"})
        expected = [1, 2, 4, 5, 6, 7]
        with Sluice(env, [derived], extra_env=dict(base, TWITTER_BEARER_TOKEN=TOKEN), name="tweets") as s:
            wait_until(lambda: s.check_alive() or len(server.request_list()) >= 5, 60, "the fifth connection")
            got = kcat_consume(cluster.bootstrap, "tweets", len(expected), fmt="%k\\t%s\\n", timeout=60)
            reqs = server.request_list()
            check(reqs[3].at >= reset_at - 0.01, "after 429 the next request came %.3f s before x-rate-limit-reset"
                  % (reset_at - reqs[3].at))
            check(reqs[4].at - reqs[3].at >= 1.0, "the stall was reconnected after %.3f s" % (reqs[4].at - reqs[3].at))
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
        check(TOKEN not in s.log_text(), "the token is in the log")
        pairs = [line.split("\t", 1) for line in got]
        check([k for k, _ in pairs] == [str(i) for i in expected], "keys on the topic: %r" % [k for k, _ in pairs])
        check([v for _, v in pairs] == [tweet(1), tweet(2), tweet(4), tweet(5, "ünïcødé ✓ 🐦"), tweet(6), tweet(7)],
              "values on the topic: %r" % [v[:60] for _, v in pairs])
        # Nothing more than those: a duplicate or the cut tweet would be a seventh message.
        extra = subprocess.run(["kcat", "-C", "-b", cluster.bootstrap, "-t", "tweets", "-o", "beginning", "-e", "-q",
                                "-X", "receive.message.max.bytes=1000000000"], stdout=subprocess.PIPE, timeout=60)
        check(extra.stdout.decode("utf-8").count("\n") == len(expected), "the topic holds %r" % extra.stdout[:400])
        check(all(json.loads(v)["data"]["id"] != "3" for _, v in pairs), "the cut tweet was emitted")


if __name__ == "__main__":
    run(main)
