import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '@gpumon/features/definitions';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { DeadLetter, GpuEconomics, GpuPrediction, GpuSample } from '@gpumon/schemas/types.generated';
import { childTablesOf } from '@gpumon/sink-timescaledb/child-tables';
import { topicName, type Stream } from '@gpumon/schemas/topics';
import { eventually, provisionTopics, startCli, type CliProcess } from './cli-process.js';
import { SAMPLE_CONSUMERS, expectedRecords, startWholePipeline, type PipelineRun } from './whole-pipeline.js';
import { TABLES, ofHosts, rowToRecord, storedRecord } from './records.js';
import { refreshRollups } from './rollups.js';

/**
 * simulate → gpu.samples.v1 → score-health, detect-anomalies, price-usage, predict-failure (co-located,
 * or split with GPUMON_TEST_PROCESSORS=split) → their topics → sink → gpu_samples, gpu_health, gpu_anomalies, gpu_economics, gpu_predictions, gpu_alerts; each stage its own `gpumon`
 * process on the real Kafka, registry and TimescaleDB. The fleet goes through one fault of each
 * kind, so anomalies and alerts are there to check. The run gets its own topic prefix and host
 * names, so it shares the stack with anything else running.
 */
const run = randomBytes(3).toString('hex');
const pipelineRun: PipelineRun = {
  env: { GPUMON_TOPIC_PREFIX: `e2e-${run}.` }, hostPrefix: `e2e-${run}`, seed: 7, intervalMs: 10 * 60_000, ticks: 30,
  // Two days ago at midnight UTC: inside every table's retention, which the sink honours.
  start: Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000,
};
const { env, hostPrefix } = pipelineRun;
const garbage = Buffer.from('definitely not avro');

const kafkaSettings = loadConfig(kafkaOptions, { topicPrefix: env.GPUMON_TOPIC_PREFIX });
const kafka = createKafka(kafkaSettings, 'e2e');
const registry = createRegistryClient(loadConfig(registryOptions));
const pool = createPool(loadConfig(databaseOptions));
const running: CliProcess[] = [];

/** Order-free comparison: rows and records as JSON with keys sorted at every depth (jsonb reorders them), sorted. */
const sortKeys = (value: unknown): unknown =>
  Array.isArray(value) ? value.map(sortKeys)
    : value !== null && typeof value === 'object' && !Buffer.isBuffer(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]))
      : value;
const canonical = (records: unknown[]): string[] => records.map((r) => JSON.stringify(sortKeys(r))).sort();

async function rowsOf(stream: Exclude<Stream, 'dlq'>, table: string): Promise<unknown[]> {
  const result = await pool.query(`SELECT * FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [`${hostPrefix}-%`]);
  return result.rows.map((row: Record<string, unknown>) => rowToRecord(stream, row));
}

beforeAll(async () => {
  await provisionTopics(env);

  // A malformed record first: every consumer must dead-letter it and carry on.
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  await producer.send({ topic: topicName('samples', env.GPUMON_TOPIC_PREFIX), messages: [{ key: 'GPU-garbage', value: garbage }] });
  await producer.disconnect();

  running.push(...(await startWholePipeline(pipelineRun)));
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  for (const table of ['gpu_workload_samples', 'gpu_workload_costs']) {
    await pool.query(`DELETE FROM ${table} WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1)`, [`${hostPrefix}-%`]);
  }
  await pool.query('DELETE FROM gpu_workloads WHERE workload_id LIKE $1', [`%${hostPrefix}%`]);
  for (const table of [...TABLES.map(([, t]) => t), 'gpu_device_configs', 'gpu_devices']) await pool.query(`DELETE FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [`${hostPrefix}-%`]);
  await pool.end();
  await removeTopics(kafka, registry, env.GPUMON_TOPIC_PREFIX);
});

describe('the whole pipeline, end to end', () => {
  let produced: Map<Stream, unknown[]>;
  beforeAll(async () => {
    produced = await expectedRecords(pipelineRun);
  });

  it('has faults to show: anomalies, alerts, lost GPUs and predicted failures among the records', () => {
    expect(produced.get('anomalies')?.length).toBeGreaterThan(10);
    expect((produced.get('predictions') as GpuPrediction[]).filter((p) => p.risk_band !== 'LOW').length).toBeGreaterThan(0);
    expect(produced.get('alerts')?.length).toBeGreaterThan(10);
    expect((produced.get('samples') as GpuSample[]).some((s) => s.gpu_lost)).toBe(true);
  });

  it.each(TABLES)('writes every %s record into %s with exactly the values produced', async (stream, table) => {
    const want = canonical((produced.get(stream) ?? []).map((record) => storedRecord(stream, record as object)));
    const rows = await eventually(`all ${stream} in ${table}`, async () => {
      const found = await rowsOf(stream, table);
      return found.length >= want.length ? found : undefined;
    });
    expect(canonical(rows)).toEqual(want);
  });

  it.each([['samples', 'gpu_workload_samples'], ['economics', 'gpu_workload_costs']] as const)(
    'writes the workloads of every %s record into %s, a row each',
    async (stream, table) => {
      const child = childTablesOf(stream).find((c) => c.name === table)!;
      const want = canonical((produced.get(stream) as Array<Record<string, unknown>>).flatMap((record) => child.rowsOf(record)));
      expect(want.length).toBeGreaterThan(100);
      const rows = await eventually(`all rows of ${table}`, async () => {
        const { rows: found } = await pool.query<Record<string, unknown>>(
          `SELECT ${child.columns.map((c) => c.name).join(', ')} FROM ${table} WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1)`,
          [`${hostPrefix}-%`],
        );
        return found.length >= want.length ? found : undefined;
      });
      const asRecord = (row: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(row).map(([name, value]) => [
        name, value instanceof Date ? value.getTime() : name.endsWith('_micros') ? Number(value) : value,
      ]));
      expect(canonical(rows.map(asRecord))).toEqual(want);
    },
  );

  it('keeps one gpu_workloads row per simulated pod and job, and answers cost per workload and the jobs hit by each Xid from the views', async () => {
    const samples = produced.get('samples') as GpuSample[];
    const workloadIds = [...new Set(samples.flatMap((s) => (s.workloads ?? []).map((w) => w.workload_id)))].sort();
    // The run's random host prefix seeds its placement: two hosts may hold as little as one job spanning both.
    expect(workloadIds.length).toBeGreaterThan(0);
    const { rows: dimension } = await pool.query<{ workload_id: string }>('SELECT workload_id FROM gpu_workloads WHERE workload_id = ANY($1) ORDER BY workload_id', [workloadIds]);
    expect(dimension.map((r) => r.workload_id)).toEqual(workloadIds);

    // Cost per workload: the view's sums are the economics parts of the run, summed.
    await refreshRollups(pool);
    const want = new Map<string, number>();
    for (const part of (produced.get('economics') as GpuEconomics[]).flatMap((e) => e.workloads)) {
      if (part.workload_id !== null) want.set(part.workload_id, (want.get(part.workload_id) ?? 0) + part.allocated_cost_micros);
    }
    const { rows: costs } = await pool.query<{ workload_id: string; allocated: string }>(
      'SELECT workload_id, sum(allocated_cost_micros) AS allocated FROM gpu_workload_cost_daily WHERE workload_id = ANY($1) GROUP BY workload_id', [workloadIds]);
    expect(new Map(costs.map((r) => [r.workload_id, Number(r.allocated)]))).toEqual(want);

    // Jobs hit by faults: every critical Xid of the run, with the workloads its sample carried.
    const critical = new Set([48, 63, 64, 79, 119]);
    const hits = samples.flatMap((s) => s.xid_events.filter((x) => critical.has(x.code)).map((x) => ({
      time: s.time, gpu_uuid: s.gpu_uuid, xid: x.code, workloads: (s.workloads ?? []).map((w) => w.workload_id).sort(),
    })));
    expect(hits.length).toBeGreaterThan(0);
    const { rows: found } = await pool.query<{ time: Date; gpu_uuid: string; xid: number; workloads: Array<string | null> }>(
      `SELECT time, gpu_uuid, xid, array_agg(workload_id ORDER BY workload_id) AS workloads FROM gpu_fault_workloads
        WHERE hostname LIKE $1 AND kind = 'xid' GROUP BY time, gpu_uuid, xid, detail`, [`${hostPrefix}-%`]);
    const key = (h: { time: number; gpu_uuid: string; xid: number | null }): string => `${h.gpu_uuid} ${h.time} ${h.xid}`;
    const got = new Map(found.map((r) => [key({ ...r, time: r.time.getTime() }), r.workloads.filter((w) => w !== null)]));
    expect(new Map(hits.map((h) => [key(h), h.workloads]))).toEqual(got);
  });

  it('names, in every prediction, a model version that gpu_models and gpu_feature_definitions describe', async () => {
    const { rows } = await pool.query(
      `SELECT p.model_name, p.model_version, count(*)::int AS predictions,
              (SELECT count(*)::int FROM gpu_feature_definitions f WHERE f.model_name = p.model_name AND f.model_version = p.model_version) AS features
         FROM gpu_predictions p JOIN gpu_models m ON m.name = p.model_name AND m.version = p.model_version
        WHERE p.hostname LIKE $1 GROUP BY p.model_name, p.model_version`, [`${hostPrefix}-%`]);
    expect(rows).toEqual([{ model_name: expect.any(String), model_version: expect.any(String), predictions: produced.get('predictions')!.length, features: FEATURE_NAMES.length }]);
  });

  it('sends the malformed record to the dead-letter topic with the reason, from each consumer', async () => {
    const codec = new TopicCodec(registry, 'dlq', env.GPUMON_TOPIC_PREFIX);
    await codec.register();
    const consumer = kafka.consumer({ groupId: `e2e-${run}-dlq-reader` });
    const letters: DeadLetter[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: codec.topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void letters.push(await codec.decode(message.value)) });
    await eventually('a dead letter from each consumer', async () => (letters.length >= SAMPLE_CONSUMERS.length ? true : undefined));
    await consumer.disconnect();
    expect(letters.map((l) => l.component).sort()).toEqual(SAMPLE_CONSUMERS);
    for (const letter of letters) {
      expect(letter).toMatchObject({
        source_topic: topicName('samples', env.GPUMON_TOPIC_PREFIX), source_offset: 0, key: Buffer.from('GPU-garbage'), value: garbage, error_code: 'decode_failed',
      });
      expect(letter.error_message).toContain('not a Confluent Avro message');
    }
    const inspect = startCli(['dlq', 'inspect'], env);
    expect(await inspect.exited, inspect.output()).toBe(0);
    expect(inspect.output()).toMatch(new RegExp(`${SAMPLE_CONSUMERS[0]} {2}e2e-.*gpu\\.samples\\.v1\\[\\d\\]@0\\n {2}error {2}decode_failed: not a Confluent Avro message`));
    expect(inspect.output()).toContain('key    "GPU-garbage" (11 bytes)');
    expect(inspect.output()).toContain(`${SAMPLE_CONSUMERS.length} dead letters on`);
  });

  it('stops every stage cleanly on SIGTERM', async () => {
    for (const process of running) expect(await process.stop(), process.output()).toBe(0);
    expect(running[0]!.output()).toMatch(/stopped received=\d+/);
  });
});
