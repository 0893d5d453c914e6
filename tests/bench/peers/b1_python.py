"""Peer for b1: what the seeds' scripts do — build dict events, test a field, discard."""
import random
import sys

n = int(sys.argv[1])
kept = 0
for seq in range(n):
    event = {"seq": seq, "user_id": random.randint(1, 1000), "item_id": random.randint(1, 5000), "kind": "view"}
    if event["item_id"] > 100:
        kept += 1
print(kept)
