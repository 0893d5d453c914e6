"""A real OpenSearch 2.19 node (one node on 127.0.0.1) for integration tests.

    with OpenSearchNode() as node:
        node.create_index("listings", mappings={"properties": {"title": {"type": "text"}}}, shards=4)
        ... node.url ...
        node.count("listings"), node.ids("listings"), node.get("listings", "42")

    with OpenSearchNode(write_threads=1, write_queue=1) as node:   # per-item 429s in bulks
        ...

It wraps tests/fixtures/opensearch/start_node.sh (jars from Maven Central via
tests/fixtures/opensearch/pom.xml). The node is stopped on exit, and by the
script's watchdog if this process dies (even by kill -9). A node that cannot
start raises NodeError with the reason and its log tail: tests fail, never
skip. The helpers speak plain HTTP with urllib (no client library needed);
each raises NodeError with the node's answer when it is not what was asked.
"""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "opensearch", "start_node.sh")


class NodeError(RuntimeError):
    pass


class OpenSearchNode:
    def __init__(self, write_threads=None, write_queue=None, heap="256m", shards_default=None, settings=None,
                 max_seconds=600):
        """@settings: more node settings for opensearch.yml, e.g. {"http.max_content_length": "1mb"}."""
        self.write_threads = write_threads
        self.settings = dict(settings or {})
        self.write_queue = write_queue
        self.heap = heap
        self.shards_default = shards_default
        self.max_seconds = max_seconds
        self.url = None
        self.pid = None
        self.dir = None
        self.start_seconds = None

    # --- life cycle -------------------------------------------------------------------------------

    def start(self):
        started = time.monotonic()
        cmd = ["bash", FIXTURE, "--heap", self.heap, "--watch-pid", str(os.getpid()),
               "--max-seconds", str(self.max_seconds)]
        if self.write_threads is not None:
            cmd += ["--write-threads", str(self.write_threads)]
        if self.write_queue is not None:
            cmd += ["--write-queue", str(self.write_queue)]
        if self.shards_default is not None:
            cmd += ["--shards-default", str(self.shards_default)]
        for key, value in self.settings.items():
            cmd += ["--set", "%s=%s" % (key, json.dumps(value) if isinstance(value, bool) else value)]
        # Cold, this resolves the jars from Maven Central and makes the class-data archive: minutes at worst.
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        if proc.returncode != 0:
            raise NodeError("the OpenSearch node did not start (exit %d):\n%s%s"
                            % (proc.returncode, proc.stdout, proc.stderr))
        values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        try:
            self.url, self.pid, self.dir = values["URL"], int(values["PID"]), values["DIR"]
        except KeyError as e:
            raise NodeError("start_node.sh printed no %s:\n%s%s" % (e, proc.stdout, proc.stderr))
        self.start_seconds = time.monotonic() - started
        print("opensearch node: %s (pid %d) started in %.1f s" % (self.url, self.pid, self.start_seconds),
              flush=True)
        return self

    def stop(self, timeout=20):
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                os.kill(self.pid, 0)
                time.sleep(0.1)
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pid = None

    def alive(self):
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def rss_kb(self):
        """The node's resident set size in KiB (VmRSS), None when it is gone."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, TypeError):
            return None
        return None

    def log_tail(self, lines=40):
        out = []
        for name in ("logs/node.log", "stdout.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out.append("--- %s\n%s" % (name, "".join(f.readlines()[-lines:])))
            except (OSError, TypeError):
                pass
        return "".join(out)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # --- HTTP -------------------------------------------------------------------------------------

    def request(self, method, path, body=None, params=None, timeout=60, content_type="application/json"):
        """One request to the node: (status, decoded JSON body or None). @body is a dict/list (sent as
        JSON), a str or bytes (sent as is). HTTP errors are returned, not raised; a node that does not
        answer raises NodeError."""
        url = self.url + path
        if params:
            url += ("&" if "?" in path else "?") + urllib.parse.urlencode(params)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            raise NodeError("%s %s: no answer from the node (%s)\n%s" % (method, path, e, self.log_tail()))
        try:
            return status, (json.loads(raw) if raw else None)
        except ValueError:
            return status, raw.decode(errors="replace")

    def _expect(self, ok, method, path, body=None, params=None, timeout=60, content_type="application/json"):
        status, answer = self.request(method, path, body, params, timeout, content_type)
        if status not in ok:
            raise NodeError("%s %s: HTTP %d %s" % (method, path, status, json.dumps(answer)[:2000]))
        return answer

    def info(self):
        return self._expect((200,), "GET", "/")

    def health(self, index=None, wait_for_status="green", timeout=30):
        path = "/_cluster/health" + ("/" + urllib.parse.quote(index) if index else "")
        answer = self._expect((200, 408), "GET", path,
                              params={"wait_for_status": wait_for_status, "timeout": "%ds" % timeout},
                              timeout=timeout + 10)
        if answer.get("timed_out"):
            raise NodeError("%s not %s after %d s: %s" % (index or "the cluster", wait_for_status, timeout,
                                                          json.dumps(answer)))
        return answer

    def create_index(self, name, mappings=None, shards=1, replicas=0, settings=None):
        """Creates @name with @shards primaries and @replicas replicas (0: green on one node) and waits
        until it is green."""
        index_settings = {"number_of_shards": shards, "number_of_replicas": replicas}
        index_settings.update(settings or {})
        body = {"settings": {"index": index_settings}}
        if mappings is not None:
            body["mappings"] = mappings
        answer = self._expect((200,), "PUT", "/" + urllib.parse.quote(name), body)
        self.health(name, "green" if replicas == 0 else "yellow")
        return answer

    def delete_index(self, name):
        """Deletes @name; a missing index is no error."""
        self._expect((200, 404), "DELETE", "/" + urllib.parse.quote(name))

    def exists(self, name):
        status, _ = self.request("HEAD", "/" + urllib.parse.quote(name))
        return status == 200

    def refresh(self, name):
        self._expect((200,), "POST", "/%s/_refresh" % urllib.parse.quote(name))

    def count(self, name, query=None, refresh=True):
        """Documents in @name (matching @query), after a refresh unless @refresh is False."""
        if refresh:
            self.refresh(name)
        body = {"query": query} if query else None
        return self._expect((200,), "POST" if body else "GET", "/%s/_count" % urllib.parse.quote(name), body)["count"]

    def get(self, name, doc_id):
        """The _source of document @doc_id in @name, None when it is not there (a real-time get)."""
        status, answer = self.request("GET", "/%s/_doc/%s" % (urllib.parse.quote(name), urllib.parse.quote(str(doc_id),
                                                                                                            safe="")))
        if status == 404:
            return None
        if status != 200:
            raise NodeError("GET %s/_doc/%s: HTTP %d %s" % (name, doc_id, status, json.dumps(answer)[:2000]))
        return answer["_source"]

    def search(self, name, body=None, refresh=True):
        """The raw answer of _search on @name (after a refresh unless @refresh is False)."""
        if refresh:
            self.refresh(name)
        return self._expect((200,), "POST", "/%s/_search" % urllib.parse.quote(name), body or {})

    def ids(self, name, refresh=True):
        """Every document id in @name, as a list (duplicates would show as repeats; there are none in
        one index), through a scroll: not capped at 10,000."""
        if refresh:
            self.refresh(name)
        answer = self._expect((200,), "POST", "/%s/_search" % urllib.parse.quote(name),
                              {"size": 5000, "sort": ["_doc"], "_source": False}, params={"scroll": "1m"})
        out = []
        scroll_id = answer.get("_scroll_id")
        try:
            while answer["hits"]["hits"]:
                out.extend(hit["_id"] for hit in answer["hits"]["hits"])
                answer = self._expect((200,), "POST", "/_search/scroll", {"scroll": "1m", "scroll_id": scroll_id})
                scroll_id = answer.get("_scroll_id", scroll_id)
        finally:
            if scroll_id:
                self.request("DELETE", "/_search/scroll", {"scroll_id": scroll_id})
        return out

    def bulk(self, lines, params=None, timeout=60):
        """Posts a bulk body (@lines: action and source dicts, or ready NDJSON text) and returns
        (status, answer) as the node gave them: per-item statuses are in answer["items"]."""
        if not isinstance(lines, (str, bytes)):
            lines = "".join(json.dumps(line) + "\n" for line in lines)
        return self.request("POST", "/_bulk", lines, params, timeout, "application/x-ndjson")
