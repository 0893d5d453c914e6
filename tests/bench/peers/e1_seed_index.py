"""Peer for E1: seed 000's search indexer, one es.index() per Kafka message, as the seed writes it.

    /usr/bin/python3 e1_seed_index.py BOOTSTRAP TOPIC GROUP URL INDEX PROGRESS_PATH COUNT

Debian's python3-kafka (kafka-python) and python3-elasticsearch 7.17: a
KafkaConsumer in a group, `for message in consumer`, json.loads, then
es.index(index=INDEX, id=listing["id"], body=listing). Additions to the seed:
auto_offset_reset='earliest' (the topic is preloaded), the client's product
check counted as done (7.17 refuses OpenSearch otherwise; see
tests/fixtures/README.md), one newline per listing indexed appended to
PROGRESS_PATH, and stopping after COUNT listings.
"""
import json
import sys

from elasticsearch import Elasticsearch
from kafka import KafkaConsumer

bootstrap, topic, group, url, index, progress_path, count = sys.argv[1:7] + [int(sys.argv[7])]
es = Elasticsearch([url])
es.transport._verified_elasticsearch = True
consumer = KafkaConsumer(topic, group_id=group, bootstrap_servers=bootstrap.split(","), auto_offset_reset="earliest")
seen = 0
with open(progress_path, "ab", buffering=0) as progress:
    for message in consumer:
        listing = json.loads(message.value.decode("utf-8"))
        es.index(index=index, id=listing["id"], body=listing)
        progress.write(b"\n")
        seen += 1
        if seen >= count:
            break
consumer.close()
