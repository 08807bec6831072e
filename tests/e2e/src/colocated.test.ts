import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESSORS } from '@gpumon/cli/components';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { Stream } from '@gpumon/schemas/topics';
import type { DeadLetter, GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, provisionTopics, startCliServing, stoppedCounters, type CliProcess } from './cli-process.js';
import { readRecords } from './read-topic.js';
import { expectedOutputs } from './whole-pipeline.js';

/**
 * `gpumon process all` through the real broker: every processor's outputs of every sample, from one
 * consumer; the samples' offsets committed; a poison record one dead letter from `processors`, and
 * the samples behind it on its partition still enriched.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-coloc-${run}.`;
const env = { GPUMON_TOPIC_PREFIX: prefix };
const group = `e2e-coloc-${run}`;
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-coloc');
const registry = createRegistryClient(loadConfig(registryOptions));
const fleet = new SimulatedFleet({ seed: 11, hosts: 2, gpusPerHost: 4, hostPrefix: `e2e-coloc-${run}` });
const start = Date.now() - 60_000;
const samples: GpuSample[] = [0, 1, 2, 3, 4].flatMap((k) => fleet.sample(start + k * 10_000));
/** The poison goes on the partition of the first GPU, between its samples. */
const POISON_KEY = samples[0]!.gpu_uuid;
let processors: CliProcess;
let metricsPort: number;

const keyOf = (record: { gpu_uuid: string; time: number }): string => `${record.gpu_uuid}@${record.time}`;

beforeAll(async () => {
  await provisionTopics(env);
  const codec = new TopicCodec(registry, 'samples', prefix);
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  const half = samples.length / 2;
  const encode = (s: GpuSample): { key: string; value: Buffer } => ({ key: s.gpu_uuid, value: codec.encode(s) });
  await codec.register();
  await producer.send({ topic: codec.topic, messages: samples.slice(0, half).map(encode) });
  await producer.send({ topic: codec.topic, messages: [{ key: POISON_KEY, value: Buffer.from('poison: not an Avro record') }] });
  await producer.send({ topic: codec.topic, messages: samples.slice(half).map(encode) });
  await producer.disconnect();
  ({ cli: processors, port: metricsPort } = await startCliServing(['process', 'all', '--group', group], env));
});

afterAll(async () => {
  await processors?.stop();
  await removeTopics(kafka, registry, prefix);
});

describe('gpumon process all: the processors co-located on one consumer', () => {
  it('produces every processor\'s outputs of every sample, the ones behind the poison included', { timeout: 120_000 }, async () => {
    const expected = await expectedOutputs(samples);
    const outputs = [...new Set(PROCESSORS.flatMap((p) => p.outputs))] as Stream[];
    for (const stream of outputs) {
      const want = (expected.get(stream) ?? []) as Array<{ gpu_uuid: string; time: number }>;
      const got = await readRecords<{ gpu_uuid: string; time: number }>(kafka, new TopicCodec(registry, stream, prefix), `${group}-read-${stream}`, want.length);
      expect(got.map(keyOf).sort(), stream).toEqual(want.map(keyOf).sort());
    }
    // Every sample its verdict, the one behind the poison on its partition too.
    expect((expected.get('health') as GpuSample[]).map(keyOf).sort()).toEqual(samples.map(keyOf).sort());
  });

  it('dead-letters the poison record once, naming the co-located consumer, its topic and offset', async () => {
    const [letter] = await readRecords<DeadLetter>(kafka, new TopicCodec(registry, 'dlq', prefix), `${group}-read-dlq`, 1);
    expect(letter).toMatchObject({ component: 'processors', source_topic: `${prefix}gpu.samples.v1`, error_code: 'decode_failed' });
  });

  it('commits every sample\'s offset, the poison\'s too, and writes no other dead letter', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = `${prefix}gpu.samples.v1`;
      const ends = await admin.fetchTopicOffsets(topic);
      const end = ends.reduce((n, p) => n + Number(p.high), 0);
      expect(end).toBe(samples.length + 1);
      // One decode, so one dead letter for the poison, not one per processor.
      expect((await admin.fetchTopicOffsets(`${prefix}gpu.dlq.v1`)).reduce((n, p) => n + Number(p.high), 0)).toBe(1);
      await eventually('every offset committed', async () => {
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        const committed = offsets!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
        return committed === end ? true : undefined;
      });
    } finally {
      await admin.disconnect();
    }
  });

  it('counts each processor under its own name, and what the one consumer read under processors', async () => {
    const text = await fetch(`http://localhost:${metricsPort}/metrics`).then((r) => r.text());
    expect(text).toContain(`gpumon_records_received_total{component="processors"} ${samples.length + 1}`);
    expect(text).toContain('gpumon_dead_letters_total{component="processors",reason="decode_failed"} 1');
    for (const { name } of PROCESSORS) expect(text).toContain(`gpumon_records_received_total{component="${name}"} ${samples.length}`);
    expect(text).toMatch(/gpumon_records_sent_total\{component="score-health"\} [1-9]/);
  });

  it('stops cleanly', async () => {
    expect(await processors.stop(), processors.output()).toBe(0);
    expect(stoppedCounters(processors.output())).toMatchObject({ received: samples.length + 1, errored: 1 });
  });
});
