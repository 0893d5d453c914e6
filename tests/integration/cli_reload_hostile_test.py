#!/usr/bin/python3
"""SIGHUP with a hostile pipeline file: an alias bomb, a self-referencing anchor, a BOM followed by
garbage, a Latin-1 byte, a second document, an empty `pipelines:`, a non-UTF-8 pipeline name and a
config that only a plugin's check refuses. Each reload is refused with file:line:col in the log, the
daemon stays up and small (the bomb is refused before it is expanded), the old pipeline keeps
answering and writing, and /status keeps answering 200 with JSON. A good file then reloads.
"""
import json
import os
import shutil
import signal
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import Sluice, check, free_port, read_lines, run, wait_until  # noqa: E402

PIPELINE = """pipelines:
  ingest:
    source:
      type: http
      listen: "127.0.0.1:%d"
      routes: [{method: POST, path: /in}]
    sinks:
      - {type: file, path: "%s", format: template, template: "%s {n}"}
"""

ALIAS_BOMB = "pipelines:\n  ingest:\n    source:\n      type: generate\n      template:\n" + "".join(
    "        a%d: &a%d [%s]\n" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10) if i else ", ".join("x" * 10))
    for i in range(10)) + "    sinks: [{type: \"null\"}]\n"

HOSTILE = [
    ("alias bomb", ALIAS_BOMB.encode(), "aliases expand the document past"),
    ("self-referencing anchor", b"pipelines: &p\n  a: *p\n", "refers to a node that contains it"),
    ("BOM then garbage", b"\xef\xbb\xbfpipelines: [\x01\xff", "invalid UTF-8"),
    ("BOM then a missing type", b"\xef\xbb\xbfpipelines:\n  ingest:\n    source: {listen: x}\n"
     b"    sinks: [{type: \"null\"}]\n", "pipelines.ingest.source.type: missing required key 'type'"),
    ("Latin-1 byte", b"pipelines:\n  ingest:\n    source: {type: generate, template: {a: caf\xe9}}\n"
     b"    sinks: [{type: \"null\"}]\n", "invalid UTF-8 (byte 0xE9)"),
    ("second document", b"pipelines: {}\n---\npipelines: {}\n", "a second YAML document starts here"),
    ("empty pipelines", b"pipelines:\n", "no pipelines declared"),
    ("non-UTF-8 name", b"pipelines:\n  \"\\xff\\xfe\":\n    source: {type: generate}\n    sinks: [{type: \"null\"}]\n",
     "invalid pipeline name"),
    ("a plugin check", b"pipelines:\n  ingest:\n    source: {type: http, listen: \"127.0.0.1:99999\", routes: "
     b"[{path: /in}]}\n    sinks: [{type: \"null\"}]\n", "invalid listen address"),
]


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def post(port, n):
    req = urllib.request.Request("http://127.0.0.1:%d/in" % port, data=json.dumps({"n": n}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def status(admin):
    with urllib.request.urlopen("http://%s/status" % admin, timeout=10) as r:
        return r.status, json.loads(r.read())


def main(env):
    try:
        port = free_port()
        out = env.path("events.log")
        path = env.path("ingest.yaml")
        with open(path, "w") as f:
            f.write(PIPELINE % (port, out, "old"))
        with Sluice(env, [path], name="hostile", admin=True) as s:
            wait_until(lambda: s.check_alive() or "listening on http://" in s.log_tail(200), 30,
                       "the http source listening")
            check(post(port, 0) == 200, "the first event was not answered 200")
            rss_before = rss_mb(s.proc.pid)
            for i, (name, data, expected) in enumerate(HOSTILE, start=1):
                with open(path, "wb") as f:
                    f.write(data)
                s.proc.send_signal(signal.SIGHUP)
                wait_until(lambda: s.check_alive() or s.log_tail(400).count("reload refused") >= i, 30,
                           "reload %d (%s) refused" % (i, name))
                log = s.log_tail(400)
                check(path + ":" in log and expected in log,
                      "%s: the refusal does not name %s:line:col and '%s':\n%s" % (name, path, expected, log))
                check(post(port, i) == 200, "%s: the old pipeline stopped answering" % name)
                code, doc = status(s.admin)
                check(code == 200 and [p["name"] for p in doc["pipelines"]] == ["ingest"],
                      "%s: /status is %d %r" % (name, code, doc))
            wait_until(lambda: len(read_lines(out)) >= len(HOSTILE) + 1, 30, "every event written")
            check(read_lines(out) == ["old %d" % i for i in range(len(HOSTILE) + 1)],
                  "the old pipeline did not write every event: %r" % read_lines(out))
            rss_after = rss_mb(s.proc.pid)
            check(rss_after < rss_before + 64, "memory grew from %d MB to %d MB over the refused reloads"
                  % (rss_before, rss_after))

            with open(path, "w") as f:
                f.write(PIPELINE % (port, out, "new"))
            s.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: s.check_alive() or "reload done" in s.log_tail(400), 30, "the good file reloaded")
            wait_until(lambda: post(port, 99) == 200, 30, "the reloaded pipeline answering")
            wait_until(lambda: read_lines(out)[-1:] == ["new 99"], 30, "the reloaded pipeline writing")
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
        print("%d hostile reloads refused; RSS %d MB -> %d MB; the old pipeline kept serving"
              % (len(HOSTILE), rss_before, rss_after), flush=True)
    finally:
        shutil.rmtree(env.tmp, ignore_errors=True)


if __name__ == "__main__":
    run(main)
