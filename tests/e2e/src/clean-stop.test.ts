import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, metricValue, startCli, startCliServing, stoppedCounters, type CliProcess } from './cli-process.js';
import { ofHosts } from './records.js';

/**
 * A clean stop (SIGTERM) in the middle of a steady stream: the sink and a processor commit exactly
 * what they wrote, so the instance that takes over in the same group receives only what the first
 * one had not written, and writes nothing twice.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-stop-${run}.`;
const hostPrefix = `e2e-stop-${run}`;
const kafkaSettings = loadConfig(kafkaOptions, { topicPrefix: prefix });
const kafka = createKafka(kafkaSettings, 'e2e-stop');
const registry = createRegistryClient(loadConfig(registryOptions));
const pool = createPool(loadConfig(databaseOptions));
const admin = kafka.admin();
const sinkGroup = `e2e-stop-${run}-sink`;
const processorGroup = `e2e-stop-${run}-score-health`;
const samples = new TopicCodec(registry, 'samples', prefix);
const health = new TopicCodec(registry, 'health', prefix);

async function committed(groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

async function records(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, o) => sum + Number(o.high), 0);
}

async function rows(): Promise<number> {
  return Number((await pool.query(`SELECT count(*) AS n FROM gpu_samples WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1)`, [`${hostPrefix}%`])).rows[0].n);
}

const COMMITTED = 'gpumon_consumer_records_committed_total';

/** The sink and score-health, each in its own group, with a metrics port to watch their commits. */
async function startStages(): Promise<{ sink: CliProcess; processor: CliProcess; sinkPort: number; processorPort: number }> {
  const { cli: sink, port: sinkPort } = await startCliServing(['sink', '--streams', 'samples', '--group', sinkGroup, '--batch-rows', '200', '--batch-wait', '300ms'], {
    GPUMON_TOPIC_PREFIX: prefix,
  });
  const { cli: processor, port: processorPort } = await startCliServing(['process', 'score-health', '--group', processorGroup], { GPUMON_TOPIC_PREFIX: prefix });
  return { sink, processor, sinkPort, processorPort };
}

beforeAll(async () => {
  await admin.connect();
  const topics = startCli(['topics'], { GPUMON_TOPIC_PREFIX: prefix });
  expect(await topics.exited, topics.output()).toBe(0);
  await samples.register();
  await health.register();
});

afterAll(async () => {
  for (const table of ['gpu_samples', 'gpu_device_configs', 'gpu_devices']) await pool.query(`DELETE FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [`${hostPrefix}%`]);
  await pool.end();
  await admin.disconnect();
  await removeTopics(kafka, registry, prefix, ['samples', 'health', 'alerts', 'dlq']);
});

describe('a clean stop mid-stream', () => {
  it('commits what was written, and the instance that takes over in the group replays nothing', async () => {
    const fleet = new SimulatedFleet({ seed: 11, hosts: 2, gpusPerHost: 8, hostPrefix });
    const producer = kafka.producer({ createPartitioner: keyPartitioner });
    await producer.connect();
    let produced = 0;
    let tick = 0;
    let producing = true;
    const start = Date.now() - 3_600_000;
    // About 500 samples a second, on every partition, until the stages have been stopped.
    const steady = (async () => {
      while (producing) {
        const batch = [0, 1, 2].flatMap(() => fleet.sample(start + 1000 * tick++));
        await producer.send({ topic: samples.topic, acks: -1, messages: batch.map((s) => ({ key: s.gpu_uuid, value: samples.encode(s) })) });
        produced += batch.length;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const first = await startStages();
    await eventually('both stages committing', async () =>
      ((await metricValue(first.sinkPort, COMMITTED)) >= 1000 && (await metricValue(first.processorPort, COMMITTED)) >= 1000 ? true : undefined),
    90_000, () => first.sink.output() + first.processor.output());
    expect(await first.sink.stop(), first.sink.output()).toBe(0);
    expect(await first.processor.stop(), first.processor.output()).toBe(0);
    producing = false;
    await steady;
    await producer.disconnect();

    // Every row the sink wrote is committed and every committed record written: nothing in between to replay.
    const sinkCommitted = await committed(sinkGroup, samples.topic);
    expect(sinkCommitted).toBeGreaterThan(0);
    expect(await rows(), first.sink.output()).toBe(sinkCommitted);
    const processorCommitted = await committed(processorGroup, samples.topic);
    expect(processorCommitted).toBeGreaterThan(0);
    expect(await records(health.topic), first.processor.output()).toBe(processorCommitted);
    expect(first.sink.output() + first.processor.output()).not.toMatch(/could not commit/);

    const second = await startStages();
    await eventually('both stages caught up', async () =>
      ((await committed(sinkGroup, samples.topic)) === produced && (await committed(processorGroup, samples.topic)) === produced ? true : undefined),
    90_000, () => second.sink.output() + second.processor.output());
    expect(await second.sink.stop(), second.sink.output()).toBe(0);
    expect(await second.processor.stop(), second.processor.output()).toBe(0);

    // The second instances got exactly what the first ones had not committed, and wrote it once.
    expect(stoppedCounters(second.sink.output())).toMatchObject({ received: produced - sinkCommitted, sent: produced - sinkCommitted, dropped: 0 });
    expect(stoppedCounters(second.processor.output())).toMatchObject({ received: produced - processorCommitted });
    expect(await rows()).toBe(produced);
    expect(await records(health.topic)).toBe(produced);
  }, 240_000);
});
