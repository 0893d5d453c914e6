"""Peer for A1: the seed's way of counting views, per 1 s window: json.loads each view, Counter by item."""
import collections
import json
import random
import sys
import time

n, items = int(sys.argv[1]), int(sys.argv[2])
counts = collections.Counter()
window = int(time.time())
emitted = 0
for seq in range(n):
    line = '{"seq":%d,"user_id":%d,"item_id":%d}' % (seq, random.randint(1, 100000), random.randint(1, items))
    view = json.loads(line)
    counts[view["item_id"]] += 1
    if seq & 1023 == 0 and int(time.time()) != window:
        emitted += len(counts)
        counts.clear()
        window = int(time.time())
emitted += len(counts)
print(emitted)
