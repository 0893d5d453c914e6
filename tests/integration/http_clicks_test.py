#!/usr/bin/python3
"""pipelines/clicks.yaml (seed 001) against the mock cluster helper: the seed's own curl command gets
200 and its event is on the topic `clicks` (read back with kcat); malformed JSON gets 400 with a JSON
message and nothing reaches the topic; an oversize body gets 413 (with and without Content-Length);
unknown path 404; wrong method 405 with Allow; with a bearer token configured, a wrong token gets 401.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import MockCluster, Sluice, check, free_port, kcat_consume, run, wait_until  # noqa: E402

SEED_CLICK = ('{"visitor_platform": "mobile","ts_ingest": 1515819844345,"article_title": "Cercanías San Sebastián",'
              '"visitor_country": "BE","visitor_page_timer": 0,"visitor_os": "ios","article": '
              '"https://en.wikipedia.org/wiki/Cercan%C3%ADas_San_Sebasti%C3%A1n","visitor_page_height": 0,'
              '"visitor_browser": "unknown"}')


def curl(*args, data_file=None):
    """Runs curl; returns (status, body, headers text)."""
    cmd = ["curl", "-sS", "--max-time", "60", "-o", "-", "-D", "/dev/stderr", "-w", "\n%{http_code}"] + list(args)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    out = proc.stdout.decode("utf-8", "replace")
    body, _, code = out.rpartition("\n")
    return int(code or 0), body, proc.stderr.decode("utf-8", "replace")


def main(env):
    with MockCluster(env, brokers=1, topics=[("clicks", 1)]) as cluster:
        import yaml
        with open(env.pipeline("clicks.yaml")) as f:
            doc = yaml.safe_load(f)
        # The same pipeline with a bearer token, under another name and port, for the 401 checks.
        guarded = doc["pipelines"]["clicks"]
        guarded["source"]["listen"] = "${GUARDED_LISTEN}"
        guarded["source"]["auth"] = {"type": "bearer", "token_env": "CLICKS_TOKEN"}
        guarded_file = env.write("clicks-guarded.yaml", yaml.safe_dump({"pipelines": {"clicks-guarded": guarded}}))

        port, guarded_port = free_port(), free_port()
        url = "http://127.0.0.1:%d/clicks" % port
        extra = {"KAFKA_BROKERS": cluster.bootstrap, "INGEST_LISTEN": "127.0.0.1:%d" % port,
                 "GUARDED_LISTEN": "127.0.0.1:%d" % guarded_port, "CLICKS_TOKEN": "s3cret-token"}
        with Sluice(env, [env.pipeline("clicks.yaml"), guarded_file], extra_env=extra, name="clicks") as s:
            wait_until(lambda: s.check_alive() or curl("-X", "GET", url)[0] == 405, 60, "the ingest API to listen")

            # The seed's own command, verbatim.
            status, body, _ = curl("--header", "Content-Type: application/json", "--request", "POST",
                                   "--data", SEED_CLICK, url)
            check(status == 200, "seed curl: status %d, body %r" % (status, body))
            check(json.loads(body) == {"success": True}, "seed curl: body %r" % body)

            status, body, _ = curl("-H", "Content-Type: application/json", "--data", '{"visitor_platform": "mob', url)
            check(status == 400, "malformed JSON: status %d" % status)
            reply = json.loads(body)
            check(reply["success"] is False and "json" in reply["message"], "malformed JSON: body %r" % body)

            status, body, _ = curl("-H", "Content-Type: application/json", "--data", "[1, 2, 3]", url)
            check(status == 400, "array instead of object: status %d (%s)" % (status, body))

            big = env.write("big.json", '{"pad": "%s"}' % ("x" * (2 * 1024 * 1024)))
            status, body, _ = curl("-H", "Content-Type: application/json", "--data-binary", "@" + big, url)
            check(status == 413, "oversize with Content-Length: status %d" % status)
            status, body, _ = curl("-H", "Content-Type: application/json", "-H", "Transfer-Encoding: chunked",
                                   "--data-binary", "@" + big, url)
            check(status == 413, "oversize chunked: status %d" % status)

            status, _, _ = curl("-H", "Content-Type: text/html", "--data", "{}", url)
            check(status == 415, "wrong Content-Type: status %d" % status)
            status, _, _ = curl("http://127.0.0.1:%d/nope" % port)
            check(status == 404, "unknown path: status %d" % status)
            status, _, headers = curl(url)
            check(status == 405 and "allow: post" in headers.lower(), "GET /clicks: %d, headers %r" % (status, headers))

            gurl = "http://127.0.0.1:%d/clicks" % guarded_port
            status, _, headers = curl("-H", "Authorization: Bearer wrong", "-H", "Content-Type: application/json",
                                      "--data", '{"guarded": "no"}', gurl)
            check(status == 401 and "www-authenticate: bearer" in headers.lower(),
                  "wrong token: %d, headers %r" % (status, headers))
            status, _, _ = curl("-H", "Content-Type: application/json", "--data", '{"guarded": "none"}', gurl)
            check(status == 401, "no token: %d" % status)
            status, body, _ = curl("-H", "Authorization: Bearer s3cret-token", "-H",
                                   "Content-Type: application/json", "--data", '{"guarded": "yes"}', gurl)
            check(status == 200, "right token: %d %s" % (status, body))
            check("s3cret-token" not in open(s.log_path, errors="replace").read(), "the token is in the log")

            # Exactly the two accepted events are on the topic: the seed's click and the guarded one.
            lines = kcat_consume(cluster.bootstrap, "clicks", 2)
            events = [json.loads(line) for line in lines]
            check(events[0] == json.loads(SEED_CLICK), "on the topic: %r" % lines[0])
            check(events[1] == {"guarded": "yes"}, "on the topic: %r" % lines[1])
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
        # Nothing else arrived later: read with a count above two and a timeout.
        proc = subprocess.run(["kcat", "-C", "-b", cluster.bootstrap, "-t", "clicks", "-o", "beginning", "-e", "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        got = proc.stdout.decode().splitlines()
        check(len(got) == 2, "%d messages on the topic, expected 2: %r" % (len(got), got))
    print("seed curl 200 and on the topic; 400/413/415/404/405/401 as expected; 2 messages in total", flush=True)


if __name__ == "__main__":
    run(main)
