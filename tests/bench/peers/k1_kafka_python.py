"""Peer for K1: seed 000's access-log consumer, as the seed writes it with kafka-python.

    /usr/bin/python3 k1_kafka_python.py BOOTSTRAP TOPIC GROUP LOG_PATH COUNT

A KafkaConsumer in a consumer group, `for message in consumer`, json.loads of
each value, one "user_id<TAB>item_id" line appended to the log per view. The
only additions to the seed: auto_offset_reset='earliest' (the topic is
preloaded, and the seed notes that a new group otherwise only sees later
messages), and stopping after COUNT views so the benchmark can end.
"""
import json
import sys

from kafka import KafkaConsumer

bootstrap, topic, group, path, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
consumer = KafkaConsumer(topic, group_id=group, bootstrap_servers=bootstrap.split(","), auto_offset_reset="earliest")
seen = 0
with open(path, "a") as log:
    for message in consumer:
        view = json.loads((message.value).decode("utf-8"))
        log.write("%s\t%s\n" % (view["user_id"], view["item_id"]))
        seen += 1
        if seen >= count:
            break
consumer.close()
