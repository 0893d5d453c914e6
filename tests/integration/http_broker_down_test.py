#!/usr/bin/python3
"""pipelines/clicks.yaml with its Kafka broker down (mock cluster helper, `down`/`up`): requests get 503
with Retry-After within the acknowledgement timeout, never 200; after the broker is back, 200 again;
every request that got 200 is on the topic.
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import MockCluster, Sluice, check, free_port, run, wait_until  # noqa: E402


def post(port, n, timeout=60):
    """POSTs click n; returns (status, Retry-After, seconds taken)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/clicks", body=json.dumps({"n": n, "visitor_platform": "mobile"}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        return r.status, r.getheader("Retry-After"), time.monotonic() - started
    except OSError:
        return 0, None, time.monotonic() - started
    finally:
        conn.close()


def main(env):
    with MockCluster(env, brokers=1, topics=[("clicks", 1)]) as cluster:
        port = free_port()
        extra = {"KAFKA_BROKERS": cluster.bootstrap, "INGEST_LISTEN": "127.0.0.1:%d" % port}
        with Sluice(env, [env.pipeline("clicks.yaml")], extra_env=extra, name="down") as s:
            wait_until(lambda: s.check_alive() or post(port, -1, timeout=5)[0] == 200, 60, "the ingest API to answer")
            ok = {-1}
            for n in range(20):
                status, _, _ = post(port, n)
                check(status == 200, "before the outage: request %d got %d" % (n, status))
                ok.add(n)

            cluster.command("down 1")
            results = {}

            def worker(n):
                results[n] = post(port, n)

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(100, 108)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for n, (status, retry_after, took) in sorted(results.items()):
                check(status != 200, "broker down: request %d got 200" % n)
                check(status == 503 and retry_after, "broker down: request %d got %d (Retry-After %r)"
                      % (n, status, retry_after))
                # 5 s acknowledgement timeout; generous bound for a loaded machine.
                check(took < 30, "broker down: request %d took %.1f s" % (n, took))

            cluster.command("up 1")
            n = [200]

            def recovered():
                s.check_alive()
                status, _, _ = post(port, n[0])
                if status == 200:
                    ok.add(n[0])
                n[0] += 1
                return status == 200
            wait_until(recovered, 120, "a 200 after the broker came back", interval=0.5)
            for m in range(1000, 1020):
                status, _, _ = post(port, m)
                check(status == 200, "after recovery: request %d got %d" % (m, status))
                ok.add(m)
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())

        # Every answered request is on the topic (503'd ones may be too: at-least-once, the client retries).
        # Read everything there is: at most every request sent.
        proc = subprocess.run(["kcat", "-C", "-b", cluster.bootstrap, "-t", "clicks", "-o", "beginning", "-e", "-q",
                               "-X", "receive.message.max.bytes=1000000000"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        check(proc.returncode == 0, "kcat failed: %s" % proc.stderr.decode(errors="replace"))
        on_topic = {json.loads(line)["n"] for line in proc.stdout.decode().splitlines()}
        missing = sorted(ok - on_topic)
        check(not missing, "answered 200 but not on the topic: %r" % missing)
    print("%d requests answered 200, all on the topic; %d during the outage got 503"
          % (len(ok), len(results)), flush=True)


if __name__ == "__main__":
    run(main)
