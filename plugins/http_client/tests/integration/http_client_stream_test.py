#!/usr/bin/python3
"""The http_client source against a local stand-in for the X v2 filtered stream (x_stream_server.py; the
real API cannot be reached from here), through every fault of one session, with shrunk numbers:

  1. three tweets, then the connection drops in the middle of a fourth: the cut tweet is never emitted;
  2. an in-band {"errors": [...]} object (operational disconnect), then the stream ends: logged, counted,
     not emitted;
  3. three requests dropped without an answer: the waits grow linearly (50, 100, 150, 200 ms: server
     timestamps); then 503 twice: 300 ms, then 600 ms;
  4. 429 with x-rate-limit-reset two seconds ahead: the next request comes after the reset;
  5. three tweets, then a stall (no byte): the source closes after stall_timeout and reconnects;
  6. a tweet, keep-alives only for longer than stall_timeout (no reconnect: keep-alives count), two more.

Every tweet sent whole arrives once, in order, in the file sink; every request carries the bearer token,
which the log never shows.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_test import Sluice, check, read_lines, run, wait_until  # noqa: E402
from x_stream_server import XStreamServer, labelled, tweet  # noqa: E402

TOKEN = "AAAA-test-bearer-token-0123456789"
STALL = 1.0
HTTP_INITIAL = 0.3


def main(env):
    import time
    out = env.path("tweets.jsonl")
    with XStreamServer(keepalive=0.2) as server:
        reset_at = None

        def rate_limited():
            return {"status": 429, "headers": {"x-rate-limit-reset": reset_at}, "body": json.dumps(
                {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})}

        # The 429's reset time is fixed when the plan is added, a little before it is served.
        server.add(
            {"lines": [tweet(1), tweet(2), tweet(3)], "end": "cut", "cut": tweet(4)[:25]},
            {"lines": [json.dumps({"errors": [{"title": "operational-disconnect", "disconnect_type":
                                              "UpstreamOperationalDisconnect", "detail": "This stream has been "
                                              "disconnected upstream for operational reasons.", "type":
                                              "https://api.twitter.com/2/problems/operational-disconnect"}]})],
             "end": "close"},
            {"drop": True}, {"drop": True}, {"drop": True},
            {"status": 503, "body": json.dumps({"title": "Service Unavailable", "status": 503})},
            {"status": 503, "body": json.dumps({"title": "Service Unavailable", "status": 503})})
        pipeline = env.write("stream.yaml", """
pipelines:
  tweets:
    source:
      type: http_client
      url: %s
      query: {tweet.fields: "created_at,author_id,lang"}
      auth: {type: bearer, token_env: X_TOKEN}
      stall_timeout: %dms
      network_backoff_step: 50ms
      network_backoff_max: 200ms
      http_backoff_initial: %dms
      http_backoff_max: 1s
      rate_limit_backoff_initial: 200ms
      rate_limit_backoff_max: 1s
    sinks:
      - {type: file, path: %s}
""" % (server.url, STALL * 1000, HTTP_INITIAL * 1000, out))
        with Sluice(env, [pipeline], extra_env={"X_TOKEN": TOKEN}, name="stream", admin=True) as s:
            wait_until(lambda: s.check_alive() or len(server.request_list()) >= 6, 60, "the first 503 to be served")
            reset_at = int(time.time()) + 2
            server.add(rate_limited(),
                       {"lines": [tweet(5), tweet(6), tweet(7)], "end": "stall"},
                       {"lines": [tweet(8), STALL * 1.5, tweet(9), tweet(10)], "end": "hold"})
            expected = [1, 2, 3, 5, 6, 7, 8, 9, 10]
            wait_until(lambda: s.check_alive() or len(read_lines(out)) >= len(expected), 90,
                       "the tweets in the file sink")
            wait_until(lambda: (s.metric("sluice_http_client_keepalives_total") or 0) >= 1, 10, "keep-alive counts")
            reqs = server.request_list()
            check(len(reqs) == 10, "requests: %d, expected 10 (a reconnect during keep-alives?): %r"
                  % (len(reqs), [r.at for r in reqs]))
            check(all(r.headers.get("authorization") == "Bearer " + TOKEN for r in reqs),
                  "a request without the bearer token: %r" % [r.headers.get("authorization") for r in reqs])
            check(all("tweet.fields=created_at%2Cauthor_id%2Clang" in r.path for r in reqs), "query: %r" % reqs[0].path)
            gaps = [b.at - a.at for a, b in zip(reqs, reqs[1:])]
            # Network errors (the stream's end, then three requests dropped unanswered): linear, 50 ms steps
            # up to 200 ms. HTTP errors (503, 503): exponential from 300 ms. Each wait at least that long.
            for i, wait in ((1, 0.05), (2, 0.1), (3, 0.15), (4, 0.2), (5, HTTP_INITIAL), (6, 2 * HTTP_INITIAL)):
                check(gaps[i] >= wait - 0.02, "request %d came %.3f s after the one before, expected >= %.2f s "
                      "(gaps %s)" % (i + 1, gaps[i], wait, ["%.3f" % g for g in gaps]))
            # 429 -> not before x-rate-limit-reset (the schedule alone would wait 200 ms).
            check(reqs[8].at >= reset_at - 0.01,
                  "after 429 the next request came at %.3f, before x-rate-limit-reset %d" % (reqs[8].at, reset_at))
            # The stall: the server sent its last byte, then nothing; the source gave up after stall_timeout.
            check(gaps[8] >= STALL, "the stalled stream was reconnected after %.3f s (< stall_timeout)" % gaps[8])
            check(labelled(s, "sluice_http_client_reconnects_total", 'reason="stall"') == 1,
                  "no stall reconnect in the metrics")
            check(labelled(s, "sluice_http_client_reconnects_total", 'reason="connect"') == 3,
                  "unanswered requests in the metrics: %r"
                  % labelled(s, "sluice_http_client_reconnects_total", 'reason="connect"'))
            check(s.metric("sluice_http_client_in_band_errors_total") == 1, "in-band errors: %r"
                  % s.metric("sluice_http_client_in_band_errors_total"))
            check((s.metric("sluice_http_client_partial_records_dropped_total") or 0) >= 1, "no dropped partial line counted")
            check(labelled(s, "sluice_http_client_errors_total", 'class="rate_limited"') == 1, "rate-limited errors")
            check(labelled(s, "sluice_http_client_errors_total", 'class="http"') == 2, "http errors")
            check(s.metric("sluice_http_client_connected") == 1, "not connected at the end")
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
        log = s.log_text()
        check(TOKEN not in log, "the bearer token is in the log")
        check("operational-disconnect" in log, "the in-band error was not logged:\n" + log[-3000:])
        check("429" in log and "503" in log, "the 429 / 503 answers are not in the log")
    lines = read_lines(out)
    ids = [json.loads(line)["data"]["id"] for line in lines]
    check(ids == [str(i) for i in expected], "tweets in the sink: %r" % ids)
    check(all(line == tweet(int(json.loads(line)["data"]["id"])) for line in lines), "a tweet was changed")


if __name__ == "__main__":
    run(main)
