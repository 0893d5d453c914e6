#!/usr/bin/python3
"""pipelines/game-events.yaml (seeds 002/003) against the mock cluster helper: each GET route answers the
seed's text; its event on `events` carries event_type, Host, User-Agent, Accept and the purchase parameter
(query `kind`, path `{item}`), in request order per connection (read back with kcat); the `purchases`
pipeline writes only the purchases to PURCHASES_LOG.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import MockCluster, Sluice, check, count_lines, free_port, kcat_consume, read_lines, run, wait_until  # noqa: E402

# (path, expected event_type, expected answer, extra fields)
VISITS = [
    ("/", "default", "This is the default response!\n", {}),
    ("/purchase_a_sword?kind=katana", "purchase_sword", "Sword Purchased!\n", {"kind": "katana"}),
    ("/join_guild", "join_guild", "Guild Joined!\n", {}),
    ("/purchase/shield?kind=wooden", "purchase", "Purchased!\n", {"item": "shield", "kind": "wooden"}),
    ("/purchase_a_knife", "purchase_knife", "Knife Purchased!\n", {}),
    ("/purchase_a_sword", "purchase_sword", "Sword Purchased!\n", {}),
]
PLAYERS = ["player-one/1.0", "player-two/2.0", "player-three/3.0"]


def main(env):
    with MockCluster(env, brokers=1, topics=[("events", 4)]) as cluster:
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        purchases = env.path("purchases.log")
        extra = {"KAFKA_BROKERS": cluster.bootstrap, "INGEST_LISTEN": "127.0.0.1:%d" % port,
                 "PURCHASES_LOG": purchases}
        with Sluice(env, [env.pipeline("game-events.yaml")], extra_env=extra, name="game") as s:
            def up():
                s.check_alive()
                p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/nope"],
                                   stdout=subprocess.PIPE, timeout=30)
                return p.stdout == b"404"
            wait_until(up, 60, "the game API to listen")
            for player in PLAYERS:
                # One curl, one keep-alive connection, the visits in order.
                proc = subprocess.run(["curl", "-sS", "--max-time", "60", "-A", player]
                                      + [base + path for path, _, _, _ in VISITS],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
                check(proc.returncode == 0, "curl failed: %s" % proc.stderr.decode(errors="replace"))
                want = "".join(answer for _, _, answer, _ in VISITS)
                check(proc.stdout.decode() == want, "answers: %r, expected %r" % (proc.stdout.decode(), want))

            total = len(VISITS) * len(PLAYERS)
            lines = kcat_consume(cluster.bootstrap, "events", total, fmt="%p %o %s\\n")
            by_player = {}
            for line in lines:
                partition, offset, payload = line.split(" ", 2)
                event = json.loads(payload)
                by_player.setdefault(event["User-Agent"], []).append((int(partition), int(offset), event))
            check(sorted(by_player) == sorted(PLAYERS), "players on the topic: %r" % sorted(by_player))
            for player, events in by_player.items():
                check(len({p for p, _, _ in events}) == 1, "%s: events spread over partitions" % player)
                events.sort(key=lambda e: e[1])
                got = [e["event_type"] for _, _, e in events]
                check(got == [t for _, t, _, _ in VISITS], "%s: order %r" % (player, got))
                for (_, _, event), (path, _, _, fields) in zip(events, VISITS):
                    check(event["Host"] == "127.0.0.1:%d" % port and event["Accept"] == "*/*",
                          "%s %s: headers missing: %r" % (player, path, event))
                    for k, v in fields.items():
                        check(event.get(k) == v, "%s %s: %s=%r, expected %r" % (player, path, k, event.get(k), v))

            bought = sum(1 for _, t, _, _ in VISITS if t.startswith("purchase")) * len(PLAYERS)
            wait_until(lambda: s.check_alive() or count_lines(purchases) >= bought, 60,
                       "%d purchases in %s" % (bought, purchases))
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
        written = [json.loads(line) for line in read_lines(purchases)]
        check(len(written) == bought, "%d lines in the purchases file, expected %d" % (len(written), bought))
        check(all(e["event_type"].startswith("purchase") for e in written),
              "non-purchase in the purchases file: %r" % [e["event_type"] for e in written])
        check(sum(1 for e in written if e.get("kind") == "katana") == len(PLAYERS), "katana purchases missing")
    print("%d events in order per connection; %d purchases in the file" % (total, bought), flush=True)


if __name__ == "__main__":
    run(main)
