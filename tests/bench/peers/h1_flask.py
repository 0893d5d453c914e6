#!/usr/bin/python3
"""Seed 001's ingest API as the seed wrote it (Flask + kafka-python), the H1 peer.

    h1_flask.py PORT BOOTSTRAP

Differences from the notebook, none affecting the request path: the port and brokers come from the
command line, the notebook's clear_output() counter is gone, and api_version is fixed because the mock
cluster answers kafka-python's version probe differently from a real broker.
"""
import json
import logging
import sys

from flask import Flask, request
from kafka import KafkaProducer

port, bootstrap = int(sys.argv[1]), sys.argv[2]
producer = KafkaProducer(bootstrap_servers=[bootstrap], api_version=(2, 0, 0))
app = Flask(__name__, static_url_path='')
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the seed printed a line per request to a notebook


@app.route('/clicks', methods=['POST'])
def extranm():
    rjson = request.json
    if not rjson:
        return (json.dumps({'success': False, 'message': 'could not decode json'}), 400,
                {'ContentType': 'application/json'})
    producer.send('clicks', json.dumps(rjson).encode('utf-8')).get(timeout=5)
    return (json.dumps({'success': True}), 200, {'ContentType': 'application/json'})


app.run(host='127.0.0.1', port=port)
