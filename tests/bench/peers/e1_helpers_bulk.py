"""Peer for E1: Kafka -> OpenSearch with elasticsearch.helpers.bulk, BATCH listings per request.

    /usr/bin/python3 e1_helpers_bulk.py BOOTSTRAP TOPIC GROUP URL INDEX PROGRESS_PATH COUNT BATCH

Debian's python3-kafka and python3-elasticsearch 7.17 (product check counted as
done, as in e1_seed_index.py). Messages are gathered BATCH at a time
(`for message in consumer`, json.loads, an index action with `_id` the
listing's id) and given to helpers.bulk(es, actions, chunk_size=BATCH), which
raises on any item not stored; then one newline per listing is appended to
PROGRESS_PATH. Stops after COUNT listings.
"""
import json
import sys

from elasticsearch import Elasticsearch, helpers
from kafka import KafkaConsumer

bootstrap, topic, group, url, index, progress_path = sys.argv[1:7]
count, batch = int(sys.argv[7]), int(sys.argv[8])
es = Elasticsearch([url])
es.transport._verified_elasticsearch = True
consumer = KafkaConsumer(topic, group_id=group, bootstrap_servers=bootstrap.split(","), auto_offset_reset="earliest")
seen = 0
actions = []
with open(progress_path, "ab", buffering=0) as progress:
    for message in consumer:
        listing = json.loads(message.value.decode("utf-8"))
        actions.append({"_index": index, "_id": listing["id"], "_source": listing})
        seen += 1
        if len(actions) >= batch or seen >= count:
            stored, _ = helpers.bulk(es, actions, chunk_size=batch)
            progress.write(b"\n" * stored)
            actions = []
        if seen >= count:
            break
consumer.close()
