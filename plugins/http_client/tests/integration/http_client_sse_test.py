#!/usr/bin/python3
"""The http_client source on a Server-Sent Events stream, and in-band errors sent to the dead-letter sink,
against the local stand-in server (x_stream_server.py):

  1. SSE (`framing: sse`): events with `event:` and `id:`, a `data:` spread over two lines, comments and
     blank keep-alives, CRLF and LF line ends; then the connection drops in the middle of an event: the
     whole events arrive, in order, with meta.attr.sse_event / sse_id; the cut one never does;
  2. the reconnect carries `Last-Event-ID` with the last id seen, as the SSE specification says;
  3. NDJSON with `errors: dead_letter`: an in-band `{"errors": [...]}` object goes to the pipeline's
     dead-letter file (the default one: none is declared) with the reason, the tweets around it to the
     sink, and nothing is lost.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_test import Sluice, check, read_lines, run, wait_until  # noqa: E402
from x_stream_server import XStreamServer, tweet  # noqa: E402


def sse_part(env, server):
    out = env.path("sse.lines")
    server.add({"sse": [": welcome\n\n",
                        "event: tweet\nid: 1\ndata: {\"n\": 1}\n\n",
                        "\r\n",  # a keep-alive: a blank line alone dispatches nothing
                        "event: tweet\r\nid: 2\r\ndata: {\"n\": 2,\r\ndata:  \"two\": true}\r\n\r\n",
                        "data: {\"n\": 3}\n\n",
                        "event: tweet\nid: 4\ndata: {\"n\": 4"],  # cut: no end of line, no blank line
                "end": "cut", "cut": "}\n"},
               {"sse": ["event: tweet\nid: 5\ndata: {\"n\": 5}\n\n"], "end": "hold"})
    pipeline = env.write("sse.yaml", """
pipelines:
  sse:
    source:
      type: http_client
      url: %s
      framing: sse
      network_backoff_step: 50ms
      network_backoff_max: 200ms
    sinks:
      - {type: file, path: %s, format: template, template: "{meta.attr.sse_event}|{meta.attr.sse_id}|{n}"}
""" % (server.url + "/events", out))
    with Sluice(env, [pipeline], name="sse", admin=True) as s:
        wait_until(lambda: s.check_alive() or len(read_lines(out)) >= 4, 60, "the SSE events in the file sink")
        wait_until(lambda: (s.metric("sluice_http_client_partial_records_dropped_total") or 0) >= 1, 10,
                   "the cut event to be counted")
        check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    lines = read_lines(out)
    # An event without `id:` keeps the last one seen (the spec's last event ID buffer is not reset).
    check(lines == ["tweet|1|1", "tweet|2|2", "|2|3", "tweet|5|5"],
          "SSE events in the sink: %r (expected the four whole ones, the cut one left out)" % lines)
    reqs = server.request_list()
    check(len(reqs) == 2, "requests: %d, expected 2" % len(reqs))
    check(reqs[1].headers.get("last-event-id") == "2",
          "the reconnect's Last-Event-ID: %r, expected '2' (the cut event's id 4 was never dispatched)"
          % reqs[1].headers.get("last-event-id"))
    check(reqs[0].headers.get("accept", "").startswith("text/event-stream"),
          "an SSE request should accept text/event-stream: %r" % reqs[0].headers.get("accept"))


def dead_letter_part(env, server):
    out = env.path("tweets.jsonl")
    error = {"errors": [{"title": "operational-disconnect", "disconnect_type": "UpstreamOperationalDisconnect",
                         "type": "https://api.twitter.com/2/problems/operational-disconnect"}]}
    server.add({"lines": [tweet(1), json.dumps(error), tweet(2)], "end": "hold"})
    pipeline = env.write("dlq.yaml", """
pipelines:
  tweets:
    source:
      type: http_client
      url: %s
      errors: dead_letter
    sinks:
      - {type: file, path: %s}
""" % (server.url + "/2/tweets/search/stream", out))
    with Sluice(env, [pipeline], name="dlq", admin=True) as s:
        wait_until(lambda: s.check_alive() or (len(read_lines(out)) >= 2 and len(s.dead_letters("tweets")) >= 1), 60,
                   "the tweets in the sink and the error object in the dead-letter file")
        check(s.metric("sluice_http_client_in_band_errors_total") == 1, "in-band errors: %r"
              % s.metric("sluice_http_client_in_band_errors_total"))
        check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    ids = [json.loads(line)["data"]["id"] for line in read_lines(out)]
    check(ids == [tweet_id(1), tweet_id(2)], "tweets in the sink: %r" % ids)
    letters = s.dead_letters("tweets")
    check(len(letters) == 1, "dead letters: %r" % letters)
    text = json.dumps(letters[0])
    check("operational-disconnect" in text and "in-band error" in text,
          "the dead letter lacks the error object or the reason: %s" % text)


def tweet_id(i):
    return json.loads(tweet(i))["data"]["id"]


def main(env):
    with XStreamServer(keepalive=0.2) as server:
        sse_part(env, server)
    with XStreamServer(keepalive=0.2) as server:
        dead_letter_part(env, server)


if __name__ == "__main__":
    run(main)
