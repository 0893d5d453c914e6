#!/usr/bin/python3
"""pipelines/listings.yaml with ES_HOSTS unset: the embedded index. The daemon is killed with SIGKILL
while it indexes; every listing whose offset the consumer group had committed (acknowledged: the
index committed it first) is in the index right after the kill, the index passes Xapian's check,
and a restarted daemon indexes the rest. While that one runs, a second daemon on the same data directory
refuses to start with a clear message (the index's lock). The Kafka "broker" is librdkafka's mock
cluster in a helper process, so it outlives the killed daemon.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
import yaml  # noqa: E402
from sluice_test import MockCluster, Sluice, check, committed_offsets, kcat_produce, run, wait_until  # noqa: E402

TOTAL = 120000
PARTITIONS = 4
TOPIC = "new-listings-topic"


def listing(i):
    if i == 42:
        return {"id": 42, "title": 'Used MacbookAir 13"', "description": "This is a used Macbook Air in great condition"}
    return {"id": i, "title": "listing %d" % i, "description": "a thing for sale, number %d" % i}


def dump(env, data_dir, check_it=False):
    """The embedded index listing_index of @data_dir as sluice_index_dump prints it (read-only);
    @check_it: with Xapian's consistency check (only once no daemon writes it)."""
    tool = os.path.join(env.build_dir, "plugins", "elasticsearch", "sluice_index_dump")
    path = os.path.join(data_dir, "search-index", "listing_index")
    if not os.path.exists(path):
        return None
    r = subprocess.run([tool] + (["--check"] if check_it else []) + [path], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "sluice_index_dump %s failed (%d): %s %s" % (path, r.returncode, r.stdout[-500:], r.stderr))
    return json.loads(r.stdout)


def count(env, data_dir):
    """Documents in the index (cheap: polled while the daemon writes)."""
    tool = os.path.join(env.build_dir, "plugins", "elasticsearch", "sluice_index_dump")
    path = os.path.join(data_dir, "search-index", "listing_index")
    if not os.path.exists(path):
        return 0
    r = subprocess.run([tool, "--count", path], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "sluice_index_dump --count %s failed: %s" % (path, r.stderr))
    return int(r.stdout)


def main(env):
    with MockCluster(env, brokers=1, topics=[(TOPIC, PARTITIONS)]) as cluster:
        for p in range(PARTITIONS):
            kcat_produce(cluster.bootstrap, TOPIC, [json.dumps(listing(i)) for i in range(p, TOTAL, PARTITIONS)],
                         partition=p)
        with open(env.pipeline("listings.yaml")) as f:
            doc = yaml.safe_load(f)
        check(doc["pipelines"]["listings"]["sinks"][0]["hosts"] == "${ES_HOSTS:-embedded}",
              "listings.yaml defaults to the embedded index")
        doc["pipelines"]["listings"]["source"].update({"rdkafka.session.timeout.ms": 6000,
                                                        "rdkafka.heartbeat.interval.ms": 500,
                                                        "commit_interval": "200ms"})
        pipeline = env.write("listings.yaml", yaml.safe_dump(doc))
        run_env = {"KAFKA_BROKERS": cluster.bootstrap}

        first = Sluice(env, [pipeline], extra_env=run_env, name="indexer")
        first.proc_env.pop("ES_HOSTS", None)
        with first:
            data_dir = first.data_dir()
            wait_until(lambda: first.check_alive() or count(env, data_dir) >= TOTAL // 4, 120,
                       "a quarter of the listings indexed", interval=0.5)
            offsets = committed_offsets(cluster.bootstrap, "listing-indexer", TOPIC, PARTITIONS)
            first.kill9()
        check("serves this machine only" in first.log_text(), "the start-up log says the index is for one machine")
        acknowledged = [p + k * PARTITIONS for p in range(PARTITIONS) for k in range(max(offsets[p], 0))]
        after = dump(env, data_dir, check_it=True)
        check(after["check_errors"] == 0, "the index is consistent after kill -9")
        missing = [i for i in acknowledged if str(i) not in after["docs"]]
        check(not missing, "every acknowledged listing is in the index after kill -9: %d of %d missing (e.g. %s)"
              % (len(missing), len(acknowledged), missing[:5]))
        check(after["count"] < TOTAL, "everything was indexed before the kill (%d): nothing tested" % after["count"])
        print("killed -9 with %d listings indexed, %d acknowledged (offsets %s), all there"
              % (after["count"], len(acknowledged), offsets), flush=True)

        second = Sluice(env, [pipeline], extra_env=run_env, name="indexer")
        second.proc_env.pop("ES_HOSTS", None)
        with second:
            # Its log file is the killed daemon's (same name, appended): wait for its own line.
            wait_until(lambda: second.check_alive() or
                       second.log_text().count("embedded search index listing_index at") >= 2,
                       60, "the restarted daemon has the index open")
            # A second daemon on the same data directory refuses: same config, same data_dir.
            intruder = Sluice(env, [pipeline], extra_env=run_env, name="intruder")
            intruder.proc_env.pop("ES_HOSTS", None)
            with open(second.args[3]) as f:
                conf = f.read()
            with open(intruder.args[3], "w") as f:
                f.write(conf)
            with intruder:
                code = intruder.wait_exit(60)
                check(code != 0, "the second daemon exits with an error, not %s" % code)
                text = intruder.log_text()
                check("in use by another process" in text and "listing_index" in text,
                      "the second daemon says the index is in use:\n%s" % intruder.log_tail())
            second.check_alive()
            wait_until(lambda: second.check_alive() or count(env, data_dir) >= TOTAL, 240,
                       "all %d listings indexed after the restart" % TOTAL, interval=0.5)
            code = second.stop()
            check(code == 0, "the restarted daemon stopped with %s:\n%s" % (code, second.log_tail()))
        final = dump(env, data_dir, check_it=True)
        check(final["check_errors"] == 0, "the index is consistent after the restart")
        check(final["count"] == TOTAL and set(final["docs"]) == {str(i) for i in range(TOTAL)},
              "every listing exactly once: %d documents" % final["count"])
        check(final["docs"]["7"] == listing(7), "a listing is stored as it was on the topic")


if __name__ == "__main__":
    run(main)
