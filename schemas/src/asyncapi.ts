import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { schemaOf } from './avro.js';
import { DLQ_HEADERS } from './dlq-headers.js';
import { STREAMS, TOPICS, valueSubject, type Stream } from './topics.js';

/** Who writes each topic: what a subscriber needs to know about where its records come from. */
const WRITTEN_BY: Record<Stream, string> = {
  samples: '`gpumon agent` (nvidia-smi on each GPU host) and `gpumon simulate`',
  health: '`gpumon process score-health`',
  anomalies: '`gpumon process detect-anomalies`',
  predictions: '`gpumon process predict-failure`',
  economics: '`gpumon process price-usage`',
  alerts: 'score-health, detect-anomalies and predict-failure',
  dlq: 'every consumer, for each record it could not process',
};

const OUTPUT = new URL('../asyncapi.json', import.meta.url);
const AVRO_FORMAT = 'application/vnd.apache.avro+json;version=1.9.0';
const KAFKA_BINDING = '0.5.0';

/**
 * The topic contract as an AsyncAPI 3 document: one channel per topic (named by its stream; the
 * address is the topic without the deployment's GPUMON_TOPIC_PREFIX), its Avro schema as the
 * message payload, the key (GPU UUID as a plain string) and the Confluent wire format in the
 * Kafka bindings, the dead-letter headers. Generated from topics.ts and avro/*.avsc; a test fails
 * while the committed asyncapi.json differs (`npm run generate -w @gpumon/schemas`).
 */
export function renderAsyncApi(): string {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const stream of STREAMS) {
    const schema = schemaOf(stream);
    const topic = TOPICS[stream];
    messages[schema.name] = {
      name: schema.name,
      title: schema.name,
      summary: schema.doc,
      contentType: 'application/octet-stream',
      payload: { schemaFormat: AVRO_FORMAT, schema },
      ...(stream === 'dlq' ? {
        headers: {
          type: 'object',
          required: Object.keys(DLQ_HEADERS),
          properties: Object.fromEntries(Object.entries(DLQ_HEADERS).map(([name, description]) => [name, { type: 'string', description }])),
        },
      } : {}),
      bindings: {
        kafka: {
          key: {
            type: 'string',
            description: stream === 'dlq' ? 'The key of the record given up on: its GPU UUID (null if it had none).' : 'GPU UUID, plain UTF-8 (not Avro): each GPU\'s records stay in order in one partition.',
          },
          schemaIdLocation: 'payload',
          schemaIdPayloadEncoding: 'confluent',
          schemaLookupStrategy: 'TopicNameStrategy',
          bindingVersion: KAFKA_BINDING,
        },
      },
    };
    channels[stream] = {
      address: topic,
      title: topic,
      description: `Written by ${WRITTEN_BY[stream]}. Value schema registered under subject \`${valueSubject(topic)}\` (BACKWARD compatible); every topic name takes the deployment's GPUMON_TOPIC_PREFIX in front.`,
      messages: { [schema.name]: { $ref: `#/components/messages/${schema.name}` } },
    };
    operations[`receive-${stream}`] = {
      action: 'receive',
      title: `Read ${topic}`,
      channel: { $ref: `#/channels/${stream}` },
      messages: [{ $ref: `#/channels/${stream}/messages/${schema.name}` }],
    };
  }
  const document = {
    asyncapi: '3.0.0',
    info: {
      title: 'gpumon topics',
      version: '1',
      description: 'The Kafka topics of a gpumon pipeline, for subscribers. Values are Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary); fetch the writer schema by id from the schema registry. docs/topics.md shows consumers in TypeScript and Python.',
      license: { name: 'Apache-2.0' },
    },
    servers: {
      local: { host: 'localhost:9092', protocol: 'kafka', description: 'The local stack (`gpumon stack up`); its schema registry: http://localhost:8081/apis/ccompat/v7.' },
    },
    defaultContentType: 'application/octet-stream',
    channels,
    operations,
    components: { messages },
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OUTPUT, renderAsyncApi());
  console.log(`wrote ${OUTPUT.pathname}`);
}
