import { randomBytes } from 'node:crypto';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { schemaOf, type AvroRecord } from '@gpumon/schemas/avro';
import type { DeadLetter, GpuHealth, GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { provisionTopics, startCli, type CliProcess } from './cli-process.js';
import { readRecords } from './read-topic.js';

/**
 * Bad input through the real broker into `gpumon process score-health`: each kind goes to the
 * dead-letter topic with its reason, and a good sample behind them on the same partition still
 * gets its verdict.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-bad-${run}.`;
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-bad');
const registry = createRegistryClient(loadConfig(registryOptions));
const KEY = 'GPU-one-partition-for-all';
const good = new SimulatedFleet({ seed: 5, hosts: 1, gpusPerHost: 1, hostPrefix: `e2e-bad-${run}` }).sample(Date.now())[0]!;
const sample = (changes: Partial<GpuSample>): GpuSample => ({ ...good, gpu_uuid: KEY, ...changes });
let processor: CliProcess;

beforeAll(async () => {
  await provisionTopics({ GPUMON_TOPIC_PREFIX: prefix });
  const codec = new TopicCodec(registry, 'samples', prefix);
  await codec.register();
  // A writer schema that lets `time` be null: the registry accepts it (BACKWARD), no reader can use it.
  const samples = schemaOf('samples');
  const nullableTime: AvroRecord = { ...samples, fields: samples.fields.map((f) => (f.name === 'time' ? { ...f, type: ['null', 'long'], default: null } : f)) };
  const nullableId = await registry.register(codec.subject, { schemaType: 'AVRO', schema: JSON.stringify(nullableTime) });
  const withNullTime = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), avro.Type.forSchema(nullableTime as avro.Schema).toBuffer({ ...sample({}), time: null })]);
  withNullTime.writeUInt32BE(nullableId, 1);
  const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);

  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  await producer.send({
    topic: codec.topic,
    messages: [
      Buffer.from('garbage bytes'),
      unknownId,
      withNullTime,
      codec.encode(sample({ power_draw_w: -50 })),
      codec.encode(sample({ temperature_gpu_c: 10_000 })),
      codec.encode(sample({ time: Date.now() + 365 * 86_400_000 })),
      codec.encode(sample({})),
    ].map((value) => ({ key: KEY, value })),
  });
  await producer.disconnect();
  processor = startCli(['process', 'score-health', '--group', `e2e-bad-${run}`], { GPUMON_TOPIC_PREFIX: prefix });
});

afterAll(async () => {
  await processor?.stop();
  await removeTopics(kafka, registry, prefix);
});

describe('score-health fed bad input through the broker', () => {
  it('dead-letters each bad record with its reason and offset, in order', async () => {
    const letters = await readRecords<DeadLetter>(kafka, new TopicCodec(registry, 'dlq', prefix), `e2e-bad-${run}-dlq`, 6);
    const byOffset = letters.sort((a, b) => a.source_offset - b.source_offset).map((l) => [l.source_offset, l.component, l.error_code, l.error_message]);
    expect(byOffset).toEqual([
      [0, 'score-health', 'decode_failed', expect.stringContaining('not a Confluent Avro message')],
      [1, 'score-health', 'decode_failed', expect.stringMatching(/writer schema 2147483632/)],
      [2, 'score-health', 'decode_failed', expect.stringMatching(/.+/)],
      [3, 'score-health', 'validation_failed', expect.stringContaining('power_draw_w=-50 outside [0, 5000]')],
      [4, 'score-health', 'validation_failed', expect.stringContaining('temperature_gpu_c=10000 outside [-40, 150]')],
      [5, 'score-health', 'validation_failed', expect.stringContaining('more than a day after the message was written')],
    ]);
  });

  it('keeps the partition flowing: the good sample behind them gets its verdict', async () => {
    const [health] = await readRecords<GpuHealth>(kafka, new TopicCodec(registry, 'health', prefix), `e2e-bad-${run}-health`, 1);
    expect(health).toMatchObject({ gpu_uuid: KEY, time: good.time, verdict: 'PASS' });
  });
});
