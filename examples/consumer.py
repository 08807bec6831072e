"""A minimal gpumon subscriber in Python: reads one topic from the beginning and prints each record
as a JSON line with its key. Values are Avro in the Confluent wire format: byte 0 is 0, bytes 1-4
the writer schema's id in the registry, the rest the Avro body.
Needs confluent-kafka and fastavro (requirements.txt). Run: python consumer.py"""
import io
import json
import os
import struct
import urllib.request

import fastavro
from confluent_kafka import Consumer

brokers = os.environ.get("KAFKA_BROKERS", "localhost:9092")
registry = os.environ.get("SCHEMA_REGISTRY_URL", "http://localhost:8081/apis/ccompat/v7")
topic = os.environ.get("TOPIC", "gpu.health.v1")
max_messages = int(os.environ.get("MAX_MESSAGES", "0")) or None
writer_schemas = {}


def decode(value):
    _, schema_id = struct.unpack(">bI", value[:5])
    if schema_id not in writer_schemas:
        with urllib.request.urlopen(f"{registry}/schemas/ids/{schema_id}") as response:
            writer_schemas[schema_id] = fastavro.parse_schema(json.loads(json.load(response)["schema"]))
    return fastavro.schemaless_reader(io.BytesIO(value[5:]), writer_schemas[schema_id])


consumer = Consumer({
    "bootstrap.servers": brokers,
    "group.id": os.environ.get("GROUP_ID", "gpumon-example-python"),
    "auto.offset.reset": "earliest",
})
consumer.subscribe([topic])
seen = 0
try:
    while max_messages is None or seen < max_messages:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            raise RuntimeError(message.error())
        key = message.key().decode() if message.key() is not None else None
        print(json.dumps({"key": key, "value": decode(message.value())}, default=str), flush=True)
        seen += 1
finally:
    consumer.close()
