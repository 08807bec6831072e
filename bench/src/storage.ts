import { parseArgs } from 'node:util';
import type pg from 'pg';
import { detectAnomaliesProcessor } from '@gpumon/detect-anomalies/processor';
import { migrate } from '@gpumon/migrations/migrate';
import { scratchDatabase } from '@gpumon/migrations/scratch-database';
import { predictFailureProcessor } from '@gpumon/predict-failure/processor';
import { priceUsageProcessor } from '@gpumon/price-usage/processor';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { createBatchTransform, type BatchTransform, type EnrichedStream, type ProcessorDefinition } from '@gpumon/runtime/processor';
import { validateRecord } from '@gpumon/runtime/sample-validation';
import { describeEdition, readTimescaleEdition } from '@gpumon/runtime/timescale-edition';
import { scoreHealthProcessor } from '@gpumon/score-health/processor';
import { alongsideOf } from '@gpumon/sink-timescaledb/alongside';
import { TableWriter } from '@gpumon/sink-timescaledb/table-writer';
import { tableOf, type SinkStream } from '@gpumon/sink-timescaledb/tables';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { table } from './measure.js';

const INTERVAL_MS = 10_000;
/** The sink's default batch (GPUMON_SINK_BATCH_ROWS). */
const BATCH_ROWS = 5000;
const QUERY_RUNS = 5;

/**
 * The analyst questions of issue 15, each on the raw rows and, where a rollup answers it, on the
 * aggregates. Only gpu_ views and the reading columns every layout keeps, so the benchmark follows
 * the row layout the migrations make. $1 is one GPU.
 */
const QUERIES: Array<{ name: string; raw: string; aggregates: string | null }> = [
  {
    name: 'fleet health now',
    raw: `SELECT * FROM gpu_fleet_health_now`,
    aggregates: `SELECT DISTINCT ON (gpu_uuid) gpu_uuid, bucket, health_n, score_sum, score_min, fail_n FROM gpu_health_5m
                  WHERE bucket > now() - INTERVAL '1 day' ORDER BY gpu_uuid, bucket DESC`,
  },
  {
    name: 'one GPU, last 24 h, 1-minute resolution (aggregates: 5 minutes)',
    raw: `SELECT time_bucket(INTERVAL '1 minute', time) AS minute, avg(utilization_gpu_pct), avg(memory_used_mib), avg(power_draw_w),
                 max(temperature_gpu_c) FROM gpu_samples WHERE gpu_uuid = $1 AND time > now() - INTERVAL '24 hours' GROUP BY 1 ORDER BY 1`,
    aggregates: `SELECT bucket, utilization_gpu_sum / nullif(utilization_gpu_n, 0), memory_used_sum / nullif(memory_used_n, 0),
                        power_draw_sum / nullif(power_draw_n, 0), temperature_gpu_max_c
                   FROM gpu_samples_5m WHERE gpu_uuid = $1 AND bucket > now() - INTERVAL '24 hours' ORDER BY 1`,
  },
  {
    // gpu_team_cost_daily reads the hourly cost rollup (migration 0016); the raw query is what it computed before.
    name: 'cost per team per day, whole range',
    raw: `SELECT time_bucket(INTERVAL '1 day', time) AS bucket, team, currency, count(DISTINCT workload_id), count(DISTINCT gpu_uuid),
                 sum(share * interval_s) / 3600, sum(energy_kwh), sum(allocated_cost_micros), sum(used_cost_micros), sum(idle_cost_micros)
            FROM gpu_workload_costs GROUP BY 1, 2, 3 ORDER BY 1, 2`,
    aggregates: `SELECT * FROM gpu_team_cost_daily ORDER BY bucket, team`,
  },
  {
    name: 'hourly usage by GPU model',
    raw: `SELECT time_bucket(INTERVAL '1 hour', s.time) AS bucket, d.product_name, count(DISTINCT s.gpu_uuid) AS gpus,
                 avg(s.utilization_gpu_pct), avg(s.power_draw_w)
            FROM gpu_samples s JOIN gpu_devices d ON d.gpu_uuid = s.gpu_uuid GROUP BY 1, 2 ORDER BY 1, 2`,
    aggregates: `SELECT * FROM gpu_usage_hourly_by_model ORDER BY bucket, product_name`,
  },
  { name: 'jobs hit by each fault', raw: `SELECT * FROM gpu_fault_workloads`, aggregates: null },
];

interface Sizes { total: number; tables: Record<string, number> }

/** Every hypertable of the schema (the continuous aggregates' own sit in TimescaleDB's), indexes and TOAST included. */
async function hypertableSizes(pool: pg.Pool): Promise<Sizes> {
  const { rows } = await pool.query<{ name: string; bytes: string }>(
    `SELECT hypertable_name AS name, hypertable_size(format('%I.%I', hypertable_schema, hypertable_name)::regclass) AS bytes
       FROM timescaledb_information.hypertables WHERE hypertable_schema = 'public' ORDER BY 1`);
  const tables = Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
  return { total: Object.values(tables).reduce((a, b) => a + b, 0), tables };
}

async function p50Ms(pool: pg.Pool, sql: string, params: unknown[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < QUERY_RUNS; i++) {
    const started = performance.now();
    await pool.query(sql, sql.includes('$1') ? params : []);
    times.push(performance.now() - started);
  }
  return Math.round(times.sort((a, b) => a - b)[Math.floor(QUERY_RUNS / 2)]! * 10) / 10;
}

/** Each processor's transform with its defaults, as `gpumon process` runs it; the model is not registered (no writer login here). */
async function processors(): Promise<Array<BatchTransform<'samples', EnrichedStream>>> {
  const definitions: Array<ProcessorDefinition<'samples', EnrichedStream>> = [
    scoreHealthProcessor, detectAnomaliesProcessor, priceUsageProcessor, predictFailureProcessor,
  ] as Array<ProcessorDefinition<'samples', EnrichedStream>>;
  return Promise.all(definitions.map((d) => createBatchTransform(d, loadConfig(d.options, { registerModel: 'false' }, {}))));
}

/**
 * Simulates `gpus` GPUs (attribution on) for `hours` ending now, one reading every 10 s, runs the
 * four processors over the readings and writes every stream with the sink's TableWriter (its
 * dimensions and child tables alongside), batch by batch, into a scratch database.
 */
async function writeDay(pool: pg.Pool, gpus: number, hours: number): Promise<{ samples: number; rows: Record<string, number>; rejected: number }> {
  const hosts = Math.ceil(gpus / 8);
  const fleet = new SimulatedFleet({ seed: 15, hosts, gpusPerHost: 8, hostPrefix: 'bench', attribution: true });
  const transforms = await processors();
  const writers = new Map<SinkStream, TableWriter>();
  const writerOf = (stream: SinkStream): TableWriter => {
    if (!writers.has(stream)) writers.set(stream, new TableWriter(pool, tableOf(stream), alongsideOf(stream)));
    return writers.get(stream)!;
  };
  const rows: Record<string, number> = {};
  let rejected = 0;
  const write = async (stream: SinkStream, records: Array<Record<string, unknown>>): Promise<void> => {
    for (let i = 0; i < records.length; i += BATCH_ROWS) {
      const result = await writerOf(stream).write(records.slice(i, i + BATCH_ROWS), (r) => r);
      rows[stream] = (rows[stream] ?? 0) + result.inserted;
      rejected += result.rejected.length;
    }
  };
  const end = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS;
  const ticks = Math.round((hours * 3_600_000) / INTERVAL_MS);
  const ticksPerBatch = Math.max(1, Math.floor(BATCH_ROWS / (hosts * 8)));
  let samples = 0;
  for (let tick = 0; tick < ticks; tick += ticksPerBatch) {
    const batch = [];
    for (let t = tick; t < Math.min(ticks, tick + ticksPerBatch); t++) batch.push(...fleet.sample(end - (ticks - 1 - t) * INTERVAL_MS));
    // What the sink would dead-letter (its validation) is not written here either.
    const valid = batch.filter((s) => {
      try {
        validateRecord('samples', s, s.time);
        return true;
      } catch {
        rejected++;
        return false;
      }
    });
    const outputs = new Map<SinkStream, Array<Record<string, unknown>>>([['samples', valid as unknown as Array<Record<string, unknown>>]]);
    for (const transform of transforms) {
      for (const produced of await transform.transformBatch(valid)) {
        if (produced instanceof Error) throw produced;
        for (const { stream, record } of produced) {
          if (!outputs.has(stream)) outputs.set(stream, []);
          outputs.get(stream)!.push(record as unknown as Record<string, unknown>);
        }
      }
    }
    for (const [stream, records] of outputs) await write(stream, records);
    samples += valid.length;
    if (tick % (ticksPerBatch * 20) === 0) console.log(`  ${samples} samples written (${Math.round((100 * tick) / ticks)} %)`);
  }
  for (const transform of transforms) await transform.close?.();
  return { samples, rows, rejected };
}

/** Materializes every continuous aggregate over the whole range. */
async function refreshAggregates(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ name: string }>(`SELECT view_name AS name FROM timescaledb_information.continuous_aggregates`);
  for (const { name } of rows) await pool.query(`CALL refresh_continuous_aggregate('${name}', NULL, NULL)`);
}

/** What the continuous aggregates hold, indexes included (their hypertables sit in TimescaleDB's schema). */
async function aggregateBytes(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ bytes: string }>(
    `SELECT coalesce(sum(hypertable_size(format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name)::regclass)), 0) AS bytes
       FROM timescaledb_information.continuous_aggregates`);
  return Number(rows[0]!.bytes);
}

/** Compresses every chunk of every hypertable that has compression, and of every continuous aggregate that has. */
async function compressAll(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query(
    `SELECT compress_chunk(c, if_not_compressed => true)
       FROM (SELECT format('%I.%I', hypertable_schema, hypertable_name) AS name FROM timescaledb_information.hypertables
              WHERE compression_enabled
             UNION ALL
             SELECT format('%I.%I', view_schema, view_name) FROM timescaledb_information.continuous_aggregates
              WHERE compression_enabled) AS t,
            show_chunks(t.name::regclass) c`);
  return rows.length;
}

/**
 * Storage and query speed of a simulated day: bytes per sample of every hypertable with its
 * indexes, before and after compression, and the analysts' queries on raw rows and on the
 * continuous aggregates. `--gpus N --hours H` shrink it for a quick run; `--keep` leaves the
 * scratch database for a look.
 */
export async function runStorageBench(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args, options: { gpus: { type: 'string', default: '200' }, hours: { type: 'string', default: '24' },
    keep: { type: 'boolean', default: false }, json: { type: 'string' } } });
  const gpus = Number(values.gpus);
  const hours = Number(values.hours);
  if (!(gpus >= 8 && hours > 0)) throw new Error(`storage: --gpus must be at least 8 and --hours above 0 (got ${values.gpus}, ${values.hours})`);
  const scratch = scratchDatabase('bench');
  await scratch.create();
  const pool = createPool(scratch.settings, 2);
  try {
    await migrate(scratch.settings, createLogger('bench-migrate'));
    // The policies would compress or refresh mid-run; this benchmark does both itself, once.
    await pool.query(`SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE hypertable_schema IS NOT NULL`)
      .catch(() => undefined);
    const edition = await readTimescaleEdition(pool);
    console.log(`${gpus} GPUs x ${hours} h at 10 s, attribution on, into ${scratch.name} (${describeEdition(edition)})`);
    let started = performance.now();
    const written = await writeDay(pool, Math.ceil(gpus / 8) * 8, hours);
    const writeS = Math.round((performance.now() - started) / 100) / 10;
    console.log(`wrote ${written.samples} samples in ${writeS} s: ${JSON.stringify(written.rows)}`);
    await pool.query('VACUUM ANALYZE');
    const raw = await hypertableSizes(pool);
    if (edition.name !== 'apache') await refreshAggregates(pool);
    const aggregatesRaw = await aggregateBytes(pool);
    started = performance.now();
    const chunks = edition.name === 'apache' ? 0 : await compressAll(pool);
    const compressS = Math.round((performance.now() - started) / 100) / 10;
    await pool.query('VACUUM ANALYZE');
    const compressed = await hypertableSizes(pool);
    const aggregatesCompressed = await aggregateBytes(pool);
    const perSample = (bytes: number): number => Math.round((bytes / written.samples) * 10) / 10;
    const byTable = Object.keys(raw.tables).map((name) => ({
      table: name, raw_bytes: raw.tables[name]!, compressed_bytes: compressed.tables[name]!,
      raw_per_sample: perSample(raw.tables[name]!), compressed_per_sample: perSample(compressed.tables[name]!),
    }));
    byTable.push({ table: 'all hypertables', raw_bytes: raw.total, compressed_bytes: compressed.total,
      raw_per_sample: perSample(raw.total), compressed_per_sample: perSample(compressed.total) });
    table(byTable);

    const { rows: [gpu] } = await pool.query<{ gpu_uuid: string }>(`SELECT gpu_uuid FROM gpu_devices ORDER BY gpu_uuid LIMIT 1`);
    const queries = [];
    for (const q of QUERIES) {
      queries.push({
        query: q.name, raw_p50_ms: await p50Ms(pool, q.raw, [gpu!.gpu_uuid]),
        aggregates_p50_ms: q.aggregates === null ? null : await p50Ms(pool, q.aggregates, [gpu!.gpu_uuid]),
      });
    }
    console.log(`p50 of ${QUERY_RUNS} runs, after compression (aggregates: ${edition.name === 'apache' ? 'plain views, Apache edition'
      : `materialized, ${aggregatesRaw} bytes, ${aggregatesCompressed} compressed`})`);
    table(queries.map((q) => ({ ...q, aggregates_p50_ms: q.aggregates_p50_ms ?? '–' })));
    return {
      gpus: Math.ceil(gpus / 8) * 8, hours, interval_s: INTERVAL_MS / 1000, edition: describeEdition(edition), samples: written.samples,
      rows: written.rows, rejected: written.rejected, write_s: writeS, compress_s: compressS, chunks_compressed: chunks,
      bytes_raw: raw.total, bytes_compressed: compressed.total,
      bytes_per_sample_raw: perSample(raw.total), bytes_per_sample_compressed: perSample(compressed.total),
      aggregates_bytes_raw: aggregatesRaw, aggregates_bytes_compressed: aggregatesCompressed,
      aggregates_per_sample_raw: perSample(aggregatesRaw), aggregates_per_sample_compressed: perSample(aggregatesCompressed), tables: byTable, queries,
    };
  } finally {
    await pool.end();
    if (values.keep) console.log(`kept scratch database ${scratch.name}`);
    else await scratch.drop();
  }
}
