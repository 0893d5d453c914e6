#!/usr/bin/python3
"""https from the stand-in X stream (x_stream_server.py) with a test CA made here with openssl:

- `tls_ca_file: <the test CA>` and `https://localhost`: verified, the tweets arrive;
- the system's CAs (no tls_ca_file): the certificate is refused, no HTTP request reaches the server, nothing
  is emitted, /health says why, and the source keeps retrying (network class);
- the test CA, but a certificate for another name (`elsewhere.invalid`, on `https://localhost`): refused as
  well. (Poco also accepts a certificate whose name resolves to the address connected to: a certificate for
  `localhost` passes on `https://127.0.0.1`; the test's other name resolves nowhere.)
- `tls_verify: false`: accepted without verification.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_test import Sluice, check, read_lines, run, wait_until  # noqa: E402
from x_stream_server import XStreamServer, health, tweet  # noqa: E402


def openssl(*args):
    p = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, "openssl %s: %s" % (args[0], p.stderr.decode(errors="replace")))


def make_certificates(env):
    """A test CA, and two server certificates it signs: (CA, (cert, key) for localhost, (cert, key) for a name
    that resolves nowhere)."""
    ca_key, ca = env.path("ca.key"), env.path("ca.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "1",
            "-subj", "/CN=sluice test CA")
    pairs = []
    for name in ("localhost", "elsewhere.invalid"):
        key, csr, cert = env.path(name + ".key"), env.path(name + ".csr"), env.path(name + ".pem")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
        ext = env.write(name + ".ext", "subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n" % name)
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "1",
                "-extfile", ext)
        pairs.append((cert, key))
    return ca, pairs[0], pairs[1]


def main(env):
    ca, localhost, elsewhere = make_certificates(env)
    with XStreamServer(tls=localhost) as good, XStreamServer(tls=localhost) as unknown_ca, \
            XStreamServer(tls=elsewhere) as wrong_name, XStreamServer(tls=localhost) as unverified:
        good.add({"lines": [tweet(1), tweet(2)], "end": "hold"})
        unverified.add({"lines": [tweet(3)], "end": "hold"})
        out = {n: env.path(n + ".jsonl") for n in ("good", "unknown_ca", "wrong_name", "unverified")}
        fast = "      network_backoff_step: 100ms\n      network_backoff_max: 200ms\n"
        pipeline = env.write("tls.yaml", """
pipelines:
  good:
    source: {type: http_client, url: "%s", tls_ca_file: "%s"}
    sinks: [{type: file, path: "%s"}]
  unknown_ca:
    source:
      type: http_client
      url: "%s"
%s    sinks: [{type: file, path: "%s"}]
  wrong_name:
    source:
      type: http_client
      url: "%s"
      tls_ca_file: "%s"
%s    sinks: [{type: file, path: "%s"}]
  unverified:
    source: {type: http_client, url: "%s", tls_verify: false}
    sinks: [{type: file, path: "%s"}]
""" % (good.url, ca, out["good"], unknown_ca.url, fast, out["unknown_ca"],
            wrong_name.url, ca, fast, out["wrong_name"],
            unverified.url, out["unverified"]))
        with Sluice(env, [pipeline], name="tls", admin=True) as s:
            wait_until(lambda: s.check_alive() or len(read_lines(out["good"])) >= 2, 60, "the verified stream's tweets")
            wait_until(lambda: len(read_lines(out["unverified"])) >= 1, 60, "the unverified stream's tweet")
            wait_until(lambda: unknown_ca.handshake_failures >= 2 and wrong_name.handshake_failures >= 2, 60,
                       "refused handshakes to be retried (unknown CA %d, wrong name %d)" % (unknown_ca.handshake_failures, wrong_name.handshake_failures))
            check(unknown_ca.request_list() == [] and wrong_name.request_list() == [],
                  "a request reached a server whose certificate should have been refused")
            status, body = health(s)
            check(status == 503 and "unknown_ca" in body and "wrong_name" in body,
                  "/health does not report the refused certificates: %d %s" % (status, body))
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    check(read_lines(out["good"]) == [tweet(1), tweet(2)], "verified: %r" % read_lines(out["good"]))
    check(read_lines(out["unverified"]) == [tweet(3)], "unverified: %r" % read_lines(out["unverified"]))
    check(read_lines(out["unknown_ca"]) == [] and read_lines(out["wrong_name"]) == [], "refused streams emitted")


if __name__ == "__main__":
    run(main)
