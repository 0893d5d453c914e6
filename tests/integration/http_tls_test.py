#!/usr/bin/python3
"""The http source over TLS (tls_certificate / tls_private_key, a self-signed certificate made with
openssl): curl over HTTPS gets 200 and the event is written; plain HTTP to the same port gets no 200.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import Sluice, check, free_port, read_lines, run, wait_until  # noqa: E402


def curl(*args):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30"] + list(args),
                       stdout=subprocess.PIPE, timeout=60)
    return int(p.stdout or 0)


def main(env):
    cert, key = env.path("cert.pem"), env.path("key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "openssl failed: %s" % p.stderr.decode(errors="replace"))
    port, out = free_port(), env.path("events.jsonl")
    pipeline = env.write("tls.yaml", """
pipelines:
  tls:
    source:
      type: http
      listen: 127.0.0.1:%d
      tls_certificate: %s
      tls_private_key: %s
      routes:
        - {method: POST, path: /clicks}
    sinks:
      - {type: file, path: %s}
""" % (port, cert, key, out))
    with Sluice(env, [pipeline], name="tls") as s:
        url = "https://localhost:%d/clicks" % port
        wait_until(lambda: s.check_alive() or curl("-k", url) == 405, 60, "the HTTPS server to answer")
        status = curl("-k", "-H", "Content-Type: application/json", "--data", '{"secure": true}', url)
        check(status == 200, "HTTPS POST: %d" % status)
        check(curl("-H", "Content-Type: application/json", "--data", '{"secure": false}',
                   "http://127.0.0.1:%d/clicks" % port) != 200, "plain HTTP got 200 on the TLS port")
        check(curl("--cacert", cert, "-H", "Content-Type: application/json", "--data", '{"secure": "verified"}',
                   url) == 200, "HTTPS with the certificate verified")
        check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    events = [json.loads(line) for line in read_lines(out)]
    check(events == [{"secure": True}, {"secure": "verified"}], "written: %r" % events)
    print("HTTPS served with the configured certificate; plain HTTP refused", flush=True)


if __name__ == "__main__":
    run(main)
