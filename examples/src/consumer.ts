// A minimal gpumon subscriber: reads one topic from the beginning and prints each record as a JSON
// line with its key. Values are Avro in the Confluent wire format: byte 0 is 0, bytes 1-4 the
// writer schema's id in the registry, the rest the Avro body. Run: node src/consumer.ts
import avro from 'avsc';
import { Kafka, logLevel } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? 'localhost:9092').split(',');
const registry = process.env.SCHEMA_REGISTRY_URL ?? 'http://localhost:8081/apis/ccompat/v7';
const topic = process.env.TOPIC ?? 'gpu.health.v1';
const maxMessages = Number(process.env.MAX_MESSAGES ?? Infinity);

const writerTypes = new Map<number, avro.Type>();

async function decode(value: Buffer): Promise<unknown> {
  const schemaId = value.readInt32BE(1);
  let type = writerTypes.get(schemaId);
  if (type === undefined) {
    const response = await fetch(`${registry}/schemas/ids/${schemaId}`);
    if (!response.ok) throw new Error(`schema ${schemaId}: registry answered ${response.status}`);
    type = avro.Type.forSchema(JSON.parse(((await response.json()) as { schema: string }).schema));
    writerTypes.set(schemaId, type);
  }
  return type.fromBuffer(value.subarray(5));
}

const consumer = new Kafka({ clientId: 'gpumon-example', brokers, logLevel: logLevel.WARN }).consumer({ groupId: process.env.GROUP_ID ?? 'gpumon-example' });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let seen = 0;
await consumer.run({
  eachMessage: async ({ message }) => {
    const record = await decode(message.value!);
    console.log(JSON.stringify({ key: message.key?.toString(), value: record }));
    if (++seen >= maxMessages) void consumer.disconnect();
  },
});
