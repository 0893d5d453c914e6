#!/usr/bin/python3
"""Slow clients (connections sending their request header one byte per second) do not stop other
clients from being served: with more slow connections than the source has threads (max_connections: 4),
curl still gets 200, because each slow connection is cut with 408 once its header_timeout passes.
"""
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sluice_test import MockCluster, Sluice, check, free_port, run, wait_until  # noqa: E402

SLOW = 6


class SlowClient(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.reply = b""
        self.finished = False

    def run(self):
        reader = threading.Thread(target=self.read, daemon=True)
        reader.start()
        header = b"POST /clicks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Pad: " + b"p" * 100
        try:
            for byte in header:
                if self.reply:
                    break  # answered: stop sending, so no reset can discard the answer
                self.sock.sendall(bytes([byte]))
                time.sleep(1)
        except OSError:
            pass  # the server closed it: expected
        reader.join()
        self.finished = True

    def read(self):
        # Reads while the sender trickles, so the answer is taken as soon as the server sends it.
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                self.reply += chunk
        except OSError:
            pass


def curl_status(url):
    proc = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "60",
                           "-H", "Content-Type: application/json", "--data", '{"fast": true}', url],
                          stdout=subprocess.PIPE, timeout=90)
    return int(proc.stdout or 0)


def main(env):
    import yaml
    with open(env.pipeline("clicks.yaml")) as f:
        doc = yaml.safe_load(f)
    source = doc["pipelines"]["clicks"]["source"]
    source.update({"max_connections": 4, "header_timeout": "3s"})
    pipeline = env.write("clicks-small.yaml", yaml.safe_dump(doc))
    with MockCluster(env, brokers=1, topics=[("clicks", 1)]) as cluster:
        port = free_port()
        url = "http://127.0.0.1:%d/clicks" % port
        extra = {"KAFKA_BROKERS": cluster.bootstrap, "INGEST_LISTEN": "127.0.0.1:%d" % port}
        with Sluice(env, [pipeline], extra_env=extra, name="slow") as s:
            wait_until(lambda: s.check_alive() or curl_status(url) == 200, 60, "the ingest API to answer")
            slow = [SlowClient(port) for _ in range(SLOW)]
            for c in slow:
                c.start()
            served = 0
            for _ in range(5):
                status = curl_status(url)
                check(status == 200, "a fast client got %d while %d slow clients were connected" % (status, SLOW))
                served += 1
            wait_until(lambda: all(c.finished for c in slow), 120, "the slow connections to be closed")
            cut = sum(1 for c in slow if b" 408 " in c.reply.split(b"\r\n", 1)[0])
            check(cut == SLOW, "%d of %d slow connections got 408: %r" % (cut, SLOW, [c.reply[:40] for c in slow]))
            check(curl_status(url) == 200, "not served after the slow clients")
            check(s.stop() == 0, "sluice exited non-zero on SIGTERM:\n" + s.log_tail())
    print("%d fast requests served beside %d slow connections; every slow one cut with 408" % (served, SLOW),
          flush=True)


if __name__ == "__main__":
    run(main)
