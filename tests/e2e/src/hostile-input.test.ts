import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { SAMPLE_BOUNDS } from '@gpumon/schemas/sample-bounds';
import type { DeadLetter, GpuFeatures, GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, startCli, type CliProcess } from './cli-process.js';
import { TABLES, ofHosts } from './records.js';
import { SAMPLE_CONSUMERS, STAGES, startStage } from './whole-pipeline.js';

/**
 * Hostile input on gpu.samples.v1 while the sink and every processor run: a frame whose trailing
 * array announces 2×10⁸ items (it ran every consumer out of memory), then 200 schema-valid samples
 * whose readings cannot be true. Each is one dead letter per consumer, no table gains a row of
 * them, and the good samples behind them on the same partition are processed.
 */
const run = randomBytes(3).toString('hex');
const env = { GPUMON_TOPIC_PREFIX: `e2e-hostile-${run}.` };
const hostPrefix = `e2e-hostile-${run}`;
const absurdHost = `${hostPrefix}-absurd`;
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: env.GPUMON_TOPIC_PREFIX }), 'e2e-hostile');
const registry = createRegistryClient(loadConfig(registryOptions));
const pool: pg.Pool = createPool(loadConfig(databaseOptions));
const now = Date.now();
const fleet = new SimulatedFleet({ seed: 11, hosts: 1, gpusPerHost: 2, hostPrefix });
const before = fleet.sample(now - 60_000);
const after = fleet.sample(now - 50_000);
const template = before[0]!;

/** Double fields (the only ones Avro lets be NaN or ±Infinity) and what is absurd about each sample, in turn. */
const DOUBLES = ['power_draw_w', 'temperature_gpu_c', 'utilization_gpu_pct', 'memory_used_mib', 'clock_sm_mhz', 'fan_speed_pct', 'pcie_tx_kbps', 'interval_s'] as const;
const VALUES = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e12, 1e12];
const features = (changes: Partial<GpuFeatures>): GpuFeatures => ({
  ...Object.fromEntries(Object.keys(SAMPLE_BOUNDS).filter((p) => p.startsWith('features.')).map((p) => [p.slice('features.'.length), null])),
  ...changes,
}) as GpuFeatures;
function absurd(i: number): { sample: GpuSample; reason: RegExp } {
  const base: GpuSample = { ...template, gpu_uuid: `GPU-${run}-absurd-${i}`, hostname: absurdHost, serial: `SN-${run}-${i}` };
  switch (i % 10) {
    case 5: return { sample: { ...base, power_draw_w: -1 - i }, reason: /power_draw_w=-\d+ outside \[0, 5000\]/ };
    case 6: return { sample: { ...base, time: now + 30 * 86_400_000 }, reason: /more than a day after the message was written/ };
    case 7: return { sample: { ...base, time: now - 500 * 86_400_000 }, reason: /more than 395 days before the message was written/ };
    case 8: return { sample: { ...base, features: features({ power_mean_5m: Number.POSITIVE_INFINITY }) }, reason: /features\.power_mean_5m=Infinity outside/ };
    case 9: {
      const processes = [{ pid: 4242, type: 'C', name: 'python', used_memory_mib: -1e12, gpu_instance_id: null, compute_instance_id: null, workload_id: null }];
      return { sample: { ...base, processes }, reason: /processes\[\]\.used_memory_mib=-1000000000000 outside/ };
    }
    default: {
      const field = DOUBLES[i % DOUBLES.length]!;
      const value = VALUES[i % 10]!;
      return { sample: { ...base, [field]: value }, reason: new RegExp(`${field}=${String(value)} outside`) };
    }
  }
}
const absurds = Array.from({ length: 200 }, (_, i) => absurd(i));

let running: CliProcess[] = [];
let places: { crafted: string; absurd: Map<string, RegExp> };
const placeOf = (letter: DeadLetter): string => `${letter.source_partition}@${letter.source_offset}`;
let letters: DeadLetter[];

beforeAll(async () => {
  const topics = startCli(['topics'], env);
  expect(await topics.exited, topics.output()).toBe(0);
  const codec = new TopicCodec(registry, 'samples', env.GPUMON_TOPIC_PREFIX);
  await codec.register();
  // The registry's current schema id, every field valid up to the trailing attribution_problems, which announces 2×10⁸ items and ends.
  const whole = codec.encode({ ...template, attribution_problems: [] });
  const crafted = Buffer.concat([whole.subarray(0, whole.length - 1), Buffer.from([0x80, 0x88, 0xde, 0xbe, 0x01])]);

  running = STAGES.map((stage) => startStage({ env }, stage));
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  /** Where the broker put one record, as a dead letter names it. */
  const send = async (key: string, value: Buffer): Promise<string> => {
    const [ack] = await producer.send({ topic: codec.topic, acks: -1, messages: [{ key, value }] });
    return `${ack!.partition}@${ack!.baseOffset}`;
  };
  await producer.send({ topic: codec.topic, acks: -1, messages: before.map((s) => ({ key: s.gpu_uuid, value: codec.encode(s) })) });
  const craftedAt = await send(template.gpu_uuid, crafted);
  const absurdAt = new Map<string, RegExp>();
  for (const { sample, reason } of absurds) absurdAt.set(await send(sample.gpu_uuid, codec.encode(sample)), reason);
  await producer.send({ topic: codec.topic, acks: -1, messages: after.map((s) => ({ key: s.gpu_uuid, value: codec.encode(s) })) });
  await producer.disconnect();
  places = { crafted: craftedAt, absurd: absurdAt };

  const dlq = new TopicCodec(registry, 'dlq', env.GPUMON_TOPIC_PREFIX);
  const consumer = kafka.consumer({ groupId: `e2e-hostile-${run}-dlq` });
  letters = [];
  await consumer.connect();
  await consumer.subscribe({ topic: dlq.topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void letters.push(await dlq.decode(message.value)) });
  const wanted = SAMPLE_CONSUMERS.length * (1 + absurds.length);
  await eventually(`${wanted} dead letters`, async () => (letters.length >= wanted ? true : undefined), 180_000,
    () => running.map((p) => p.output().slice(-2000)).join('\n---\n'));
  // The good samples behind them on the same partitions: written by the sink, and their verdicts too.
  await eventually('the good samples and their verdicts in the tables', async () => {
    const { rows } = await pool.query<{ samples: number; health: number }>(
      `SELECT (SELECT count(*)::int FROM gpu_samples WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname = $1)) AS samples, (SELECT count(*)::int FROM gpu_health WHERE hostname = $1) AS health`,
      [template.hostname]);
    return rows[0]!.samples === before.length + after.length && rows[0]!.health === before.length + after.length ? true : undefined;
  }, 120_000, () => running.map((p) => p.output().slice(-2000)).join('\n---\n'));
  await consumer.disconnect();
}, 400_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  for (const table of [...TABLES.map(([, t]) => t), 'gpu_device_configs', 'gpu_devices']) await pool.query(`DELETE FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [`${hostPrefix}%`]);
  await pool.end();
  await removeTopics(kafka, registry, env.GPUMON_TOPIC_PREFIX);
});

describe('hostile input while the sink and every processor run', () => {
  it('the 2×10⁸-item record is one decode_failed dead letter per consumer, and no consumer died', () => {
    const decodeFailed = letters.filter((l) => placeOf(l) === places.crafted && l.error_code === 'decode_failed');
    expect(decodeFailed.map((l) => l.component).sort()).toEqual(SAMPLE_CONSUMERS);
    for (const letter of decodeFailed) expect(letter.error_message).toMatch(/attribution_problems: 200000000 items announced, 0 bytes left/);
    for (const process of running) expect(process.child.exitCode, process.output().slice(-2000)).toBeNull();
  });

  it('each absurd sample is one validation_failed dead letter per consumer, the sink\'s included, with its reason', () => {
    for (const component of SAMPLE_CONSUMERS) {
      const own = letters.filter((l) => l.component === component && l.error_code === 'validation_failed' && places.absurd.has(placeOf(l)));
      expect(own, component).toHaveLength(absurds.length);
      for (const letter of own) expect(letter.error_message, component).toMatch(places.absurd.get(placeOf(letter))!);
    }
    expect(letters).toHaveLength(SAMPLE_CONSUMERS.length * (1 + absurds.length));
  });

  it('no table gains a row of them and gpu_devices no phantom GPU', async () => {
    for (const [, table] of TABLES) {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${ofHosts(table, '= $1')}`, [absurdHost]);
      expect(rows[0]!.n, table).toBe(0);
    }
    const devices = await pool.query<{ gpu_uuid: string }>('SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1 ORDER BY gpu_uuid', [`${hostPrefix}%`]);
    expect(devices.rows.map((d) => d.gpu_uuid)).toEqual(before.map((s) => s.gpu_uuid).sort());
  });
});
