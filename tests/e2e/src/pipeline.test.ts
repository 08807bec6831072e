import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import type { DeadLetter, GpuSample } from '@gpumon/schemas/types.generated';
import { STREAMS, topicName, valueSubject } from '@gpumon/schemas/topics';
import { scoreHealth } from '@gpumon/score-health/score';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, startCli, type CliProcess } from './cli-process.js';
import { byGpuAndTime, rowToRecord } from './records.js';

/**
 * simulate → gpu.samples.v1 → process score-health → gpu.health.v1 → sink → gpu_samples, gpu_health,
 * each stage its own `gpumon` process on the real Kafka, registry and TimescaleDB. The run gets
 * its own topic prefix and host names, so it shares the stack with anything else running.
 */
const run = randomBytes(3).toString('hex');
const env = { GPUMON_TOPIC_PREFIX: `e2e-${run}.` };
const hostPrefix = `e2e-${run}`;
const fleetOptions = { seed: 7, hosts: 2, gpusPerHost: 6, hostPrefix };
const start = Date.parse('2026-01-01T00:00:00Z');
const ticks = 3;
const garbage = Buffer.from('definitely not avro');

const kafkaSettings = loadConfig(kafkaOptions, { topicPrefix: env.GPUMON_TOPIC_PREFIX });
const kafka = createKafka(kafkaSettings, 'e2e');
const registry = createRegistryClient(loadConfig(registryOptions));
const pool = createPool(loadConfig(databaseOptions));
let sink: CliProcess;
let health: CliProcess;

function expectedSamples(): GpuSample[] {
  const fleet = new SimulatedFleet(fleetOptions);
  return Array.from({ length: ticks }, (_, k) => fleet.sample(start + k * 10_000)).flat().sort(byGpuAndTime);
}

async function rowsOf(table: string, stream: 'samples' | 'health'): Promise<Array<Record<string, unknown>>> {
  const result = await pool.query(`SELECT * FROM ${table} WHERE hostname LIKE $1`, [`${hostPrefix}-%`]);
  return result.rows.map((row: Record<string, unknown>) => rowToRecord(stream, row)).sort(byGpuAndTime);
}

beforeAll(async () => {
  const topics = startCli(['topics'], env);
  expect(await topics.exited, topics.output()).toBe(0);

  // A malformed record first: both consumers must dead-letter it and carry on.
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  await producer.send({ topic: topicName('samples', env.GPUMON_TOPIC_PREFIX), messages: [{ key: 'GPU-garbage', value: garbage }] });
  await producer.disconnect();

  sink = startCli(['sink', '--streams', 'samples,health', '--group', `e2e-${run}-sink`], env);
  health = startCli(['process', 'score-health', '--group', `e2e-${run}-health`], env);
  const simulate = startCli([
    'simulate', '--clock', 'simulated', '--start', new Date(start).toISOString(), '--ticks', String(ticks), '--interval', '10s',
    '--hosts', String(fleetOptions.hosts), '--gpus-per-host', String(fleetOptions.gpusPerHost), '--seed', String(fleetOptions.seed), '--host-prefix', hostPrefix,
  ], env);
  expect(await simulate.exited, simulate.output()).toBe(0);
});

afterAll(async () => {
  await Promise.all([sink?.stop(), health?.stop()]);
  await pool.query('DELETE FROM gpu_samples WHERE hostname LIKE $1', [`${hostPrefix}-%`]);
  await pool.query('DELETE FROM gpu_health WHERE hostname LIKE $1', [`${hostPrefix}-%`]);
  await pool.end();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: STREAMS.map((s) => topicName(s, env.GPUMON_TOPIC_PREFIX)) });
  await admin.disconnect();
  for (const stream of STREAMS) {
    const subject = valueSubject(topicName(stream, env.GPUMON_TOPIC_PREFIX));
    await registry.deleteSubject(subject, false).catch(() => undefined);
    await registry.deleteSubject(subject, true).catch(() => undefined);
  }
});

describe('walking skeleton, end to end', () => {
  it('writes every simulated sample into gpu_samples with exactly the values produced', async () => {
    const expected = expectedSamples();
    const rows = await eventually('all samples in gpu_samples', async () => {
      const found = await rowsOf('gpu_samples', 'samples');
      return found.length >= expected.length ? found : undefined;
    });
    expect(rows).toEqual(expected);
  });

  it('writes the health verdict of every sample into gpu_health with exactly the values computed', async () => {
    const expected = expectedSamples().map(scoreHealth).sort(byGpuAndTime);
    const rows = await eventually('all verdicts in gpu_health', async () => {
      const found = await rowsOf('gpu_health', 'health');
      return found.length >= expected.length ? found : undefined;
    });
    expect(rows).toEqual(expected);
  });

  it('sends the malformed record to the dead-letter topic with the reason, from each consumer', async () => {
    const codec = new TopicCodec(registry, 'dlq', env.GPUMON_TOPIC_PREFIX);
    await codec.register();
    const consumer = kafka.consumer({ groupId: `e2e-${run}-dlq-reader` });
    const letters: DeadLetter[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: codec.topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void letters.push(await codec.decode(message.value)) });
    await eventually('two dead letters', async () => (letters.length >= 2 ? true : undefined));
    await consumer.disconnect();
    expect(letters.map((l) => l.component).sort()).toEqual(['score-health', 'sink-timescaledb']);
    for (const letter of letters) {
      expect(letter).toMatchObject({
        source_topic: topicName('samples', env.GPUMON_TOPIC_PREFIX),
        source_offset: 0,
        key: Buffer.from('GPU-garbage'),
        value: garbage,
        error_code: 'decode_failed',
      });
      expect(letter.error_message).toContain('not a Confluent Avro message');
    }
  });

  it('stops every stage cleanly on SIGTERM', async () => {
    expect(await health.stop(), health.output()).toBe(0);
    expect(await sink.stop(), sink.output()).toBe(0);
    expect(sink.output()).toMatch(/stopped received=\d+/);
  });
});
