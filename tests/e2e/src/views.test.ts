import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { eventually, provisionTopics, type CliProcess } from './cli-process.js';
import { refreshRollups } from './rollups.js';
import { ofHosts } from './records.js';
import { expectedRecords, startWholePipeline, type PipelineRun } from './whole-pipeline.js';

/**
 * The analysts' views on data the real pipeline wrote: simulate → processors → sink, the sink
 * logged in as a member of gpu_writer. Then, as a member of gpu_analyst, every example query of
 * docs/views.md runs, narrowed to this run's hosts and model, and its answer is compared with
 * values computed here from the raw rows, read in the same snapshot. The simulated clock ends
 * now, so the views' recent windows (15 minutes, a day) hold the run.
 */
const run = randomBytes(3).toString('hex');
const intervalMs = 10 * 60_000;
const ticks = 30;
const pipelineRun: PipelineRun = {
  env: { GPUMON_TOPIC_PREFIX: `e2e-${run}.` }, hostPrefix: `e2e-${run}`, seed: 11, intervalMs, ticks,
  start: Math.floor(Date.now() / 1000) * 1000 - (ticks - 1) * intervalMs,
};
const { env, hostPrefix, start } = pipelineRun;
const VIEWS_DOC = fileURLToPath(new URL('../../../docs/views.md', import.meta.url));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The attribution views, checked on rows the test writes itself (hosts of their own, so the pipeline's rollups leave them out). */
const ATTRIBUTION_VIEWS = ['gpu_workload_costs_1h', 'gpu_workload_cost_daily', 'gpu_team_cost_daily', 'gpu_namespace_cost_daily',
  'gpu_fault_events', 'gpu_fault_workloads', 'gpu_at_risk_workloads'];
const attrPrefix = `e2a-${run}`;

const main = loadConfig(databaseOptions);
const pool = createPool(main);
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: env.GPUMON_TOPIC_PREFIX }), 'e2e');
const registry = createRegistryClient(loadConfig(registryOptions));
const TABLES = ['gpu_samples', 'gpu_health', 'gpu_anomalies', 'gpu_predictions', 'gpu_economics', 'gpu_alerts', 'gpu_device_configs', 'gpu_devices'];
const writer = { user: `gpu_e2e_${run}_writer`, password: randomBytes(12).toString('hex') };
const analyst = { user: `gpu_e2e_${run}_analyst`, password: randomBytes(12).toString('hex') };
const running: CliProcess[] = [];
/** Samples the simulator produces in this run, known once the pipeline has run. */
let expectedSamples = 0;
/** The sample records the pipeline was given: what describes each GPU is checked against gpu_device_history. */
let sampleRecords: Row[] = [];

function urlAs(login: { user: string; password: string }): string {
  const url = new URL(main.databaseUrl);
  url.username = login.user;
  url.password = login.password;
  return url.toString();
}

/** The ```sql block under each `## view` or `### view` heading of docs/views.md. */
function exampleQueries(): Map<string, string> {
  const queries = new Map<string, string>();
  for (const [, view, sql] of readFileSync(VIEWS_DOC, 'utf8').matchAll(/^#{2,3} (gpu_\w+)\n[^#]*?```sql\n([\s\S]*?)```/gm)) {
    queries.set(view!, sql!);
  }
  return queries;
}

type Row = Record<string, unknown>;
const num = (value: unknown): number => Number(value);
const ms = (value: unknown): number => (value as Date).getTime();
const floorTo = (time: number, width: number): number => Math.floor(time / width) * width;

interface Sums {
  keys: Row;
  gpus: Set<string>;
  samples: number;
  utilN: number; utilSum: number; memN: number; memSum: number; powerN: number; powerSum: number; powerMax: number | null;
  interval: number; energy: number; energyCost: number; allocated: number; used: number; idle: number; co2e: number;
  hasEconomics: boolean;
}

/**
 * The rollups as the views define them, from raw rows: per GPU and hour first (economics give the
 * currency, one for the fleet), then grouped by `width` and `groupBy`. Answers in the views' column names.
 */
function rollup(samples: Row[], economics: Row[], width: number, groupBy: string[]): Map<string, Row> {
  const perGpuHour = new Map<string, Sums>();
  const sumsOf = (row: Row): Sums => {
    const key = `${floorTo(ms(row.time), HOUR)}|${String(row.gpu_uuid)}|${String(row.hostname)}`;
    let sums = perGpuHour.get(key);
    if (sums === undefined) {
      sums = {
        keys: { bucket: floorTo(ms(row.time), HOUR), gpu_uuid: row.gpu_uuid, hostname: row.hostname, product_name: null, currency: null },
        gpus: new Set([String(row.gpu_uuid)]), samples: 0, utilN: 0, utilSum: 0, memN: 0, memSum: 0, powerN: 0, powerSum: 0, powerMax: null,
        interval: 0, energy: 0, energyCost: 0, allocated: 0, used: 0, idle: 0, co2e: 0, hasEconomics: false,
      };
      perGpuHour.set(key, sums);
    }
    sums.keys.product_name ??= row.product_name;
    return sums;
  };
  for (const row of samples) {
    const s = sumsOf(row);
    s.samples++;
    if (row.utilization_gpu_pct !== null) { s.utilN++; s.utilSum += num(row.utilization_gpu_pct); }
    if (row.utilization_memory_pct !== null) { s.memN++; s.memSum += num(row.utilization_memory_pct); }
    if (row.power_draw_w !== null) { s.powerN++; s.powerSum += num(row.power_draw_w); s.powerMax = Math.max(s.powerMax ?? -Infinity, num(row.power_draw_w)); }
  }
  for (const row of economics) {
    const s = sumsOf(row);
    s.keys.currency = row.currency;
    s.hasEconomics = true;
    s.interval += num(row.interval_s); s.energy += num(row.energy_kwh); s.energyCost += num(row.energy_cost_micros);
    s.allocated += num(row.allocated_cost_micros); s.used += num(row.used_cost_micros); s.idle += num(row.idle_cost_micros); s.co2e += num(row.co2e_kg);
  }
  const groups = new Map<string, Sums>();
  for (const s of perGpuHour.values()) {
    const keys: Row = { bucket: floorTo(s.keys.bucket as number, width), currency: s.keys.currency };
    for (const column of groupBy) keys[column] = s.keys[column];
    const key = rowKey(keys, ['bucket', ...groupBy]);
    const g = groups.get(key);
    if (g === undefined) {
      groups.set(key, { ...s, keys, gpus: new Set(s.gpus) });
      continue;
    }
    g.keys.currency ??= s.keys.currency;
    s.gpus.forEach((gpu) => g.gpus.add(gpu));
    g.samples += s.samples; g.utilN += s.utilN; g.utilSum += s.utilSum; g.memN += s.memN; g.memSum += s.memSum;
    g.powerN += s.powerN; g.powerSum += s.powerSum;
    g.powerMax = s.powerMax === null ? g.powerMax : Math.max(g.powerMax ?? -Infinity, s.powerMax);
    g.interval += s.interval; g.energy += s.energy; g.energyCost += s.energyCost; g.allocated += s.allocated;
    g.used += s.used; g.idle += s.idle; g.co2e += s.co2e; g.hasEconomics ||= s.hasEconomics;
  }
  const answers = new Map<string, Row>();
  for (const [key, g] of groups) {
    answers.set(key, {
      ...g.keys, gpus: g.gpus.size, samples: g.samples,
      avg_utilization_gpu_pct: g.utilN ? g.utilSum / g.utilN : null, avg_utilization_memory_pct: g.memN ? g.memSum / g.memN : null,
      avg_power_draw_w: g.powerN ? g.powerSum / g.powerN : null, max_power_draw_w: g.powerMax, power_draw_max_w: g.powerMax,
      // Without economics the money columns are null, as SQL's sum over no values.
      ...Object.fromEntries(Object.entries({
        gpu_hours: g.interval / 3600, energy_kwh: g.energy, energy_cost_micros: g.energyCost, allocated_cost_micros: g.allocated,
        used_cost_micros: g.used, idle_cost_micros: g.idle, co2e_kg: g.co2e,
      }).map(([column, value]) => [column, g.hasEconomics ? value : null])),
    });
  }
  return answers;
}

/** Raw rows per GPU and bucket of `width`. */
function perGpu(rows: Row[], width: number): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${floorTo(ms(row.time), width)}|${String(row.gpu_uuid)}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

/** The answer of a rollup per GPU and bucket: for every key of any of `sources`, each measure over that key's rows of each source. */
function perGpuAnswer(width: number, since: number, sources: Array<[rows: Row[], measures: Record<string, (group: Row[]) => unknown>]>,
  identity: (gpu: string) => Row = () => ({})): Row[] {
  const grouped = sources.map(([rows, measures]) => [perGpu(rows, width), measures] as const);
  const keys = new Set(grouped.flatMap(([groups]) => [...groups.keys()]));
  return [...keys].map((key) => {
    const [bucket, gpu] = key.split('|') as [string, string];
    const answer: Row = { bucket: Number(bucket), gpu_uuid: gpu, ...identity(gpu) };
    for (const [groups, measures] of grouped) {
      for (const [column, measure] of Object.entries(measures)) answer[column] = measure(groups.get(key) ?? []);
    }
    return answer;
  }).filter((row) => (row.bucket as number) >= since);
}

const present = (rows: Row[], column: string): number[] => rows.filter((r) => r[column] !== null).map((r) => num(r[column]));
const measure = {
  count: (rows: Row[]): number => rows.length,
  countWhere: (column: string, value: string) => (rows: Row[]): number => rows.filter((r) => r[column] === value).length,
  avg: (column: string) => (rows: Row[]): number | null => { const v = present(rows, column); return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null; },
  max: (column: string) => (rows: Row[]): number | null => { const v = present(rows, column); return v.length ? Math.max(...v) : null; },
  min: (column: string) => (rows: Row[]): number | null => { const v = present(rows, column); return v.length ? Math.min(...v) : null; },
  /** null over no rows, as SQL's sum. */
  sum: (column: string, scale = 1) => (rows: Row[]): number | null => (rows.length ? sum(rows, column) / scale : null),
  first: (column: string) => (rows: Row[]): unknown => rows[0]?.[column] ?? null,
};

function sum(rows: Row[], column: string): number {
  return rows.reduce((total, row) => total + num(row[column]), 0);
}

function rowKey(row: Row, columns: string[]): string {
  return columns.map((c) => (row[c] instanceof Date ? ms(row[c]) : String(row[c]))).join('|');
}

/** Every answered row matches the expected row of its key in every column, and no row is missing or extra. */
function expectAnswer(actual: Row[], expected: Row[], keyColumns: string[]): void {
  expect(expected.length).toBeGreaterThan(0);
  const want = new Map(expected.map((row) => [rowKey(row, keyColumns), row]));
  expect(actual.map((row) => rowKey(row, keyColumns)).sort()).toEqual([...want.keys()].sort());
  for (const row of actual) {
    const wanted = want.get(rowKey(row, keyColumns))!;
    for (const [column, value] of Object.entries(row)) {
      const target = wanted[column];
      expect(target, `${column} is not computed by the test`).not.toBeUndefined();
      if (value === null || target === null) expect([column, value]).toEqual([column, target]);
      else if (value instanceof Date) expect([column, ms(value)]).toEqual([column, typeof target === 'number' ? target : ms(target)]);
      else if (typeof target === 'number') {
        const tolerance = Math.max(1e-6 * Math.abs(target), column.endsWith('_micros') ? 1 : 1e-9);
        expect(Math.abs(num(value) - target), `${column}: ${String(value)} vs ${target}`).toBeLessThanOrEqual(tolerance);
      } else expect([column, value]).toEqual([column, target]);
    }
  }
}

beforeAll(async () => {
  await pool.query(`CREATE ROLE ${writer.user} LOGIN PASSWORD '${writer.password}' IN ROLE gpu_writer`);
  await pool.query(`CREATE ROLE ${analyst.user} LOGIN PASSWORD '${analyst.password}' IN ROLE gpu_analyst`);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  for (const prefix of [hostPrefix, attrPrefix]) {
    const ours = `SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1`;
    await pool.query(`DELETE FROM gpu_workloads WHERE workload_id IN (SELECT workload_id FROM gpu_workload_samples WHERE gpu_uuid IN (${ours}))`, [`${prefix}-%`]);
    await pool.query(`DELETE FROM gpu_workload_samples WHERE gpu_uuid IN (${ours})`, [`${prefix}-%`]);
    await pool.query(`DELETE FROM gpu_workload_costs WHERE gpu_uuid IN (${ours})`, [`${prefix}-%`]);
  }
  for (const prefix of [attrPrefix, hostPrefix]) for (const table of TABLES) await pool.query(`DELETE FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [`${prefix}-%`]);
  await pool.query(`DROP ROLE IF EXISTS ${writer.user}`);
  await pool.query(`DROP ROLE IF EXISTS ${analyst.user}`);
  await pool.end();
  await removeTopics(kafka, registry, env.GPUMON_TOPIC_PREFIX);
});

describe('the analysts’ views on what the pipeline wrote', () => {
  beforeAll(async () => {
    await provisionTopics(env);
    running.push(...(await startWholePipeline(pipelineRun, { DATABASE_URL: urlAs(writer) })));
    const expected = await expectedRecords(pipelineRun);
    expectedSamples = expected.get('samples')!.length;
    sampleRecords = expected.get('samples') as unknown as Row[];
    const counts = new Map([...expected].map(([stream, records]) => [stream, records.length]));
    const tables = [['samples', 'gpu_samples'], ['health', 'gpu_health'], ['anomalies', 'gpu_anomalies'], ['economics', 'gpu_economics'], ['predictions', 'gpu_predictions']] as const;
    for (const [stream, table] of tables) {
      await eventually(`${counts.get(stream)} rows in ${table}`, async () => {
        const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [`${hostPrefix}-%`]);
        return rows[0].n >= counts.get(stream)! ? true : undefined;
      });
    }
    // Predictions of a second model whose answers the test chooses: three GPUs, the middle one no longer at risk.
    const { rows: gpus } = await pool.query(
      `SELECT gpu_uuid, hostname FROM gpu_devices WHERE hostname LIKE $1 ORDER BY gpu_uuid LIMIT 3`, [`${hostPrefix}-%`]);
    const last = start + (ticks - 1) * intervalMs;
    const predictions: Array<[number, number, number, number]> = [[0, last - intervalMs, 0.9, 0.5], [0, last, 0.8, 0.5],
      [1, last - intervalMs, 0.7, 0.5], [1, last, 0.2, 0.5], [2, last, 0.5, 0.5]];
    for (const [gpu, time, probability, threshold] of predictions) {
      await pool.query(
        `INSERT INTO gpu_predictions VALUES ($1, $2, $3, 'hazard', '1.0.0', 24, $4::float8, $5::float8, $4::float8 >= $5::float8)`,
        [new Date(time), gpus[gpu].gpu_uuid, gpus[gpu].hostname, probability, threshold]);
    }
    await refreshRollups(pool);
  }, 240_000);

  it('answer every example query of docs/views.md with the values the raw rows give', async () => {
    const queries = exampleQueries();
    const client = new pg.Client({ connectionString: urlAs(analyst) });
    await client.connect();
    try {
      // One snapshot for the raw rows and the views: the stack may be written to meanwhile.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const now = ms((await client.query('SELECT now() AS now')).rows[0].now);
      const ours = [`${hostPrefix}-%`];
      const select = async (sql: string, params: unknown[]): Promise<Row[]> => (await client.query(sql, params)).rows;
      // Samples with the host and model of their GPU (gpu_devices: a run's GPUs never move).
      const samples = await select(`SELECT d.hostname, d.product_name, s.* FROM gpu_samples s JOIN gpu_devices d USING (gpu_uuid) WHERE d.hostname LIKE $1`, ours);
      const economics = await select(`SELECT * FROM gpu_economics WHERE hostname LIKE $1`, ours);
      const health = await select(`SELECT * FROM gpu_health WHERE hostname LIKE $1`, ours);
      const anomalies = await select(`SELECT * FROM gpu_anomalies WHERE hostname LIKE $1`, ours);
      const predictions = await select(`SELECT * FROM gpu_predictions WHERE hostname LIKE $1`, ours);
      const model = String(samples[0]!.product_name);
      // The model views take every host's GPUs of that model, not only this run's.
      const since = new Date(floorTo(now, DAY) - 8 * DAY);
      const modelSamples = await select(`SELECT d.hostname, d.product_name, s.* FROM gpu_samples s JOIN gpu_devices d USING (gpu_uuid) WHERE d.product_name = $1 AND s.time >= $2`, [model, since]);
      const modelEconomics = await select(
        `SELECT e.* FROM gpu_economics e WHERE e.time >= $2 AND e.gpu_uuid IN (SELECT s.gpu_uuid FROM gpu_samples s JOIN gpu_devices d USING (gpu_uuid) WHERE d.product_name = $1 AND s.time >= $2)`, [model, since]);
      const answer = async (view: string): Promise<Row[]> => {
        const sql = queries.get(view);
        expect(sql, `docs/views.md has an example for ${view}`).toBeDefined();
        return select(sql!.replaceAll(`'sim-%'`, `'${hostPrefix}-%'`).replaceAll(`'NVIDIA H100 80GB HBM3'`, `'${model}'`), []);
      };

      const hourly = (rows: Map<string, Row>): Row[] => [...rows.values()].filter((r) => (r.bucket as number) >= now - DAY);
      const daily = (rows: Map<string, Row>): Row[] => [...rows.values()].filter((r) => (r.bucket as number) >= floorTo(now, DAY) - 7 * DAY);
      const rollups: Array<[string, Row[], string[]]> = [
        ['gpu_samples_hourly', hourly(rollup(samples, [], HOUR, ['gpu_uuid'])), ['bucket', 'gpu_uuid']],
        ['gpu_economics_hourly', hourly(rollup([], economics, HOUR, ['gpu_uuid', 'currency'])), ['bucket', 'gpu_uuid', 'currency']],
        ['gpu_usage_hourly_by_gpu', hourly(rollup(samples, economics, HOUR, ['gpu_uuid', 'hostname', 'product_name'])), ['bucket', 'gpu_uuid']],
        ['gpu_usage_daily_by_gpu', daily(rollup(samples, economics, DAY, ['gpu_uuid', 'hostname'])), ['bucket', 'gpu_uuid']],
        ['gpu_usage_hourly_by_host', hourly(rollup(samples, economics, HOUR, ['hostname'])), ['bucket', 'hostname']],
        ['gpu_usage_daily_by_host', daily(rollup(samples, economics, DAY, ['hostname'])), ['bucket', 'hostname']],
        ['gpu_usage_hourly_by_model', hourly(rollup(modelSamples, modelEconomics, HOUR, ['product_name'])), ['bucket']],
        ['gpu_usage_daily_by_model', daily(rollup(modelSamples, modelEconomics, DAY, ['product_name'])), ['bucket']],
      ];
      for (const [view, expected, keys] of rollups) expectAnswer(await answer(view), expected, keys);

      const byHour = [...rollup(samples, economics, HOUR, ['hostname']).values()]
        .filter((r) => (r.bucket as number) >= now - DAY)
        .map((r) => ({ bucket: r.bucket, hostname: r.hostname, samples: r.samples, avg_utilization_gpu_pct: r.avg_utilization_gpu_pct, allocated_cost_micros: r.allocated_cost_micros }));
      expectAnswer(await answer('gpu_usage_hourly_sums'), byHour, ['bucket', 'hostname']);

      // Migration 0015's per-GPU rollups, measure by measure from the raw rows.
      const FIVE_MINUTES = 5 * 60_000;
      const { avg, count, countWhere, first, max, min } = measure;
      const perGpuViews: Array<[string, Row[]]> = [
        ['gpu_samples_5m', perGpuAnswer(FIVE_MINUTES, now - DAY, [[samples, {
          samples: count, avg_utilization_gpu_pct: avg('utilization_gpu_pct'), memory_used_max_mib: max('memory_used_mib'),
          power_draw_max_w: max('power_draw_w'), temperature_gpu_max_c: max('temperature_gpu_c') }]])],
        ['gpu_samples_1h', perGpuAnswer(HOUR, now - DAY, [[samples, {
          samples: count, avg_temperature_gpu_c: avg('temperature_gpu_c'), temperature_memory_max_c: max('temperature_memory_c') }]])],
        ['gpu_health_5m', perGpuAnswer(FIVE_MINUTES, now - DAY, [[health, {
          health_n: count, avg_health_score: avg('score'), score_min: min('score'), warn_n: countWhere('verdict', 'WARN'),
          fail_n: countWhere('verdict', 'FAIL') }]])],
        ['gpu_health_1h', perGpuAnswer(HOUR, now - DAY, [[health, { health_n: count, score_min: min('score'), fail_n: countWhere('verdict', 'FAIL') }]])],
        ['gpu_economics_5m', perGpuAnswer(FIVE_MINUTES, now - DAY, [[economics, {
          currency: first('currency'), used_cost_micros: measure.sum('used_cost_micros'), idle_cost_micros: measure.sum('idle_cost_micros'),
          energy_kwh: measure.sum('energy_kwh') }]])],
        ['gpu_economics_1h', perGpuAnswer(HOUR, now - DAY, [[economics, {
          currency: first('currency'), gpu_hours: measure.sum('interval_s', 3600), allocated_cost_micros: measure.sum('allocated_cost_micros'),
          co2e_kg: measure.sum('co2e_kg') }]])],
        ['gpu_anomalies_5m', perGpuAnswer(FIVE_MINUTES, now - DAY, [[anomalies, {
          anomalies: count, critical_anomalies: countWhere('severity', 'CRITICAL') }]])],
        ['gpu_anomalies_1h', perGpuAnswer(HOUR, now - DAY, [[anomalies, {
          anomalies: count, critical_anomalies: countWhere('severity', 'CRITICAL') }]])],
      ];
      const device = new Map(samples.map((r) => [String(r.gpu_uuid), { hostname: r.hostname, product_name: r.product_name }]));
      perGpuViews.push(['gpu_rollup_5m', perGpuAnswer(FIVE_MINUTES, now - DAY, [
        [samples, { samples: count, avg_utilization_gpu_pct: avg('utilization_gpu_pct'), avg_power_draw_w: avg('power_draw_w') }],
        [health, { avg_health_score: avg('score') }],
        [economics, { used_cost_micros: measure.sum('used_cost_micros'), idle_cost_micros: measure.sum('idle_cost_micros') }],
        [anomalies, { anomalies: count }],
      ], (gpu) => ({ hostname: device.get(gpu)?.hostname }))]);
      perGpuViews.push(['gpu_rollup_1h', perGpuAnswer(HOUR, now - DAY, [
        [samples, { samples: count, avg_memory_used_mib: avg('memory_used_mib'), temperature_gpu_max_c: max('temperature_gpu_c') }],
        [health, { health_fail_n: countWhere('verdict', 'FAIL') }],
        [economics, { gpu_hours: measure.sum('interval_s', 3600), energy_kwh: measure.sum('energy_kwh') }],
        [anomalies, { critical_anomalies: countWhere('severity', 'CRITICAL') }],
      ], (gpu) => ({ product_name: device.get(gpu)?.product_name }))]);
      for (const [view, expected] of perGpuViews) expectAnswer(await answer(view), expected, ['bucket', 'gpu_uuid']);

      const latestHealth = new Map<string, Row>();
      for (const row of health.filter((r) => ms(r.time) > now - DAY)) {
        if (ms(row.time) > ms(latestHealth.get(String(row.gpu_uuid))?.time ?? new Date(0))) latestHealth.set(String(row.gpu_uuid), row);
      }
      const verdicts = new Map<string, Row>();
      for (const row of latestHealth.values()) {
        const v = verdicts.get(String(row.verdict)) ?? { verdict: row.verdict, gpus: 0, worst_score: Infinity };
        verdicts.set(String(row.verdict), { ...v, gpus: (v.gpus as number) + 1, worst_score: Math.min(v.worst_score as number, num(row.score)) });
      }
      expect(latestHealth.size).toBe(expectedSamples / ticks);
      expectAnswer(await answer('gpu_fleet_health_now'), [...verdicts.values()].map((v) => ({ ...v, gpus: String(v.gpus) })), ['verdict']);

      const openKeys = new Map<string, Row>();
      for (const row of anomalies.filter((r) => ms(r.time) > now - 15 * 60_000)) {
        const key = `${String(row.gpu_uuid)}|${String(row.dedup_key)}`;
        if (ms(row.time) > ms(openKeys.get(key)?.time ?? new Date(0))) openKeys.set(key, row);
      }
      const kinds = new Map<string, { kind: unknown; rows: Row[] }>();
      for (const row of openKeys.values()) kinds.set(String(row.kind), { kind: row.kind, rows: [...(kinds.get(String(row.kind))?.rows ?? []), row] });
      expectAnswer(await answer('gpu_anomalies_open'), [...kinds.values()].map(({ kind, rows }) => ({
        kind, open_anomalies: String(rows.length), gpus: String(new Set(rows.map((r) => r.gpu_uuid)).size),
        last_seen: Math.max(...rows.map((r) => ms(r.time))),
      })), ['kind']);

      const hosts = new Map<string, Row[]>();
      for (const row of economics.filter((r) => ms(r.time) > now - DAY)) hosts.set(String(row.hostname), [...(hosts.get(String(row.hostname)) ?? []), row]);
      expectAnswer(await answer('gpu_idle_cost_by_host'), [...hosts.entries()].map(([hostname, rows]) => ({
        hostname, currency: rows[0]!.currency, gpus: String(new Set(rows.map((r) => r.gpu_uuid)).size), gpu_hours: sum(rows, 'interval_s') / 3600,
        allocated_cost_micros: sum(rows, 'allocated_cost_micros'), idle_cost_micros: sum(rows, 'idle_cost_micros'),
        idle_share: sum(rows, 'idle_cost_micros') / sum(rows, 'allocated_cost_micros'),
      })), ['hostname']);

      const latestPrediction = new Map<string, Row>();
      for (const row of predictions) {
        const key = `${String(row.gpu_uuid)}|${String(row.model_name)}`;
        if (ms(row.time) > ms(latestPrediction.get(key)?.time ?? new Date(0))) latestPrediction.set(key, row);
      }
      const atRisk = [...latestPrediction.values()].filter((p) => num(p.probability) >= num(p.threshold)).map((p) => {
        const own = economics.filter((e) => e.gpu_uuid === p.gpu_uuid && ms(e.time) > now - DAY);
        const hourlyCost = (sum(own, 'allocated_cost_micros') / sum(own, 'interval_s')) * 3600;
        return {
          gpu_uuid: p.gpu_uuid, hostname: p.hostname, model_name: p.model_name, probability: num(p.probability), threshold: num(p.threshold),
          risk_band: p.risk_band, currency: p.currency, expected_cost_micros: p.expected_cost_micros, hourly_allocated_cost_micros: hourlyCost,
        };
      });
      expect(atRisk.filter((p) => p.model_name === 'hazard')).toHaveLength(2);
      expectAnswer(await answer('gpu_at_risk'), atRisk, ['gpu_uuid', 'model_name']);

      // A run's GPUs never change: one configuration each, from its first reading that was not a lost GPU's, still in effect.
      const firstSeen = new Map<string, Row>();
      for (const record of sampleRecords.filter((r) => r.gpu_lost !== true)) {
        const known = firstSeen.get(String(record.gpu_uuid));
        if (known === undefined || num(record.time) < num(known.time)) firstSeen.set(String(record.gpu_uuid), record);
      }
      expectAnswer(await answer('gpu_device_history'), [...firstSeen.values()].map((r) => ({
        gpu_uuid: r.gpu_uuid, hostname: r.hostname, product_name: r.product_name, driver_version: r.driver_version, power_limit_w: r.power_limit_w,
        valid_from: r.time, valid_to: null,
      })), ['gpu_uuid', 'valid_from']);

      const checked = ['gpu_usage_hourly_sums', 'gpu_fleet_health_now', 'gpu_anomalies_open', 'gpu_idle_cost_by_host', 'gpu_at_risk', 'gpu_device_history',
        ...rollups.map(([view]) => view), ...perGpuViews.map(([view]) => view), ...ATTRIBUTION_VIEWS];
      const views = await select(`SELECT viewname FROM pg_views WHERE schemaname = 'public' AND viewname LIKE 'gpu\\_%'`, []);
      expect(views.map((v) => v.viewname).sort()).toEqual([...queries.keys()].sort());
      expect(checked.sort()).toEqual([...queries.keys()].sort());
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
  });
});

describe('the attribution views on rows written for the purpose', () => {
  const team = `ml-research-${run}`;
  const other = `other-${run}`;
  const gpu = (n: number): string => `GPU-${run}-attr-${n}`;
  const jobA = { workload_id: `slurm:${run}-101`, kind: 'SLURM_JOB', job_id: `${run}-101`, job_user: 'alice', account: 'ml', partition: 'gpu' };
  const jobB = { workload_id: `slurm:${run}-102`, kind: 'SLURM_JOB', job_id: `${run}-102`, job_user: 'bob', account: 'ml', partition: 'gpu' };
  const podP = { workload_id: `k8s:${team}/train-0/main`, kind: 'KUBERNETES_POD', cluster: 'prod', namespace: team, pod: 'train-0', container: 'main' };
  const now = Date.now();
  /** Ten-second ticks that all fall on today (UTC) and in this week, whenever the test runs. */
  const base = Math.max(now - 5 * 60_000, floorTo(now, DAY));
  const at = (tick: number): number => base + tick * 10_000;
  /** The team's cost parts, as written. */
  const teamParts: Array<{ n: number; tick: number; workloadId: string | null; share: number; allocated: number; used: number }> = [];

  beforeAll(async () => {
    const sample = async (n: number, tick: number, readings: { xid?: number[]; dbe?: number; remapFailure?: boolean; thermal?: boolean }, workloads: Row[]): Promise<void> => {
      const xids = (readings.xid ?? []).map((code) => ({ time: at(tick), code, pci_id: '0000:3b:00', message: `Xid ${code} on GPU ${n}` }));
      await pool.query(
        `INSERT INTO gpu_devices (gpu_uuid, hostname, first_seen, last_seen) VALUES ($1, $2, $3, $3) ON CONFLICT (gpu_uuid) DO NOTHING`,
        [gpu(n), `${attrPrefix}-h${n <= 2 ? 1 : 2}`, new Date(at(tick))]);
      await pool.query(
        `INSERT INTO gpu_samples (time, gpu_uuid, mig_instances, xid_events, ecc_volatile_dbe, remapped_rows_failure, throttle_hw_thermal_slowdown)
         VALUES ($1, $2, '[]', $3, $4, $5, $6)`,
        [new Date(at(tick)), gpu(n), JSON.stringify(xids), readings.dbe ?? 0, readings.remapFailure ?? false, readings.thermal ?? false]);
      for (const w of workloads) {
        await pool.query(
          `INSERT INTO gpu_workloads (workload_id, kind, cluster, namespace, pod, container, job_id, job_user, account, partition, source, first_seen, last_seen)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'test', $11, $11) ON CONFLICT (workload_id) DO NOTHING`,
          [w.workload_id, w.kind, w.cluster ?? null, w.namespace ?? null, w.pod ?? null, w.container ?? null, w.job_id ?? null, w.job_user ?? null,
            w.account ?? null, w.partition ?? null, new Date(at(tick))]);
        await pool.query(`INSERT INTO gpu_workload_samples VALUES ($1, $2, $3, NULL, NULL, '[4242]', 1024)`, [new Date(at(tick)), gpu(n), w.workload_id]);
      }
    };
    const cost = (n: number, tick: number, workloadId: string | null, partTeam: string, share: number, allocated: number, used: number): Promise<unknown> => {
      if (partTeam === team) teamParts.push({ n, tick, workloadId, share, allocated, used });
      return pool.query(`INSERT INTO gpu_workload_costs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'USD', 10)`,
        [new Date(at(tick)), gpu(n), workloadId, partTeam, share, share * 0.002, allocated, used, allocated - used]);
    };

    // GPU 1: Xid 48 (and an Xid 13, not critical) with two Slurm jobs on it.
    await sample(1, 0, {}, [jobA, jobB]);
    await sample(1, 1, { xid: [48, 13] }, [jobA, jobB]);
    // GPU 2: row remapping fails, and stays failed (one event), under a pod.
    await sample(2, 0, {}, [podP]);
    await sample(2, 1, { remapFailure: true }, [podP]);
    await sample(2, 2, { remapFailure: true }, [podP]);
    // GPU 3: double-bit errors and thermal slowdown start together, with nothing on it.
    await sample(3, 0, {}, []);
    await sample(3, 1, { dbe: 2, thermal: true }, []);
    await sample(3, 2, { dbe: 2, thermal: true }, []);
    // GPU 4 at risk: its latest sample has job A and the pod (job B was on it before); GPU 5 at risk with nothing on it.
    await sample(4, 0, {}, [jobB]);
    await sample(4, 1, {}, [jobA, podP]);
    await sample(5, 1, {}, []);
    for (const [n, probability, expected] of [[4, 0.9, 1_000_000], [5, 0.8, 400_000]] as const) {
      await pool.query(
        `INSERT INTO gpu_predictions (time, gpu_uuid, hostname, model_name, model_version, horizon_hours, probability, threshold, at_risk,
                                      risk_band, expected_cost_micros, currency)
         VALUES ($1, $2, $3, 'hazard', '1.0.0', 24, $4, 0.5, true, 'HIGH', $5, 'USD')`,
        [new Date(at(1)), gpu(n), `${attrPrefix}-h2`, probability, expected]);
    }
    // The team's parts: job A on GPUs 1 and 4, the pod on GPUs 2 and 4; job B is another team's.
    await cost(1, 0, jobA.workload_id, team, 0.5, 1000, 600);
    await cost(1, 0, jobB.workload_id, other, 0.25, 500, 300);
    await cost(1, 0, null, 'unattributed', 0.25, 500, 0);
    await cost(1, 1, jobA.workload_id, team, 0.5, 1000, 600);
    await cost(2, 1, podP.workload_id, team, 1, 2000, 500);
    await cost(4, 1, jobA.workload_id, team, 0.5, 1000, 600);
    await cost(4, 1, podP.workload_id, team, 0.5, 1000, 600);
    await refreshRollups(pool);
  });

  it('answer the example queries of docs/views.md: costs per workload, team and namespace, faults with their jobs, risk per job', async () => {
    const queries = exampleQueries();
    const client = new pg.Client({ connectionString: urlAs(analyst) });
    await client.connect();
    try {
      const answer = async (view: string): Promise<Row[]> => {
        const sql = queries.get(view);
        expect(sql, `docs/views.md has an example for ${view}`).toBeDefined();
        return (await client.query(sql!.replaceAll(`'sim-%'`, `'${attrPrefix}-%'`).replaceAll(`'ml-research'`, `'${team}'`))).rows;
      };
      const today = floorTo(now, DAY);
      const gpuHours = (seconds: number): number => seconds / 3600;

      const named = (w: Row): Row => ({
        workload_id: w.workload_id, kind: w.kind, namespace: w.namespace ?? null, pod: w.pod ?? null, job_id: w.job_id ?? null, job_user: w.job_user ?? null,
      });
      // The hourly rollup: the team's parts added up per hour, GPU and workload (ticks 0 and 1 may fall in two hours).
      const hourly = new Map<string, Row>();
      for (const p of teamParts) {
        const bucket = floorTo(at(p.tick), HOUR);
        const key = `${bucket}|${gpu(p.n)}|${String(p.workloadId)}`;
        const row = hourly.get(key) ?? { bucket, gpu_uuid: gpu(p.n), workload_id: p.workloadId, team, currency: 'USD', parts: 0, gpu_hours: 0,
          allocated_cost_micros: 0, idle_cost_micros: 0 };
        hourly.set(key, { ...row, parts: num(row.parts) + 1, gpu_hours: num(row.gpu_hours) + gpuHours(p.share * 10),
          allocated_cost_micros: num(row.allocated_cost_micros) + p.allocated, idle_cost_micros: num(row.idle_cost_micros) + p.allocated - p.used });
      }
      expectAnswer(await answer('gpu_workload_costs_1h'), [...hourly.values()], ['bucket', 'gpu_uuid', 'workload_id']);

      expectAnswer(await answer('gpu_workload_cost_daily'), [
        { bucket: today, ...named(podP), team, currency: 'USD', gpus: 2, gpu_hours: gpuHours(15),
          allocated_cost_micros: 3000, used_cost_micros: 1100, idle_cost_micros: 1900, efficiency: 1100 / 3000 },
        { bucket: today, ...named(jobA), team, currency: 'USD', gpus: 2, gpu_hours: gpuHours(15),
          allocated_cost_micros: 3000, used_cost_micros: 1800, idle_cost_micros: 1200, efficiency: 0.6 },
      ], ['bucket', 'workload_id']);

      expectAnswer(await answer('gpu_team_cost_daily'), [{
        team, currency: 'USD', gpu_hours: gpuHours(30), allocated_cost_micros: 6000, idle_cost_micros: 3100, idle_share: 3100 / 6000,
      }], ['team']);

      expectAnswer(await answer('gpu_namespace_cost_daily'), [{
        bucket: today, cluster: 'prod', namespace: team, currency: 'USD', workloads: 1, gpu_hours: gpuHours(15),
        allocated_cost_micros: 3000, idle_cost_micros: 1900, efficiency: 1100 / 3000,
      }], ['bucket', 'namespace']);

      const events = await answer('gpu_fault_events');
      expect(events.map((e) => [ms(e.time) - base, e.gpu_uuid, e.hostname, e.kind, e.xid, e.detail])).toEqual([
        [10_000, gpu(1), `${attrPrefix}-h1`, 'xid', 48, 'Xid 48 on GPU 1'],
        [10_000, gpu(2), `${attrPrefix}-h1`, 'row_remap_failure', null, 'remapped_rows_failure'],
        [10_000, gpu(3), `${attrPrefix}-h2`, 'ecc_dbe', null, 'ecc_volatile_dbe 2, was 0'],
        [10_000, gpu(3), `${attrPrefix}-h2`, 'thermal_slowdown', null, 'throttle_hw_thermal_slowdown'],
      ]);

      const hit = await answer('gpu_fault_workloads');
      expect(hit.map((f) => [ms(f.time) - base, f.gpu_uuid, f.kind, f.xid, f.workload_id, f.job_id, f.job_user, f.account, f.namespace, f.pod])).toEqual([
        [10_000, gpu(1), 'xid', 48, jobA.workload_id, jobA.job_id, 'alice', 'ml', null, null],
        [10_000, gpu(1), 'xid', 48, jobB.workload_id, jobB.job_id, 'bob', 'ml', null, null],
        [10_000, gpu(2), 'row_remap_failure', null, podP.workload_id, null, null, null, team, 'train-0'],
      ]);

      const atRisk = await answer('gpu_at_risk_workloads');
      expect(atRisk.map((r) => [r.gpu_uuid, r.probability, Number(r.workloads_on_gpu), r.workload_id, r.job_id, r.namespace, r.team, r.currency, Number(r.expected_cost_micros)])).toEqual([
        [gpu(4), 0.9, 2, podP.workload_id, null, team, team, 'USD', 500_000],
        [gpu(4), 0.9, 2, jobA.workload_id, jobA.job_id, null, team, 'USD', 500_000],
        [gpu(5), 0.8, 0, null, null, null, null, 'USD', 400_000],
      ]);
    } finally {
      await client.end();
    }
  });
});
