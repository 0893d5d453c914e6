#!/usr/bin/env python3
"""`sluice tap` against a running daemon, as a user runs it from a second terminal:

- `tap views` prints what reaches the sinks (after the filter), as JSON lines, and stops after --limit;
- `tap views.source --rate 5` prints at most five a second of the source's output, and says on stderr how
  many it skipped; Ctrl-C (SIGINT) ends it with exit 0, and the daemon closes the session;
- `tap clicks.source --meta` on an HTTP ingest route shows the request's metadata with the Authorization
  header redacted (the token is never printed) and other headers as sent;
- a component that is not there: exit 2, naming the ones there are; no daemon: exit 1;
- a SIGHUP that replaces the pipeline ends the tap with a message and exit 1.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import Sluice, check, free_port, run, wait_until  # noqa: E402

TOKEN = "tap-test-token-7f3a9c"

PIPELINES = """
pipelines:
  views:
    source: {type: generate, rate: %d, template: {user_id: "{random_int:1:100}", item_id: "{random_int:1:50}"}}
    transforms:
      - type: filter
        conditions: [{field: user_id, op: "<=", value: 50}]
    sinks: [{type: "null"}]
  clicks:
    source:
      type: http
      listen: 127.0.0.1:%d
      routes: [{path: /clicks}]
    sinks: [{type: "null"}]
"""


def tap(env, admin, *args, timeout=60):
    return subprocess.run([env.bin, "tap", *args, "--admin", admin], capture_output=True, text=True, timeout=timeout)


def main(env):
    port = free_port()
    path = env.write("p.yaml", PIPELINES % (2000, port))
    with Sluice(env, [path], admin=True) as d:
        wait_until(lambda: (d.metric("sluice_events_out_total") or 0) > 500, 30, "the pipelines running")

        # What reaches the sinks: the filter's output.
        out = tap(env, d.admin, "views", "--limit", "20")
        check(out.returncode == 0, "tap views --limit 20: exit %d: %s" % (out.returncode, out.stderr))
        lines = out.stdout.splitlines()
        check(len(lines) == 20, "expected 20 lines, got %d:\n%s" % (len(lines), out.stdout))
        events = [json.loads(line) for line in lines]
        check(all(e["user_id"] <= 50 for e in events), "tap views printed events the filter drops: %r" % events)
        check("views.transform.filter" in out.stderr, "stderr does not say what is tapped: %s" % out.stderr)

        # The source's output, sampled at 5/s, until Ctrl-C.
        started = time.monotonic()
        p = subprocess.Popen([env.bin, "tap", "views.source", "--rate", "5", "--admin", d.admin],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        got = []
        while len(got) < 10:
            line = p.stdout.readline()
            if not line:
                check(False, "tap views.source ended early: %s" % p.stderr.read())
            got.append(json.loads(line))
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=30)
        elapsed = time.monotonic() - started
        got += [json.loads(line) for line in rest.splitlines()]
        check(p.returncode == 0, "tap ended by SIGINT: exit %d: %s" % (p.returncode, err))
        check(any(e["user_id"] > 50 for e in got), "the source's output should hold unfiltered events: %r" % got)
        # A second's worth at once, then 5 a second (the pipeline makes 2,000).
        check(len(got) <= 5 + 5 * elapsed + 1, "%d events in %.1f s at --rate 5" % (len(got), elapsed))
        skipped = re.search(r"skipped (\d+) over the rate", err)
        check(skipped and int(skipped.group(1)) > 1000,
              "stderr should count the events skipped over the rate: %s" % err)

        # HTTP metadata, with the credentials redacted.
        p = subprocess.Popen([env.bin, "tap", "clicks.source", "--meta", "--limit", "1", "--admin", d.admin],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: p.stderr.readline().startswith("sluice tap: clicks.source.http"), 30, "the tap to open")
        req = urllib.request.Request("http://127.0.0.1:%d/clicks" % port, data=b'{"user_id": 7, "item_id": 9}',
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN,
                                              "User-Agent": "tap-test/1"})
        check(urllib.request.urlopen(req, timeout=10).status == 200, "POST /clicks was not accepted")
        line, err = p.communicate(timeout=30)
        check(p.returncode == 0, "tap clicks.source: exit %d: %s" % (p.returncode, err))
        check(TOKEN not in line, "the bearer token was printed: %s" % line)
        e = json.loads(line)
        check(e["payload"] == {"user_id": 7, "item_id": 9}, "payload: %r" % e)
        headers = {k.lower(): v for k, v in e["meta"]["headers"].items()}
        check(headers.get("authorization") == "[redacted]", "Authorization: %r" % headers.get("authorization"))
        check(headers.get("user-agent") == "tap-test/1", "User-Agent: %r" % headers.get("user-agent"))

        # Mistakes.
        out = tap(env, d.admin, "views.nope")
        check(out.returncode == 2 and "source.generate" in out.stderr and "transform.filter" in out.stderr,
              "a missing component: exit %d: %s" % (out.returncode, out.stderr))
        out = tap(env, d.admin, "nope")
        check(out.returncode == 2 and "views" in out.stderr, "a missing pipeline: exit %d: %s"
              % (out.returncode, out.stderr))
        out = tap(env, "127.0.0.1:%d" % free_port(), "views")
        check(out.returncode == 1 and "cannot reach" in out.stderr, "no daemon: exit %d: %s"
              % (out.returncode, out.stderr))

        # A reload that replaces the pipeline ends the tap.
        p = subprocess.Popen([env.bin, "tap", "views", "--admin", d.admin, "--rate", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(p.stdout.readline(), "the tap printed nothing")
        with open(path, "w") as f:
            f.write(PIPELINES % (1000, port))
        d.proc.send_signal(signal.SIGHUP)
        _, err = p.communicate(timeout=30)
        check(p.returncode == 1 and "stopped or was replaced" in err,
              "tap across a reload: exit %d: %s" % (p.returncode, err))

        # The sessions are gone: the daemon holds none for listeners that left.
        with urllib.request.urlopen("http://%s/status" % d.admin, timeout=10) as r:
            status = json.loads(r.read())
        check(status.get("taps") == 0, "open taps after every listener left: %r" % status.get("taps"))
        check(d.stop() == 0, "sluice exited non-zero on SIGTERM")


if __name__ == "__main__":
    run(main)
