#!/usr/bin/python3
"""401 from the stand-in X stream (x_stream_server.py) stops the http_client source: /health turns
unhealthy and says why, the server sees no second request, the token never shows in the log, and the
daemon still stops cleanly on SIGTERM. Then 403 on a second pipeline does the same. The retry numbers are
shrunk to 50 ms: a source that retried would send a dozen requests during the second this test watches.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_test import Sluice, check, run, wait_until  # noqa: E402
from x_stream_server import XStreamServer, health  # noqa: E402

TOKEN = "wrong-token-9f8e7d6c5b4a"
SHRUNK = """      network_backoff_step: 50ms
      network_backoff_max: 50ms
      http_backoff_initial: 50ms
      http_backoff_max: 50ms
      rate_limit_backoff_initial: 50ms
      rate_limit_backoff_max: 50ms
"""


def main(env):
    with XStreamServer() as unauthorized, XStreamServer() as forbidden:
        unauthorized.add({"status": 401, "body": json.dumps(
            {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})})
        forbidden.add({"status": 403, "body": json.dumps({"title": "Forbidden", "status": 403})})
        pipeline = env.write("auth.yaml", """
pipelines:
  unauthorized:
    source:
      type: http_client
      url: %s
      auth: {type: bearer, token_env: X_TOKEN}
%s    sinks: [{type: file, path: %s}]
  forbidden:
    source:
      type: http_client
      url: %s
      auth: {type: header, header: X-Api-Key, token_env: X_TOKEN}
%s    sinks: [{type: file, path: %s}]
""" % (unauthorized.url, SHRUNK, env.path("a.jsonl"), forbidden.url, SHRUNK, env.path("b.jsonl")))
        with Sluice(env, [pipeline], extra_env={"X_TOKEN": TOKEN}, name="auth", admin=True) as s:
            def stopped_on_health():
                s.check_alive()
                status, body = health(s)
                return status not in (0, 200) and body.count("credentials were refused") >= 2 and (status, body)
            status, body = wait_until(stopped_on_health, 60, "/health to say both sources stopped")
            check("401" in body and "403" in body, "/health does not name the answers: %s" % body)
            check(TOKEN not in body, "/health shows the token")
            # Watch for a retry: with every wait shrunk to 50 ms, one would come within a second.
            time.sleep(1.0)
            check(len(unauthorized.request_list()) == 1, "after 401 the server saw %d requests"
                  % len(unauthorized.request_list()))
            check(len(forbidden.request_list()) == 1, "after 403 the server saw %d requests"
                  % len(forbidden.request_list()))
            check(unauthorized.request_list()[0].headers.get("authorization") == "Bearer " + TOKEN, "bearer header")
            check(forbidden.request_list()[0].headers.get("x-api-key") == TOKEN, "X-Api-Key header")
            check(health(s)[0] != 200, "/health turned healthy again")
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
        check(TOKEN not in s.log_text(), "the token is in the log")
        check("credentials were refused" in s.log_text(), "the stop is not in the log")


if __name__ == "__main__":
    run(main)
