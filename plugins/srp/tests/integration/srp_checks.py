"""The checks of the search page's integration tests, for one backend (srp_embedded_test.py,
srp_opensearch_test.py): listings written by the elasticsearch sink from standard input are
found and highlighted by the srp source of the same daemon; the sort switch, paging, results per
page and the JSON API say what a user would check; hostile queries and bytes are answered 200 or
400 (414 for a request line over the core's limit), never 500; a listing titled with markup shows
as text; an item page emits a page-view event (a file sink shows it); static assets carry ETags
and gzip; and a search page whose index does not answer says 503 while /health names the reason.
"""
import gzip
import http.client
import json
import os
import socket
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests", "lib"))
from sluice_test import Sluice, check, free_port, read_lines, wait_until  # noqa: E402

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
PHONES = 25


def listings():
    out = [{"id": 42, "title": 'Used MacbookAir 13"', "description": "This is a used Macbook Air in great condition"},
           {"id": 43, "title": "Lenovo laptop 15", "description": "A fast laptop, lighter than a macbook"},
           {"id": 666, "title": HOSTILE, "description": "alert " + HOSTILE}]
    for i in range(PHONES):
        # Phone 7 is the most visited, phone 3 next: `hot` must put them first.
        visits = {7: 500, 3: 40}.get(i, 1)
        out.append({"id": 1000 + i, "title": "phone number %d" % i, "description": "a phone for sale",
                    "visits": visits})
    return out


class Client:
    def __init__(self, port):
        self.port = port

    def get(self, path, headers=None):
        """(status, headers dict with lower-case names, body bytes), the body un-gzipped when it was."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request("GET", path, headers=headers or {})
            r = conn.getresponse()
            body = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            hdrs["set-cookie-all"] = r.msg.get_all("Set-Cookie") or []
            if hdrs.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            return r.status, hdrs, body
        finally:
            conn.close()

    def html(self, path, headers=None):
        status, hdrs, body = self.get(path, headers)
        return status, hdrs, body.decode("utf-8")

    def api(self, query):
        status, _, body = self.get("/api/search?" + query)
        check(status == 200, "/api/search?%s: %d %s" % (query, status, body[:300]))
        return json.loads(body)

    def raw(self, target):
        """The status of a request whose target is sent byte for byte (bytes no client library sends)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        try:
            s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        check(data.startswith(b"HTTP/1.1 "), "no HTTP answer to %r: %r" % (target, data[:100]))
        return int(data[9:12]), data


def check_search_page(env, hosts, sink_options=""):
    """Runs every check on a daemon whose sink writes the listings to @hosts and whose srp page
    searches it; @sink_options: more YAML flow-map entries for the sink (`refresh: wait_for`)."""
    port, down_port = free_port(), free_port()
    views = env.path("views.jsonl")
    stdin = env.write("listings.jsonl", "".join(json.dumps(x) + "\n" for x in listings()))
    pipeline = env.write("srp.yaml", """
pipelines:
  listings:
    source: {type: stdin, format: ndjson}
    sinks:
      - {type: elasticsearch, hosts: "%s", index: listing_index, id: "{id}", action: upsert%s}
  srp:
    source: {type: srp, listen: "127.0.0.1:%d", hosts: "%s", index: listing_index}
    sinks:
      - {type: file, path: %s, format: json}
  srp-down:
    source: {type: srp, listen: "127.0.0.1:%d", hosts: "http://127.0.0.1:%d", index: listing_index, timeout: 3s}
    sinks:
      - {type: null}
""" % (hosts, sink_options, port, hosts, json.dumps(views), down_port, free_port()))
    total = len(listings())
    with Sluice(env, [pipeline], admin=True, stdin_path=stdin, name="srp") as daemon:
        c = Client(port)

        def indexed():
            daemon.check_alive()
            try:
                return c.api("q=")["total"] == total
            except (OSError, AssertionError):
                return False
        wait_until(indexed, 60, "the %d listings searchable" % total, interval=0.2)

        # Home: the common header with its search box, newest and hottest listings, the headers.
        status, hdrs, home = c.html("/")
        check(status == 200, "home: %d" % status)
        check('<form class="search-box" action="/search"' in home and 'name="q"' in home, "home has the search box")
        check("Newest" in home and "Hottest" in home, "home lists newest and hottest")
        check(home.index("phone number 7") < home.index("phone number 3"), "hottest lists phone 7 before phone 3")
        check("default-src 'none'" in hdrs.get("content-security-policy", ""), "CSP header: %s" % hdrs)
        check(hdrs.get("x-content-type-options") == "nosniff", "X-Content-Type-Options: nosniff")
        check(any(h.startswith("sluice_uid=") for h in hdrs["set-cookie-all"]), "the visitor cookie is set")

        # Search finds and highlights.
        status, hdrs, page = c.html("/search?q=macbook+air")
        check(status == 200, "search: %d" % status)
        check("<em>Macbook</em>" in page and "<em>Air</em>" in page, "matches highlighted:\n%s" % page[:3000])
        check('href="/item/42"' in page, "the result links to its item page")
        check('value="macbook air"' in page, "the query is echoed in the search box")
        api = c.api("q=macbook+air")
        check(api["hits"][0]["id"] == "42", "the best match is listing 42: %s" % [h["id"] for h in api["hits"]])
        check(api["total"] >= 2 and "<em>" in api["hits"][0]["snippet_html"], "API total and highlight: %s" % api)

        # The hostile listing is text.
        status, _, page = c.html("/search?q=alert")
        check(status == 200 and "&lt;script&gt;" in page, "the hostile title is shown escaped")
        check("<script" not in page and "<img" not in page, "no markup from the listing in the page")
        status, _, page = c.html("/item/666")
        check(status == 200 and "<script" not in page and "<img" not in page, "item page of the hostile listing")

        # Sort switch.
        hot = c.api("q=phone&sort=hot")
        check([h["id"] for h in hot["hits"][:2]] == ["1007", "1003"], "hot: %s" % [h["id"] for h in hot["hits"]])
        newest = c.api("q=phone&sort=newest")
        check(newest["hits"][0]["id"] == str(1000 + PHONES - 1), "newest first: %s" % newest["hits"][0]["id"])
        status, _, page = c.html("/search?q=phone&sort=hot")
        check('aria-current="true">Hot<' in page, "the page marks the current sort")

        # Paging: 25 phones, 10 a page.
        p3 = c.api("q=phone&size=10&page=3")
        check(p3["total"] == PHONES and p3["pages"] == 3 and len(p3["hits"]) == 5, "page 3 of 3: %s" % p3)
        status, _, page = c.html("/search?q=phone&size=10&page=2")
        check("Page 2 of 3" in page and 'rel="next"' in page and 'rel="prev"' in page, "page 2 of 3 with links")
        seen = set()
        for n in (1, 2, 3):
            seen |= {h["id"] for h in c.api("q=phone&size=10&page=%d" % n)["hits"]}
        check(len(seen) == PHONES, "the three pages hold every phone once: %d" % len(seen))
        past = c.api("q=phone&size=10&page=7")
        check(past["page"] == 3 and len(past["hits"]) == 5 and past["notices"], "a page past the end: %s" % past)

        # Clamps.
        deep = c.api("q=phone&page=1000000000")
        # Brought back within 10,000 hits (page 1000), then to the last page there is.
        check(deep["page"] == 3 and any("10000" in n for n in deep["notices"]), "page 10^9 clamped: %s" % deep)
        big = c.api("q=phone&size=1000000")
        check(big["size"] == 100 and len(big["hits"]) == PHONES, "size 10^6 brought to 100: %s" % big["size"])
        status, _, page = c.html("/search?q=phone&page=1000000000")
        check(status == 200 and "Only the first 10000 results can be browsed" in page, "the page says so")

        # Hostile queries: 200 or 400, never 500 (pages and API).
        hostile = ['"', "\\", "(", "<", '"unbalanced', "a AND (b OR", "*:*", "title:x^", "x" * 10240,
                   HOSTILE, "%", "\u00e9\u4e2d\U0001f600", "\x00"]
        for q in hostile:
            for base in ("/search", "/api/search"):
                target = base + "?q=" + urllib.parse.quote(q)
                status, _, body = c.get(target)
                # A 10 KB query makes a request line over the core's 8 KiB limit: 414 before the page runs.
                allowed = (200, 400, 414) if len(target) > 8000 else (200, 400)
                check(status in allowed, "%s: %d %r" % (target[:80], status, body[:200]))
                if base == "/search":
                    check(b"<script" not in body, "query %r echoed as markup" % q[:40])
        long_q = c.api("q=" + "word%20" * 1000)
        check(any("shortened" in n for n in long_q["notices"]) and len(long_q["query"]) <= 1024,
              "a 7 KB query is shortened: %s" % long_q["notices"])
        for query in ("sort=%3Cb%3E", "page=-1", "size=abc", "page=0"):
            for base in ("/search", "/api/search"):
                status, _, body = c.get(base + "?q=x&" + query)
                check(status == 400, "%s?%s: %d, expected 400" % (base, query, status))
        status, _, body = c.get("/api/search?q=x&sort=bad")
        check("unknown sort" in json.loads(body)["error"], "the 400 says why: %s" % body)
        for target in (b"/search?q=%FF%FE%C3", b"/search?q=\xff\xfe", b"/api/search?q=%C3%28&sort=hot",
                       b"/item/%FF", b"/item/%ZZ", b"/item/%", b"/api/item/a%2", b"/item/" + b"9" * 5000):
            status, data = c.raw(target)
            check(status in (200, 400, 404), "%r: %d %r" % (target[:40], status, data[:200]))

        # Item page: a page view event with the visitor, and no waiting for the pipeline.
        status, hdrs, page = c.html("/item/42", {"Cookie": "sluice_uid=visitor-0001"})
        check(status == 200 and "Used MacbookAir 13&quot;" in page, "item page: %d" % status)
        c.html("/item/43", {"X-User-Id": "user-7", "Cookie": "sluice_uid=visitor-0001"})
        status, _, _ = c.get("/item/does-not-exist")
        check(status == 404, "a missing item is 404, not %d" % status)
        events = wait_until(lambda: [json.loads(x) for x in read_lines(views)] if len(read_lines(views)) >= 3 else None,
                            20, "page views in %s" % views)
        pairs = [(e["user_id"], e["item_id"]) for e in events]
        check(("visitor-0001", "42") in pairs and ("user-7", "43") in pairs, "page views: %s" % pairs)
        check(all("ts" in e for e in events), "page views carry ts")
        check(not any(e["item_id"] == "does-not-exist" for e in events), "a 404 is no page view")

        # Static assets: ETag, cache, gzip; pages gzip too.
        status, hdrs, css = c.get("/static/style.css")
        check(status == 200 and hdrs.get("content-type", "").startswith("text/css") and hdrs.get("etag"),
              "style.css: %d %s" % (status, hdrs))
        status, _, _ = c.get("/static/style.css", {"If-None-Match": hdrs["etag"]})
        check(status == 304, "If-None-Match: 304, not %d" % status)
        status, zh, zcss = c.get("/static/style.css", {"Accept-Encoding": "gzip"})
        check(zh.get("content-encoding") == "gzip" and zcss == css, "style.css gzipped")
        status, zh, zpage = c.get("/search?q=phone", {"Accept-Encoding": "gzip"})
        check(status == 200 and zh.get("content-encoding") == "gzip" and b"<em>phone</em> number" in zpage, "page gzipped")
        status, _, _ = c.get("/static/nope.css")
        check(status == 404, "a missing asset is 404")

        # An index that does not answer: 503 with a clear page, /health says why.
        d = Client(down_port)
        status, hdrs, page = d.html("/search?q=macbook")
        check(status == 503 and "Search is unavailable right now" in page, "down: %d\n%s" % (status, page[:500]))
        check("Traceback" not in page and "exception" not in page.lower(), "no internals on the page")
        status, _, body = d.get("/api/search?q=macbook")
        check(status == 503 and "error" in json.loads(body), "API down: %d %s" % (status, body))

        def health():
            conn = http.client.HTTPConnection(daemon.admin.split(":")[0], int(daemon.admin.split(":")[1]), timeout=5)
            conn.request("GET", "/health")
            r = conn.getresponse()
            return r.status, r.read().decode()
        status, text = wait_until(lambda: (lambda h: h if h[0] != 200 else None)(health()), 20,
                                  "/health to report the page whose index is down")
        check(status != 200 and "srp-down" in text and "listing_index" in text, "/health: %d %s" % (status, text))
        check("pipeline 'srp'" not in text, "the healthy page is not named: %s" % text)

        status, _, _ = c.get("/search?q=phone")
        check(status == 200, "the embedded page still answers")
        code = daemon.stop()
        check(code == 0, "the daemon stopped with %s:\n%s" % (code, daemon.log_tail()))

