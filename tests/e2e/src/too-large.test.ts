import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName } from '@gpumon/schemas/topics';
import type { DeadLetter } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, startCli, type CliProcess } from './cli-process.js';
import { readRecords } from './read-topic.js';

/**
 * Records the broker refuses for their size, on the real broker: `gpumon process score-health`
 * whose output topic takes no record at all (max.message.bytes 64) and whose dead-letter topic
 * takes 8 KiB. Each input whose output is refused becomes a dead letter, an original too large for
 * the dead-letter topic is cut to fit (with its length and SHA-256), and the partition moves on.
 * And `gpumon simulate` against a gpu.samples.v1 that takes no record: each sample is a dead letter.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-large-${run}.`;
const group = `e2e-large-${run}`;
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-large');
const registry = createRegistryClient(loadConfig(registryOptions));
const KEY = 'GPU-one-partition-for-all';
/**
 * Room for a whole sample with its reason twice (field and header), so only `huge` is cut: a
 * sample here is 0.9–3.9 KB by what the run's host name draws, and at 4 KiB one in fifty was cut too.
 */
const DLQ_MAX_BYTES = 8192;
const samples = new SimulatedFleet({ seed: 9, hosts: 1, gpusPerHost: 2, hostPrefix: `e2e-large-${run}` }).sample(Date.now());
const huge = randomBytes(20_000);
/** The simulator's run: its own topics, gpu.samples.v1 taking no record. */
const simulated = { prefix: `e2e-large-sim-${run}.`, hostPrefix: `e2e-large-sim-${run}`, start: Date.parse('2026-12-01T00:00:00Z'), intervalMs: 10_000 };
let processor: CliProcess;
let values: Buffer[];

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topicName('health', prefix), numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '64' }] },
      { topic: topicName('dlq', prefix), numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(DLQ_MAX_BYTES) }] },
    ],
  });
  await admin.disconnect();
  const topics = startCli(['topics'], { GPUMON_TOPIC_PREFIX: prefix });
  expect(await topics.exited, topics.output()).toBe(0);
  const codec = new TopicCodec(registry, 'samples', prefix);
  await codec.register();
  values = [...samples.map((s) => codec.encode({ ...s, gpu_uuid: KEY })), huge];
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  await producer.send({ topic: codec.topic, acks: -1, messages: values.map((value) => ({ key: KEY, value })) });
  await producer.disconnect();
  processor = startCli(['process', 'score-health', '--group', group], { GPUMON_TOPIC_PREFIX: prefix });
});

afterAll(async () => {
  await processor?.stop();
  await removeTopics(kafka, registry, prefix);
  await removeTopics(kafka, registry, simulated.prefix);
});

describe('records too large for their topic', () => {
  it('become dead letters that fit, the original cut with its length and SHA-256, and the partition is committed past them', async () => {
    const letters = (await readRecords<DeadLetter>(kafka, new TopicCodec(registry, 'dlq', prefix), `${group}-dlq`, values.length))
      .sort((a, b) => a.source_offset - b.source_offset);
    const outputRefused = letters.slice(0, samples.length);
    expect(outputRefused.map((l) => [l.source_offset, l.error_code, l.value_length])).toEqual(samples.map((_, i) => [i, 'record_too_large', null]));
    for (const [i, letter] of outputRefused.entries()) {
      expect(letter.error_message).toContain(`${topicName('health', prefix)} refused an output of this record`);
      expect(letter.value).toEqual(values[i]);
    }
    const cut = letters[samples.length]!;
    expect(cut).toMatchObject({ source_offset: samples.length, error_code: 'decode_failed', value_length: huge.length, value_sha256: createHash('sha256').update(huge).digest('hex') });
    expect(cut.value!.length).toBeGreaterThan(DLQ_MAX_BYTES / 2);
    expect(cut.value!.length).toBeLessThan(DLQ_MAX_BYTES);
    expect(Buffer.compare(cut.value!, huge.subarray(0, cut.value!.length))).toBe(0);

    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually('the input committed past every record', async () => {
        const [topic] = await admin.fetchOffsets({ groupId: group, topics: [topicName('samples', prefix)] });
        return topic!.partitions.map((p) => Number(p.offset)).reduce((a, b) => a + Math.max(b, 0), 0) === values.length ? true : undefined;
      }, 30_000, () => processor.output());
    } finally {
      await admin.disconnect();
    }
  });
});

describe('samples the broker refuses to the simulator', () => {
  it('each becomes a dead letter with the whole sample and the broker\'s reason, and the simulator runs to its end', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true, topics: [{ topic: topicName('samples', simulated.prefix), numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '64' }] }],
      });
    } finally {
      await admin.disconnect();
    }
    const env = { GPUMON_TOPIC_PREFIX: simulated.prefix };
    const topics = startCli(['topics'], env);
    expect(await topics.exited, topics.output()).toBe(0);
    const simulate = startCli([
      'simulate', '--clock', 'simulated', '--start', new Date(simulated.start).toISOString(), '--ticks', '2', '--interval', `${simulated.intervalMs}ms`,
      '--hosts', '1', '--gpus-per-host', '2', '--seed', '5', '--host-prefix', simulated.hostPrefix,
    ], env);
    expect(await simulate.exited, simulate.output()).toBe(0);
    expect(simulate.output()).toMatch(/stopped.*sent=0 dead_lettered=4/);

    const codec = new TopicCodec(registry, 'samples', simulated.prefix);
    await codec.lookup();
    const fleet = new SimulatedFleet({ seed: 5, hosts: 1, gpusPerHost: 2, hostPrefix: simulated.hostPrefix });
    const expected = [...fleet.sample(simulated.start), ...fleet.sample(simulated.start + simulated.intervalMs)];
    const letters = await readRecords<DeadLetter>(kafka, new TopicCodec(registry, 'dlq', simulated.prefix), `${group}-sim-dlq`, expected.length);
    expect(letters.map((l) => [l.component, l.source_topic, l.source_partition, l.source_offset, l.error_code, l.value_length])).toEqual(
      expected.map(() => ['simulator', codec.topic, -1, -1, 'record_too_large', null]));
    for (const letter of letters) expect(letter.error_message).toMatch(new RegExp(`^${codec.topic.replaceAll('.', '\\.')} refused this sample: `));
    const sorted = (values: Buffer[]): string[] => values.map((v) => v.toString('hex')).sort();
    expect(sorted(letters.map((l) => l.value!))).toEqual(sorted(expected.map((s) => codec.encode(s))));
    expect(letters.map((l) => l.key!.toString()).sort()).toEqual(expected.map((s) => s.gpu_uuid).sort());
  });
});
