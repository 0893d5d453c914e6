#!/usr/bin/python3
"""How the elasticsearch sink talks to its servers, against a real OpenSearch node (with a recording
proxy in front where the wire must be seen):

- several hosts, one of them dead: every document lands; the dead host is logged as down;
- `compression: gzip`: request bodies go gzip-compressed (Content-Encoding seen on the wire, smaller
  than the documents), and the node indexes them;
- `auth`: basic (password from an environment variable), api_key (from a file), bearer: the header on
  every request, the secret never in the log;
- TLS (https:// through a TLS proxy with a certificate made here): trusted with `tls_ca_file`; refused
  without it (the pipeline waits, /health names the certificate problem);
- `routing` and an ingest `pipeline` reach the node.
"""
import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from fault_proxy import FaultProxy  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402
from sluice_test import Sluice, check, free_port, run, wait_until  # noqa: E402


def finite(env, name, sink, docs, extra_env=None, admin=False):
    options = {"type": "elasticsearch", "refresh": "wait_for"}
    options.update(sink)
    pipeline = env.write(name + ".yaml", json.dumps(
        {"pipelines": {name: {"shutdown_timeout": "3s", "source": {"type": "stdin", "format": "ndjson"},
                              "sinks": [options]}}}))
    data = env.write(name + ".ndjson", "".join(json.dumps(d) + "\n" for d in docs))
    return Sluice(env, [pipeline], name=name, stdin_path=data, extra_env=extra_env, admin=admin)


def run_finite(env, name, sink, docs, extra_env=None):
    s = finite(env, name, sink, docs, extra_env)
    with s:
        code = s.wait_exit(120)
    check(code == 0, "%s exited %s:\n%s" % (name, code, s.log_tail()))
    return s


def docs(n, prefix="d"):
    return [{"id": "%s%d" % (prefix, i), "title": "a title that repeats, a title that repeats %d" % i} for i in range(n)]


def hosts(env, node):
    dead = "http://127.0.0.1:%d" % free_port()
    s = run_finite(env, "hosts", {"hosts": [dead, node.url], "index": "hosts", "id": "{id}", "batch_max_events": 10},
                   docs(200))
    check(node.count("hosts") == 200, "200 documents through the host that answers, found %d" % node.count("hosts"))
    check("host %s is down" % dead in s.log_text(), "the dead host is logged as down:\n%s" % s.log_tail())


def gzip(env, node):
    with FaultProxy(node.url) as proxy:
        batch = docs(500, "g")
        run_finite(env, "gzip", {"hosts": proxy.url, "index": "gzip", "id": "{id}", "compression": "gzip"}, batch)
        bulks = proxy.requests("/_bulk")
        check(bulks and all(r.headers.get("Content-Encoding") == "gzip" for r in bulks), "bulk bodies are gzipped")
        raw = sum(len(json.dumps(d)) for d in batch)
        check(sum(r.body_size for r in bulks) < raw / 2,
              "compressed bodies (%d bytes) are far smaller than the documents (%d)" % (
                  sum(r.body_size for r in bulks), raw))
    check(node.count("gzip") == 500, "the node indexed the compressed bulk: %d" % node.count("gzip"))


def auth(env, node):
    secret_file = env.write("api.key", "c2x1aWNlOmtleQ==\n")
    cases = [
        ("basic", {"type": "basic", "username": "indexer", "token_env": "ES_PASSWORD"},
         "Basic " + base64.b64encode(b"indexer:s3cret-pass").decode()),
        ("apikey", {"type": "api_key", "token_file": secret_file}, "ApiKey c2x1aWNlOmtleQ=="),
        ("bearer", {"type": "bearer", "token": "tok-123"}, "Bearer tok-123"),
    ]
    for name, auth_options, header in cases:
        with FaultProxy(node.url) as proxy:
            s = run_finite(env, "auth-" + name, {"hosts": proxy.url, "index": "auth", "id": "{id}",
                                                 "auth": auth_options}, docs(5, name),
                           extra_env={"ES_PASSWORD": "s3cret-pass"})
            seen = {r.headers.get("Authorization") for r in proxy.requests()}
            check(seen == {header}, "%s: every request carries %r, saw %s" % (name, header, seen))
            for secret in ("s3cret-pass", "c2x1aWNlOmtleQ==", "tok-123"):
                check(secret not in s.log_text(), "%s: the secret is not in the log" % name)
    check(node.count("auth") == 15, "15 documents written with credentials: %d" % node.count("auth"))


def tls(env, node):
    cert, key = env.path("cert.pem"), env.path("key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with FaultProxy(node.url, tls=(cert, key)) as proxy:
        check(proxy.url.startswith("https://"), "the proxy serves TLS")
        run_finite(env, "tls", {"hosts": proxy.url, "index": "tls", "id": "{id}", "tls_ca_file": cert}, docs(20, "t"))
        check(node.count("tls") == 20, "20 documents over TLS: %d" % node.count("tls"))
        # Not trusted: nothing is written, the pipeline waits, /health says why.
        s = finite(env, "untrusted", {"hosts": proxy.url, "index": "untrusted", "id": "{id}"}, docs(3, "u"),
                   admin=True)
        with s:
            def unhealthy():
                s.check_alive()
                try:
                    urllib.request.urlopen("http://%s/health" % s.admin, timeout=5)
                except urllib.error.HTTPError as e:
                    return e.read().decode()
                except OSError:
                    pass
                return None
            text = wait_until(unhealthy, 30, "/health to be unhealthy with an untrusted certificate")
            check("not connected to Elasticsearch" in text and "ertificate" in text,
                  "/health names the certificate problem: %s" % text)
            s.stop()
        check(not node.exists("untrusted"), "nothing was written through an untrusted connection")
        check(proxy.tls_failures, "the client refused the handshake")


def routing_and_pipeline(env, node):
    status, answer = node.request("PUT", "/_ingest/pipeline/stamp",
                                  {"processors": [{"set": {"field": "stamped", "value": True}}]})
    check(status == 200, "ingest pipeline created: %s" % answer)
    node.create_index("routed", shards=2)
    run_finite(env, "routed", {"hosts": node.url, "index": "routed", "id": "{id}", "routing": "{user}",
                               "pipeline": "stamp"}, [{"id": "r1", "user": "alice"}])
    status, doc = node.request("GET", "/routed/_doc/r1", params={"routing": "alice"})
    check(status == 200 and doc.get("_routing") == "alice", "the document is routed by user: %s" % doc)
    check(doc["_source"].get("stamped") is True, "the ingest pipeline ran on it: %s" % doc["_source"])


def main(env):
    with OpenSearchNode() as node:
        hosts(env, node)
        gzip(env, node)
        auth(env, node)
        tls(env, node)
        routing_and_pipeline(env, node)


if __name__ == "__main__":
    run(main)
