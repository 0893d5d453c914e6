#!/usr/bin/python3
"""validate = run: for a table of bad configs, one or more per plugin (every case of the hardening
issue's finding 6, and the hostile YAML files of finding 5), `sluice validate` and `sluice run` both
exit 2 before anything starts, with the same file:line:col messages, and the one expected among them.
A run that was refused never says it is starting and never binds the port it was given.
"""
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import check, free_port, run  # noqa: E402

PORT = free_port()
NULL_SINK = '    sinks: [{type: "null"}]\n'


def http(options, routes="[{method: POST, path: /a}]"):
    return ("pipelines:\n  p:\n    source:\n      type: http\n      listen: \"127.0.0.1:%d\"\n%s      routes: %s\n"
            % (PORT, options, routes)) + NULL_SINK


def kafka_source(options):
    return "pipelines:\n  p:\n    source: {type: kafka, brokers: \"127.0.0.1:1\", %s}\n" % options + NULL_SINK


def kafka_sink(options):
    return ("pipelines:\n  p:\n    source: {type: generate, count: 1}\n"
            "    sinks: [{type: kafka, brokers: \"127.0.0.1:1\", topic: t, %s}]\n" % options)


def sink(options):
    return "pipelines:\n  p:\n    source: {type: generate, count: 1}\n    sinks: [%s]\n" % options


def transform(options):
    return "pipelines:\n  p:\n    source: {type: generate, count: 1}\n    transforms: [%s]\n" % options + NULL_SINK


ALIAS_BOMB = "pipelines:\n  p:\n    source:\n      type: generate\n      template:\n" + "".join(
    "        a%d: &a%d [%s]\n" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10) if i else ", ".join("x" * 10))
    for i in range(10)) + NULL_SINK

# (name, file bytes, line:col, the expected "key path: message" or message)
CASES = [
    # http source
    ("http garbage listen", http("").replace('"127.0.0.1:%d"' % PORT, "not-an-address"), "5:7",
     "pipelines.p.source.listen: invalid listen address 'not-an-address': expected host:port"),
    ("http port 99999", http("").replace(str(PORT), "99999"), "5:7",
     "pipelines.p.source.listen: invalid listen address '127.0.0.1:99999': the port must be a number from 0"),
    ("http auth without a secret", http("      auth: {type: bearer}\n"), "6:13",
     "pipelines.p.source.auth: give exactly one of token, token_env, token_file (none is set)"),
    ("http auth with two secrets", http("      auth: {type: bearer, token: a, token_env: B}\n"), "6:13",
     "pipelines.p.source.auth: give exactly one of token, token_env, token_file (2 are set)"),
    ("http basic auth without username", http("      auth: {type: basic, token: a}\n"), "6:13",
     "pipelines.p.source.auth: type basic needs `username`"),
    ("http duplicate route", http("", "[{path: /a}, {path: /a}]"), "6:29",
     "pipelines.p.source.routes[1].path: route POST /a is declared twice in this source"),
    ("http duplicate route by parameter", http("", "[{path: '/a/{x}'}, {path: '/a/{y}'}]"), "6:35",
     "pipelines.p.source.routes[1].path: route POST /a/{y} is declared twice in this source"),
    ("http route across pipelines", http("") + "  q:\n    source: {type: http, listen: \"127.0.0.1:%d\", "
     "routes: [{path: /a}]}\n" % PORT + NULL_SINK, "9:63",
     "pipelines.q.source.routes[0].path: HTTP route POST /a on 127.0.0.1:%d is already declared by "
     "pipelines.p.source.routes[0].path (%s:6:31)" % (PORT, "%s")),
    ("http path without slash", http("", "[{path: a}]"), "6:17",
     "pipelines.p.source.routes[0].path: path must start with '/', got 'a'"),
    ("http tls half", http("      tls_certificate: c.pem\n"), "6:7",
     "pipelines.p.source.tls_certificate: tls_certificate and tls_private_key go together"),
    # kafka
    ("kafka source empty topics", kafka_source("topics: [], group: g"), "3:51",
     "pipelines.p.source.topics: the list is empty"),
    ("kafka source empty group", kafka_source("topics: [t], group: ''"), "3:64",
     "pipelines.p.source.group: must not be empty"),
    ("kafka source bad topic regex", kafka_source("topics: ['^(a'], group: g"), "3:51",
     "pipelines.p.source.topics: invalid topic pattern '^(a'"),
    # glibc's regcomp would take gigabytes for it (found by the config fuzzer)
    ("kafka source exponential topic regex", kafka_source("topics: ['^(b" + "+" * 100 + "ad)'], group: g"),
     "3:51", "pipelines.p.source.topics: topic pattern '^(b+++"),
    ("kafka source nested group repetitions", kafka_source("topics: ['^" + "(" * 40 + "a" + ")+" * 40 + "'], group: g"),
     "3:51", "is too complex: its nested repetitions"),
    ("kafka source embedded mixed", kafka_source("topics: [t], group: g").replace(
        '"127.0.0.1:1"', '[embedded, "b:9092"]'), "3:27",
     "pipelines.p.source.brokers: `embedded` cannot be mixed with other brokers"),
    ("kafka source bad rdkafka setting", kafka_source("topics: [t], group: g, rdkafka.no.such: 1"), "3:74",
     "pipelines.p.source.rdkafka.no.such: librdkafka setting no.such: No such configuration property"),
    ("kafka source librdkafka auto-commit", kafka_source("topics: [t], group: g, rdkafka.enable.auto.commit: true"),
     "3:74", "pipelines.p.source.rdkafka.enable.auto.commit: enable.auto.commit is the source's own"),
    ("kafka sink acks 0 with idempotence", kafka_sink("acks: '0'"), "4:61",
     "pipelines.p.sinks[0].acks: idempotence needs acks: all (or set idempotence: false)"),
    ("kafka sink payload template without template", kafka_sink("payload: template"), "4:61",
     "pipelines.p.sinks[0].payload: payload: template needs the `template` option"),
    # file sink
    ("file empty path", sink("{type: file, path: ''}"), "4:26",
     "pipelines.p.sinks[0].path: the path is empty"),
    ("file template without template", sink("{type: file, path: out.log, format: template}"), "4:41",
     "pipelines.p.sinks[0].format: format: template needs the 'template' option"),
    ("file columns without columns", sink("{type: file, path: out.log, format: columns}"), "4:41",
     "pipelines.p.sinks[0].format: format: columns needs a non-empty 'columns' list"),
    # basic
    ("filter invalid regex", transform("{type: filter, conditions: [{field: x, op: regex, value: '(['}]}"), "4:68",
     "pipelines.p.transforms[0].conditions[0].value: invalid regex"),
    ("filter in without a list", transform("{type: filter, conditions: [{field: x, op: in, value: 3}]}"), "4:65",
     "pipelines.p.transforms[0].conditions[0].value: op 'in' needs a list"),
    ("filter op without value", transform("{type: filter, conditions: [{field: x, op: '=='}]}"), "4:46",
     "pipelines.p.transforms[0].conditions[0]: op '==' needs a value"),
    ("remap two operations", transform("{type: remap, operations: [{set: {a: 1}, delete: b}]}"), "4:45",
     "pipelines.p.transforms[0].operations[0]: each operation is exactly one of set, rename, delete, copy"),
    ("remap bad field", transform("{type: remap, operations: [{delete: 'a.'}]}"), "4:46",
     "pipelines.p.transforms[0].operations[0].delete: 'a.'"),
    ("generate unknown generator", "pipelines:\n  p:\n    source: {type: generate, template: {a: '{nope}'}}\n"
     + NULL_SINK, "3:30", "pipelines.p.source.template: template.a: unknown generator {nope}"),
    ("generate template not a map", "pipelines:\n  p:\n    source: {type: generate, template: [1]}\n" + NULL_SINK,
     "3:30", "pipelines.p.source.template: template must be a map"),
    ("stdout template without template", sink("{type: stdout, format: template}"), "4:28",
     "pipelines.p.sinks[0].format: format template needs a `template`"),
    # hostile YAML
    ("alias bomb", ALIAS_BOMB, "10:", "aliases expand the document past 100000 nodes (an alias bomb?)"),
    ("self-referencing anchor", "pipelines: &p\n  a: *p\n", "2:6",
     "this alias refers to a node that contains it (a cycle)"),
    ("Latin-1 byte", "pipelines:\n  p:\n    source: {type: generate, template: {a: caf\xe9}}\n" + NULL_SINK, "3:47",
     "invalid UTF-8 (byte 0xE9)"),
    ("BOM then garbage", "\ufeffpipelines: [\x01", "1:", "YAML syntax error"),
    ("second document", sink('{type: "null"}') + "---\npipelines: {}\n", "5:1", "a second YAML document starts here"),
    ("empty pipelines", "pipelines:\n", "1:1", "pipelines: no pipelines declared"),
    ("non-UTF-8 pipeline name", "pipelines:\n  \"\\xff\":\n    source: {type: generate}\n" + NULL_SINK, "2:3",
     "pipelines.\u00ff: invalid pipeline name '\u00ff'"),
]


def diagnostics(stderr, path):
    return [line for line in stderr.splitlines() if line.startswith(path + ":")]


def main(env):
    conf = env.write("sluice.conf.yaml", "plugin_dirs: [\"%s\"]\nadmin: {listen: \"off\"}\ndata_dir: \"%s\"\n"
                     % (env.plugin_dir, env.path("data")))
    try:
        for i, (name, text, at, expected) in enumerate(CASES):
            path = env.path("case%02d.yaml" % i)
            with open(path, "wb") as f:
                f.write(text.encode("utf-8") if "Latin-1" not in name else text.encode("latin-1"))
            v = subprocess.run([env.bin, "validate", "--config", conf, path], capture_output=True, text=True,
                               errors="replace", timeout=60)
            r = subprocess.run([env.bin, "run", "--config", conf, path], capture_output=True, text=True,
                               errors="replace", timeout=60, stdin=subprocess.DEVNULL)
            check(v.returncode == 2, "%s: validate exit %d, expected 2:\n%s%s" % (name, v.returncode, v.stdout, v.stderr))
            check(r.returncode == 2, "%s: run exit %d, expected 2:\n%s" % (name, r.returncode, r.stderr))
            vd, rd = diagnostics(v.stderr, path), diagnostics(r.stderr, path)
            check(vd and vd == rd, "%s: validate and run disagree:\nvalidate: %r\nrun:      %r" % (name, vd, rd))
            want = "%s:%s" % (path, at)
            expected = expected.replace("%s", path)
            check(any(d.startswith(want) and expected in d for d in vd),
                  "%s: no '%s...%s' among:\n%s" % (name, want, expected, "\n".join(vd)))
            check(" starting: " not in r.stderr, "%s: run started before refusing:\n%s" % (name, r.stderr))
        # Nothing of a refused run is left listening on the port the http cases named.
        with socket.socket() as s:
            s.bind(("127.0.0.1", PORT))
        print("%d bad configs: validate and run both refuse each with the same messages" % len(CASES), flush=True)
    finally:
        shutil.rmtree(env.tmp, ignore_errors=True)


if __name__ == "__main__":
    run(main)
