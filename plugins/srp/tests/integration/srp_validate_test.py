#!/usr/bin/python3
"""`sluice validate` refuses what the srp source could not run, with the file:line:col of the key
and what is expected: a bad listen address, `embedded` mixed with servers, a URL that is not one,
an index name Elasticsearch would refuse, page_size over max_page_size, a cookie name that is not
one, TLS halves; and two components claiming the same route on one address (an srp page and an
http source with `GET /` on 0.0.0.0:8080). The shipped example of the docs validates."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from sluice_test import check, run  # noqa: E402

CASES = [
    ("listen: nowhere", "srp.yaml:5:", "invalid listen address 'nowhere'"),
    ("hosts: [embedded, 'http://127.0.0.1:9200']", "srp.yaml:6:", "cannot be mixed with servers"),
    ("hosts: 'ftp://x'", "srp.yaml:6:", "invalid host 'ftp://x'"),
    ("index: Listings", "srp.yaml:6:", "invalid index name 'Listings'"),
    ("page_size: 50\nmax_page_size: 20", "srp.yaml:6:", "page_size is over max_page_size"),
    ("user_cookie: 'a b'", "srp.yaml:6:", "a cookie name has 1 to 64 letters"),
    ("tls_certificate: /x.pem", "srp.yaml:6:", "tls_certificate and tls_private_key go together"),
    ("page_sizes: 10", "srp.yaml:6:", "page_sizes"),
]


def validate(env, text):
    path = env.write("srp.yaml", text)
    r = subprocess.run([env.bin, "validate", "--plugin-dir", env.plugin_dir, path], capture_output=True, text=True,
                       timeout=60, cwd=env.tmp)
    return r.returncode, r.stdout + r.stderr


def pipeline(options, listen="127.0.0.1:0"):
    """A pipeline whose srp source has @options (YAML lines, `key: value`) besides `listen`."""
    lines = "".join("      %s\n" % line for line in options.split("\n"))
    return ("pipelines:\n  search:\n    source:\n      type: srp\n      listen: %s\n%s    sinks: {type: null}\n"
            % (listen, lines))


def main(env):
    code, out = validate(env, pipeline("index: listing_index"))
    check(code == 0, "a valid page: %d %s" % (code, out))
    for option, where, message in CASES:
        if option.startswith("listen:"):
            text = pipeline("index: x", listen=option.split(": ", 1)[1])
        else:
            text = pipeline(option)
        code, out = validate(env, text)
        check(code == 2 and message in out, "%r: expected exit 2 with %r, got %d:\n%s" % (option, message, code, out))
        check(where in out, "%r: the message names the file and line (%s):\n%s" % (option, where, out))
    clash = """pipelines:
  search:
    source: {type: srp, listen: "0.0.0.0:8080"}
    sinks: {type: null}
  ingest:
    source:
      type: http
      listen: ":8080"
      routes: [{method: GET, path: /}]
    sinks: {type: null}
"""
    code, out = validate(env, clash)
    check(code == 2 and "GET /" in out and "0.0.0.0:8080" in out, "a route clash is refused: %d\n%s" % (code, out))


if __name__ == "__main__":
    run(main)
