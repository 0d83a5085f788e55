#!/usr/bin/env python3
"""A second client of the pipeline: Python with confluent-kafka (librdkafka) and its
Avro serializer (fastavro), as a user's own producer and consumer would be.

  check     says whether confluent-kafka and fastavro can be imported, and their versions.
  produce   writes offline-form JSON lines ({"topic", "key", "value"}, timestamps as
            epoch milliseconds) onto their topics: Confluent wire format Avro, keyed by
            customerId, partitioned like the Java client (murmur2), idempotent. Each
            topic's writer schema comes from --schemas (topic -> schema as registered);
            --extend TOPIC:FIELD=VALUE writes TOPIC with the contract plus one optional
            string field (default null) set to VALUE, registered under <TOPIC>-value once
            the registry says it is compatible. Prints {"produced": N, "schemaIds": {...}}.
  consume   reads topics from the beginning with isolation.level=read_committed and
            prints each record whose key starts with --key-prefix as an offline-form
            JSON line (the Avro deserializer's datetimes back to epoch milliseconds).
            With --dead-letters, prints the key, headers and writer schema id instead
            of decoding. Stops once every partition is read to its end and no record
            came for --idle-ms (with --max, once it also has that many), or at
            --timeout-ms.

Used by test/second-client.test.ts; dependencies are pinned in requirements.txt.
"""

import argparse
import datetime
import json
import sys
import time
from importlib import metadata

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
MILLISECOND = datetime.timedelta(milliseconds=1)


def fail(message):
    print(f"second_client: {message}", file=sys.stderr)
    sys.exit(1)


def check(_args):
    try:
        import confluent_kafka
        import fastavro
        from confluent_kafka.schema_registry.avro import AvroSerializer  # noqa: F401
    except ImportError as err:
        fail(f"{err}; install test/support/requirements.txt (python3 -m pip install -r test/support/requirements.txt)")
    print(
        json.dumps(
            {
                "python": sys.version.split()[0],
                "confluent-kafka": metadata.version("confluent-kafka"),
                "librdkafka": confluent_kafka.libversion()[0],
                "fastavro": fastavro.__version__,
            }
        )
    )


def with_optional_field(schema_json, field, after="customerId"):
    """The schema plus one optional string field, placed after `after` (so that readers
    must match fields by name, not by position)."""
    schema = json.loads(schema_json)
    fields = schema["fields"]
    at = next((i + 1 for i, f in enumerate(fields) if f["name"] == after), len(fields))
    extra = {
        "name": field,
        "type": ["null", "string"],
        "default": None,
        "doc": "Written by a producer on a newer version of the contract.",
    }
    schema["fields"] = fields[:at] + [extra] + fields[at:]
    return json.dumps(schema, separators=(",", ":"))


def produce(args):
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    with open(args.schemas, encoding="utf-8") as f:
        schemas = json.load(f)
    extensions = {}
    for spec in args.extend:
        topic, _, assignment = spec.partition(":")
        field, _, value = assignment.partition("=")
        if not topic or not field:
            fail(f"--extend {spec}: expected TOPIC:FIELD=VALUE")
        extensions[topic] = (field, value)

    registry = SchemaRegistryClient({"url": args.registry})
    serializers = {}
    for topic, schema in schemas.items():
        if topic in extensions:
            schema = with_optional_field(schema, extensions[topic][0])
            subject = f"{topic}-value"
            if not registry.test_compatibility(subject, Schema(schema, "AVRO")):
                fail(f"the registry says the extended schema is not compatible with {subject}")
        serializers[topic] = AvroSerializer(registry, schema, conf={"auto.register.schemas": True})

    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "client.id": "churn-second-client",
            "enable.idempotence": True,
            "acks": "all",
            # The Java client's partitioner (kafkajs's default too): a customer's records
            # land on the same partition whichever client wrote them.
            "partitioner": "murmur2_random",
            "linger.ms": 5,
        }
    )
    errors = []
    schema_ids = {}

    def delivered(err, _msg):
        if err is not None:
            errors.append(str(err))

    produced = 0
    for path in args.input:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                event = json.loads(line)
                topic, key, value = event["topic"], event["key"], event["value"]
                if topic not in serializers:
                    fail(f"{path}:{number}: no schema for topic {topic}")
                if topic in extensions:
                    field, extra = extensions[topic]
                    value = {**value, field: extra}
                payload = serializers[topic](value, SerializationContext(topic, MessageField.VALUE))
                schema_ids.setdefault(topic, int.from_bytes(payload[1:5], "big"))
                while True:
                    try:
                        producer.produce(topic, key=key.encode("utf-8"), value=payload, on_delivery=delivered)
                        break
                    except BufferError:
                        producer.poll(0.1)
                producer.poll(0)
                produced += 1
    left = producer.flush(60)
    if left:
        fail(f"{left} records not delivered after 60 s")
    if errors:
        fail(f"{len(errors)} records not delivered: {errors[0]}")
    print(json.dumps({"produced": produced, "schemaIds": schema_ids}))


def plain(value):
    """The deserializer's value in the offline form: timestamp-millis as epoch ms."""
    if isinstance(value, datetime.datetime):
        return (value - EPOCH) // MILLISECOND
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def consume(args):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    deserialize = AvroDeserializer(SchemaRegistryClient({"url": args.registry}))
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "client.id": "churn-second-client",
            # Partitions are assigned, not subscribed: the group is never joined and no
            # offsets are committed.
            "group.id": "churn-second-client",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(timeout=10)
        partitions = []
        for topic in args.topics:
            if topic not in metadata.topics or metadata.topics[topic].error is not None:
                fail(f"topic {topic} does not exist")
            for p in metadata.topics[topic].partitions:
                partitions.append(TopicPartition(topic, p, OFFSET_BEGINNING))
        consumer.assign(partitions)

        at_end = set()
        count = 0
        started = last = time.monotonic()
        while True:
            msg = consumer.poll(0.2)
            now = time.monotonic()
            if msg is None:
                # Every partition read to its end, and nothing new for the idle period:
                # with --max, only once that many records are in.
                settled = len(at_end) == len(partitions) and now - last >= args.idle_ms / 1000
                if settled and (args.max is None or count >= args.max):
                    break
                if now - started >= args.timeout_ms / 1000:
                    print(f"second_client: stopped after {args.timeout_ms} ms with {count} records", file=sys.stderr)
                    break
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add((msg.topic(), msg.partition()))
                    continue
                raise KafkaException(msg.error())
            at_end.discard((msg.topic(), msg.partition()))
            last = now
            key = msg.key().decode("utf-8") if msg.key() is not None else None
            if args.key_prefix and (key is None or not key.startswith(args.key_prefix)):
                continue
            raw = msg.value()
            if args.dead_letters:
                headers = {k: (v.decode("utf-8") if v is not None else None) for k, v in (msg.headers() or [])}
                schema_id = int.from_bytes(raw[1:5], "big") if raw and len(raw) >= 5 and raw[0] == 0 else None
                line = {"topic": msg.topic(), "key": key, "headers": headers, "schemaId": schema_id}
            else:
                value = deserialize(raw, SerializationContext(msg.topic(), MessageField.VALUE))
                line = {"topic": msg.topic(), "key": key, "value": plain(value)}
            print(json.dumps(line))
            count += 1
    finally:
        consumer.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check").set_defaults(run=check)

    p = commands.add_parser("produce")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--registry", required=True)
    p.add_argument("--schemas", required=True, help="JSON file: topic -> Avro schema (string) as registered")
    p.add_argument("--in", dest="input", action="append", required=True)
    p.add_argument("--extend", action="append", default=[], metavar="TOPIC:FIELD=VALUE")
    p.set_defaults(run=produce)

    c = commands.add_parser("consume")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--registry", required=True)
    c.add_argument("--topic", dest="topics", action="append", required=True)
    c.add_argument("--key-prefix", default="")
    c.add_argument("--max", type=int)
    c.add_argument("--idle-ms", type=int, default=3000)
    c.add_argument("--timeout-ms", type=int, default=120_000)
    c.add_argument("--dead-letters", action="store_true")
    c.set_defaults(run=consume)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
