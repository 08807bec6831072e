import { rmSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, withClient } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { communityOnlyReason, readTimescaleEdition, type TimescaleEdition } from '@gpumon/runtime/timescale-edition';
import { apacheMigrations } from './apache-migrations.js';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE, migrate } from './migrate.js';
import { scratchDatabase } from './scratch-database.js';

/**
 * Migration 0015's per-GPU rollups on rows written here, two hours of two GPUs at 10 s: every
 * rollup answers what the raw rows give, before and after the community edition materializes and
 * compresses them, with late rows, and the migration goes down and up again. Twice: in a database
 * migrated as the server's edition calls for, and in one whose migrations take the Apache
 * edition's branches whatever the server (the license check replaced by 'apache'), so both
 * branches run on any server.
 */
const ROLLUPS = ['gpu_anomalies_1h', 'gpu_anomalies_5m', 'gpu_economics_1h', 'gpu_economics_5m', 'gpu_health_1h', 'gpu_health_5m',
  'gpu_samples_1h', 'gpu_samples_5m'];

/** The rows: readings every 10 s over the two hours before a fixed hour, so both bucket widths see whole and partial buckets. */
const WRITE_ROWS = `
  INSERT INTO gpu_devices (gpu_uuid, product_name, hostname, first_seen, last_seen)
  VALUES ('GPU-r1', 'Model A', 'host-1', '2026-01-01', now()), ('GPU-r2', 'Model B', 'host-2', '2026-01-01', now());
  INSERT INTO gpu_samples (time, gpu_uuid, utilization_gpu_pct, utilization_memory_pct, memory_used_mib,
                           power_draw_w, temperature_gpu_c, temperature_memory_c, mig_instances, xid_events)
  SELECT t, g, (extract(epoch FROM t)::bigint % 101), 40, 1000 + (extract(epoch FROM t)::bigint % 7),
         200 + (extract(epoch FROM t)::bigint % 13), 60 + (extract(epoch FROM t)::bigint % 5), 70, '[]', '[]'
    FROM generate_series(now() - INTERVAL '2 hours', now(), INTERVAL '10 seconds') AS t, unnest(ARRAY['GPU-r1', 'GPU-r2']) AS g;
  INSERT INTO gpu_health (time, gpu_uuid, hostname, score, verdict, thermal_power, memory, pcie, nvlink, driver, reasons)
  SELECT t, g, 'raw-host', 50 + (extract(epoch FROM t)::bigint % 50), (ARRAY['PASS', 'WARN', 'FAIL'])[1 + extract(epoch FROM t)::bigint % 3],
         'PASS', 'PASS', 'PASS', 'PASS', 'PASS', '[]'
    FROM generate_series(now() - INTERVAL '2 hours', now(), INTERVAL '10 seconds') AS t, unnest(ARRAY['GPU-r1', 'GPU-r2']) AS g;
  INSERT INTO gpu_economics (time, gpu_uuid, hostname, currency, interval_s, energy_kwh, energy_cost_micros, allocated_cost_micros,
                             used_cost_micros, idle_cost_micros, efficiency, co2e_kg)
  SELECT t, g, 'raw-host', 'USD', 10, 0.001, 150, 10000, 7000, 3000, 0.7, 0.0004
    FROM generate_series(now() - INTERVAL '2 hours', now(), INTERVAL '10 seconds') AS t, unnest(ARRAY['GPU-r1', 'GPU-r2']) AS g;
  INSERT INTO gpu_anomalies (time, gpu_uuid, hostname, kind, severity, metric, dedup_key, message)
  SELECT t, 'GPU-r1', 'raw-host', 'k', CASE WHEN extract(minute FROM t)::int % 2 = 0 THEN 'CRITICAL' ELSE 'WARNING' END, 'm', 'd', 'x'
    FROM generate_series(now() - INTERVAL '2 hours', now(), INTERVAL '7 minutes') AS t;`;

/** Each rollup view's measures next to the same measures computed from the raw rows: no row may differ. */
const MISMATCHES = (suffix: '5m' | '1h', width: string): string => `
  WITH raw AS (
    SELECT time_bucket('${width}'::interval, time) AS bucket, gpu_uuid, count(*) AS samples,
           avg(utilization_gpu_pct) AS avg_utilization_gpu_pct, max(utilization_gpu_pct) AS utilization_gpu_max_pct,
           avg(memory_used_mib) AS avg_memory_used_mib, avg(power_draw_w) AS avg_power_draw_w, max(power_draw_w) AS power_draw_max_w,
           avg(temperature_gpu_c) AS avg_temperature_gpu_c, max(temperature_memory_c) AS temperature_memory_max_c
      FROM gpu_samples GROUP BY 1, 2
  ), health AS (
    SELECT time_bucket('${width}'::interval, time) AS bucket, gpu_uuid, avg(score) AS avg_health_score, min(score) AS min_health_score,
           count(*) FILTER (WHERE verdict = 'FAIL') AS health_fail_n
      FROM gpu_health GROUP BY 1, 2
  ), cost AS (
    SELECT time_bucket('${width}'::interval, time) AS bucket, gpu_uuid, sum(used_cost_micros) AS used_cost_micros,
           sum(idle_cost_micros) AS idle_cost_micros, sum(energy_kwh) AS energy_kwh
      FROM gpu_economics GROUP BY 1, 2
  ), anomalies AS (
    SELECT time_bucket('${width}'::interval, time) AS bucket, gpu_uuid, count(*) AS anomalies,
           count(*) FILTER (WHERE severity = 'CRITICAL') AS critical_anomalies
      FROM gpu_anomalies GROUP BY 1, 2
  )
  SELECT r.bucket, r.gpu_uuid FROM raw r
    JOIN health h USING (bucket, gpu_uuid) JOIN cost c USING (bucket, gpu_uuid) LEFT JOIN anomalies a USING (bucket, gpu_uuid)
    FULL JOIN gpu_rollup_${suffix} v USING (bucket, gpu_uuid)
   WHERE v.hostname IS DISTINCT FROM (CASE r.gpu_uuid WHEN 'GPU-r1' THEN 'host-1' ELSE 'host-2' END)
      OR v.samples IS DISTINCT FROM r.samples
      OR abs(v.avg_utilization_gpu_pct - r.avg_utilization_gpu_pct) > 1e-9 OR v.utilization_gpu_max_pct IS DISTINCT FROM r.utilization_gpu_max_pct
      OR abs(v.avg_memory_used_mib - r.avg_memory_used_mib) > 1e-9 OR abs(v.avg_power_draw_w - r.avg_power_draw_w) > 1e-9
      OR v.power_draw_max_w IS DISTINCT FROM r.power_draw_max_w OR abs(v.avg_temperature_gpu_c - r.avg_temperature_gpu_c) > 1e-9
      OR v.temperature_memory_max_c IS DISTINCT FROM r.temperature_memory_max_c
      OR abs(v.avg_health_score - h.avg_health_score) > 1e-9 OR v.min_health_score IS DISTINCT FROM h.min_health_score
      OR v.health_fail_n IS DISTINCT FROM h.health_fail_n
      OR v.used_cost_micros IS DISTINCT FROM c.used_cost_micros OR v.idle_cost_micros IS DISTINCT FROM c.idle_cost_micros
      OR abs(v.energy_kwh - c.energy_kwh) > 1e-9
      OR v.anomalies IS DISTINCT FROM coalesce(a.anomalies, 0) OR v.critical_anomalies IS DISTINCT FROM coalesce(a.critical_anomalies, 0)`;

async function mismatches(client: pg.Client): Promise<unknown[]> {
  return [...(await client.query(MISMATCHES('5m', '5 minutes'))).rows, ...(await client.query(MISMATCHES('1h', '1 hour'))).rows];
}

describe.each([
  { branch: 'the server’s edition', forceApache: false },
  { branch: 'the Apache branch', forceApache: true },
])('rollups (migration 0015), $branch', ({ forceApache }) => {
  const db = scratchDatabase();
  const dir = forceApache ? apacheMigrations() : MIGRATIONS_DIR;
  let edition: TimescaleEdition;

  beforeAll(async () => {
    await db.create();
    await migrate(db.settings, createLogger('rollups-test'), dir);
    await db.holdPolicyJobs({ refresh: true });
    const server = await withClient(db.settings, readTimescaleEdition);
    edition = forceApache ? { ...server, license: 'apache', name: 'apache' } : server;
    await withClient(db.settings, (c) => c.query(WRITE_ROWS));
  }, 120_000);
  afterAll(async () => {
    await db.drop();
    if (forceApache) rmSync(dir, { recursive: true });
  });

  it('are continuous aggregates computed in real time on the community edition, plain views on Apache', async () => {
    const { rows } = await withClient(db.settings, (c) => c.query(
      `SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates WHERE view_name = ANY($1) ORDER BY view_name`, [ROLLUPS]));
    expect(rows).toEqual(edition.name === 'apache' ? [] : ROLLUPS.map((view_name) => ({ view_name, materialized_only: false })));
  });

  it('are refreshed over the late-data window, compressed past it and kept longer than the raw samples (community edition)', async (context) => {
    const skip = communityOnlyReason(edition);
    if (skip !== undefined) context.skip(skip);
    const { rows } = await withClient(db.settings, (c) => c.query(
      `SELECT a.view_name, j.proc_name, j.schedule_interval::text AS every,
              coalesce(j.config ->> 'start_offset', j.config ->> 'drop_after', j.config ->> 'compress_after') AS reach, j.config ->> 'end_offset' AS end_offset
         FROM timescaledb_information.continuous_aggregates a
         JOIN timescaledb_information.jobs j
           ON j.hypertable_schema = a.view_schema AND j.hypertable_name = a.view_name
        WHERE a.view_name = ANY($1)
        ORDER BY 1, 2`, [ROLLUPS]));
    const compression = (view_name: string, reach: string): Record<string, unknown> =>
      ({ view_name, proc_name: 'policy_compression', every: expect.any(String), reach, end_offset: null });
    expect(rows).toEqual(ROLLUPS.flatMap((view_name) => view_name.endsWith('_5m')
      ? [compression(view_name, '3 days'),
        { view_name, proc_name: 'policy_refresh_continuous_aggregate', every: '00:05:00', reach: '2 days', end_offset: '00:10:00' },
        { view_name, proc_name: 'policy_retention', every: '1 day', reach: '90 days', end_offset: null }]
      : [compression(view_name, '4 days'),
        { view_name, proc_name: 'policy_refresh_continuous_aggregate', every: '00:30:00', reach: '3 days', end_offset: '01:00:00' },
        { view_name, proc_name: 'policy_retention', every: '1 day', reach: '395 days', end_offset: null }]));
  });

  it('answer, per GPU and bucket, what the raw rows give, with host and model from gpu_devices', async () => {
    const { rows, missing } = await withClient(db.settings, async (c) => ({
      rows: await mismatches(c),
      missing: (await c.query(`SELECT count(*)::int AS n FROM gpu_rollup_5m WHERE product_name IS NULL`)).rows[0].n as number,
    }));
    expect(rows).toEqual([]);
    expect(missing).toBe(0);
  });

  it('answer the same once materialized and compressed, late rows in a compressed chunk included (community edition)', async (context) => {
    const skip = communityOnlyReason(edition);
    if (skip !== undefined) context.skip(skip);
    const { rows, compressed, late } = await withClient(db.settings, async (c) => {
      for (const view of ROLLUPS) await c.query(`CALL refresh_continuous_aggregate('${view}', NULL, NULL)`);
      const compressed = (await c.query(`SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('gpu_samples') ch`)).rowCount;
      for (const view of ['gpu_samples_5m', 'gpu_samples_1h']) await c.query(`SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('${view}') ch`);
      await c.query(`INSERT INTO gpu_samples (time, gpu_uuid, utilization_gpu_pct, power_draw_w, mig_instances, xid_events)
                     VALUES (now() - INTERVAL '1 hour 3 seconds', 'GPU-r1', 100, 999, '[]', '[]')`);
      for (const view of ROLLUPS) await c.query(`CALL refresh_continuous_aggregate('${view}', NULL, NULL)`);
      const late = (await c.query(`SELECT max(power_draw_max_w) AS w FROM gpu_rollup_1h WHERE gpu_uuid = 'GPU-r1'`)).rows[0].w as number;
      return { rows: await mismatches(c), compressed, late };
    });
    expect(compressed).toBeGreaterThan(0);
    expect(late).toBe(999);
    expect(rows).toEqual([]);
  });

  it('let the owner DELETE a host’s GPUs as the tests’ cleanup does, past 100,000 compressed tuples (community edition)', async (context) => {
    const skip = communityOnlyReason(edition);
    if (skip !== undefined) context.skip(skip);
    const deleted = await withClient(db.settings, async (c) => {
      await c.query(`INSERT INTO gpu_devices (gpu_uuid, hostname, first_seen, last_seen)
                     SELECT 'GPU-bulk-' || i, 'doomed-host', '2020-01-01', '2020-01-02' FROM generate_series(0, 9) AS i`);
      await c.query(`INSERT INTO gpu_health (time, gpu_uuid, hostname, score, verdict, thermal_power, memory, pcie, nvlink, driver, reasons)
                     SELECT '2020-01-01'::timestamptz + i * INTERVAL '1 second', 'GPU-bulk-' || (i % 10), 'doomed-host', 90, 'PASS',
                            'PASS', 'PASS', 'PASS', 'PASS', 'PASS', '[]'
                       FROM generate_series(1, 120000) AS i`);
      await c.query(`SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('gpu_health', older_than => '2020-02-01'::timestamptz) ch`);
      // A filter TimescaleDB cannot push into the compressed batches: each one is decompressed to be checked.
      return (await c.query(`DELETE FROM gpu_health WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE 'doomed-%')`)).rowCount;
    });
    expect(deleted).toBe(120_000);
  });

  it('go down to 0014’s hourly views and up again (0016 and 0017 above them too)', async () => {
    const step = async (direction: 'up' | 'down'): Promise<string[]> => {
      const client = new (await import('pg')).default.Client(clientConfig(db.settings));
      await client.connect();
      try {
        const done = await runner({ dbClient: client, dir, direction, count: 3, migrationsTable: MIGRATIONS_TABLE, log: () => undefined });
        return done.map((m) => m.name);
      } finally {
        await client.end();
      }
    };
    const relations = (): Promise<string[]> => withClient(db.settings, async (c) => (await c.query(
      `SELECT relname FROM pg_class WHERE relname ~ '^gpu_(rollup|samples|economics)_(5m|1h|hourly)$' ORDER BY 1`)).rows.map((r) => r.relname as string));
    expect(await step('down')).toEqual(['0017_ingest_indexes', '0016_cost_rollup_fault_rows', '0015_rollups']);
    expect(await relations()).toEqual(['gpu_economics_hourly', 'gpu_samples_hourly']);
    const hourlySamples = async (): Promise<number> => withClient(db.settings, async (c) =>
      Number((await c.query(`SELECT sum(samples) AS n FROM gpu_usage_hourly_sums`)).rows[0].n));
    const before = await hourlySamples();
    expect(await step('up')).toEqual(['0015_rollups', '0016_cost_rollup_fault_rows', '0017_ingest_indexes']);
    expect(await relations()).toEqual(['gpu_economics_1h', 'gpu_economics_5m', 'gpu_economics_hourly', 'gpu_rollup_1h', 'gpu_rollup_5m',
      'gpu_samples_1h', 'gpu_samples_5m', 'gpu_samples_hourly']);
    expect(await hourlySamples()).toBe(before);
  });
});
