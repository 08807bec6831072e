import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { communityOnlyReason, readTimescaleEdition, type TimescaleEdition } from '@gpumon/runtime/timescale-edition';
import { apacheMigrations } from './apache-migrations.js';
import { MIGRATIONS_DIR, migrate } from './migrate.js';
import { scratchDatabase } from './scratch-database.js';

/**
 * Migration 0016: the daily cost views read the hourly rollup gpu_workload_costs_1h, and critical
 * events are rows written by a trigger when their sample is. Each answers what 0013's and 0014's
 * views computed from the raw rows, with replays, late rows, compressed chunks (community edition)
 * and deletes. Twice, as rollups.test.ts: as the server's edition calls for and on the Apache branch.
 */

/** One GPU's samples, written by one INSERT in reverse time order: the trigger runs after the whole statement. */
const SAMPLES = `
  INSERT INTO gpu_devices (gpu_uuid, hostname, first_seen, last_seen) VALUES ('GPU-f1', 'fh-1', '2026-01-01', now());
  INSERT INTO gpu_samples (time, gpu_uuid, gpu_lost, mig_instances, xid_events, ecc_volatile_dbe, remapped_rows_failure, throttle_hw_thermal_slowdown)
  SELECT date_trunc('hour', now()) - INTERVAL '4 hours' + s.minute * INTERVAL '1 minute', 'GPU-f1', s.lost, '[]', s.xids::jsonb, s.dbe, s.remap, s.thermal
    FROM (VALUES (190, false, '[]', 1, false, true),
                 (4, false, '[{"code": 48, "message": "Xid 48"}, {"code": 13, "message": "Xid 13"}]', 1, true, true),
                 (3, true, '[{"code": 79, "message": "Xid 79"}]', NULL, NULL, NULL),
                 (2, false, '[]', 1, false, true),
                 (1, false, '[]', 0, false, true),
                 (0, false, '[]', 0, false, false)) AS s (minute, lost, xids, dbe, remap, thermal)
   ORDER BY s.minute DESC`;

/** What 0014's gpu_fault_events gives for SAMPLES: onsets against the previous sample within the hour, lost ones skipped. */
const EVENTS = [
  { minute: 1, kind: 'thermal_slowdown', xid: null, detail: 'throttle_hw_thermal_slowdown' },
  { minute: 2, kind: 'ecc_dbe', xid: null, detail: 'ecc_volatile_dbe 1, was 0' },
  { minute: 3, kind: 'xid', xid: 79, detail: 'Xid 79' },
  { minute: 4, kind: 'row_remap_failure', xid: null, detail: 'remapped_rows_failure' },
  { minute: 4, kind: 'xid', xid: 48, detail: 'Xid 48' },
  { minute: 190, kind: 'ecc_dbe', xid: null, detail: 'ecc_volatile_dbe 1, was unknown' },
  { minute: 190, kind: 'thermal_slowdown', xid: null, detail: 'throttle_hw_thermal_slowdown' },
].map((e) => ({ ...e, hostname: 'fh-1' }));

const eventsOf = async (c: pg.Client): Promise<unknown[]> => (await c.query(
  `SELECT extract(epoch FROM time - (date_trunc('hour', now()) - INTERVAL '4 hours'))::int / 60 AS minute, hostname, kind, xid, detail
     FROM gpu_fault_events WHERE gpu_uuid = 'GPU-f1' ORDER BY 1, kind, xid`)).rows;

/** Cost parts over two days: three GPUs, two teams, a workload on two GPUs, the unattributed part. */
const COSTS = `
  INSERT INTO gpu_workload_costs (time, gpu_uuid, workload_id, team, share, energy_kwh, allocated_cost_micros, used_cost_micros,
                                  idle_cost_micros, currency, interval_s)
  SELECT t, g, w.id, w.team, w.share, 0.001 * w.share, (1000 * w.share)::bigint + (extract(epoch FROM t)::bigint % 7),
         (600 * w.share)::bigint, (400 * w.share)::bigint + (extract(epoch FROM t)::bigint % 7), 'USD', 60
    FROM generate_series(date_trunc('hour', now()) - INTERVAL '2 days', now(), INTERVAL '1 minute') AS t,
         unnest(ARRAY['GPU-c1', 'GPU-c2', 'GPU-c3']) AS g,
         (VALUES ('slurm:1', 'ml', 0.5), (NULL, 'unattributed', 0.25), ('k8s:prod/ns/pod/c', 'web', 0.25)) AS w (id, team, share)
   WHERE w.id IS DISTINCT FROM 'slurm:1' OR g <> 'GPU-c3'`;

/** 0013's gpu_team_cost_daily over the raw rows, next to the view: no row may differ. */
const TEAM_MISMATCHES = `
  WITH raw AS (
    SELECT time_bucket(INTERVAL '1 day', time) AS bucket, team, currency, count(DISTINCT workload_id) AS workloads,
           count(DISTINCT gpu_uuid) AS gpus, sum(share * interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
           sum(allocated_cost_micros)::bigint AS allocated, sum(used_cost_micros)::bigint AS used, sum(idle_cost_micros)::bigint AS idle
      FROM gpu_workload_costs GROUP BY 1, 2, 3
  )
  SELECT * FROM raw r FULL JOIN gpu_team_cost_daily v USING (bucket, team, currency)
   WHERE v.workloads IS DISTINCT FROM r.workloads OR v.gpus IS DISTINCT FROM r.gpus OR abs(v.gpu_hours - r.gpu_hours) > 1e-9
      OR abs(v.energy_kwh - r.energy_kwh) > 1e-9 OR v.allocated_cost_micros IS DISTINCT FROM r.allocated
      OR v.used_cost_micros IS DISTINCT FROM r.used OR v.idle_cost_micros IS DISTINCT FROM r.idle
      OR abs(v.idle_share - r.idle::float8 / r.allocated) > 1e-12`;

/** 0013's gpu_workload_cost_daily over the raw rows, next to the view. */
const WORKLOAD_MISMATCHES = `
  WITH raw AS (
    SELECT time_bucket(INTERVAL '1 day', time) AS bucket, workload_id, team, currency, count(DISTINCT gpu_uuid) AS gpus,
           sum(share * interval_s) / 3600 AS gpu_hours, sum(allocated_cost_micros)::bigint AS allocated, sum(idle_cost_micros)::bigint AS idle
      FROM gpu_workload_costs GROUP BY 1, 2, 3, 4
  )
  SELECT * FROM raw r FULL JOIN gpu_workload_cost_daily v
    ON v.bucket = r.bucket AND v.workload_id IS NOT DISTINCT FROM r.workload_id AND v.team = r.team AND v.currency = r.currency
   WHERE v.gpus IS DISTINCT FROM r.gpus OR abs(v.gpu_hours - r.gpu_hours) > 1e-9
      OR v.allocated_cost_micros IS DISTINCT FROM r.allocated OR v.idle_cost_micros IS DISTINCT FROM r.idle`;

async function costMismatches(c: pg.Client): Promise<unknown[]> {
  return [...(await c.query(TEAM_MISMATCHES)).rows, ...(await c.query(WORKLOAD_MISMATCHES)).rows];
}

describe.each([
  { branch: 'the server’s edition', forceApache: false },
  { branch: 'the Apache branch', forceApache: true },
])('cost rollup and fault rows (migration 0016), $branch', ({ forceApache }) => {
  const db = scratchDatabase();
  const dir = forceApache ? apacheMigrations() : MIGRATIONS_DIR;
  const password = randomBytes(12).toString('hex');
  const writer = db.as(`${db.name}_writer`, password);
  let edition: TimescaleEdition;

  beforeAll(async () => {
    await db.create();
    await migrate(db.settings, createLogger('cost-fault-rows-test'), dir);
    await db.holdPolicyJobs();
    const server = await withClient(db.settings, readTimescaleEdition);
    edition = forceApache ? { ...server, license: 'apache', name: 'apache' } : server;
    await withClient(db.settings, async (c) => {
      await c.query(`CREATE ROLE ${db.name}_writer LOGIN PASSWORD '${password}' IN ROLE gpu_writer`);
      await c.query(SAMPLES);
      await c.query(COSTS);
    });
  }, 120_000);
  afterAll(async () => {
    await withClient(db.settings, (c) => c.query(`DROP ROLE IF EXISTS ${db.name}_writer`));
    await db.drop();
    if (forceApache) rmSync(dir, { recursive: true });
  });

  it('list the critical events of samples written in one statement, in any order, as 0014’s view judged them', async () => {
    expect(await withClient(db.settings, eventsOf)).toEqual(EVENTS);
  });

  it('add no event for a replayed sample, and one for a sample the sink’s login writes, without a grant on gpu_faults', async () => {
    await withClient(db.settings, (c) => c.query(`INSERT INTO gpu_samples SELECT * FROM gpu_samples WHERE gpu_uuid = 'GPU-f1' ON CONFLICT DO NOTHING`));
    expect(await withClient(db.settings, eventsOf)).toEqual(EVENTS);
    await withClient(writer, async (c) => {
      await expect(c.query(`INSERT INTO gpu_faults VALUES (now(), 'GPU-f2', 'xid', 48, 'forged')`)).rejects.toMatchObject({ code: '42501' });
      await c.query(`INSERT INTO gpu_samples (time, gpu_uuid, mig_instances, xid_events) VALUES (now(), 'GPU-f2', '[]', '[{"code": 63, "message": "Xid 63"}]')`);
    });
    const { rows } = await withClient(db.settings, (c) => c.query(`SELECT kind, xid, detail FROM gpu_faults WHERE gpu_uuid = 'GPU-f2'`));
    expect(rows).toEqual([{ kind: 'xid', xid: 63, detail: 'Xid 63' }]);
  });

  it('keep the events through compression: a replay adds none, a late sample its own (community edition)', async (context) => {
    const skip = communityOnlyReason(edition);
    if (skip !== undefined) context.skip(skip);
    const late = await withClient(db.settings, async (c) => {
      await c.query(`SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('gpu_samples') ch`);
      await c.query(`SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('gpu_faults') ch`);
      await c.query(`INSERT INTO gpu_samples SELECT * FROM gpu_samples WHERE gpu_uuid = 'GPU-f1' ON CONFLICT DO NOTHING`);
      await c.query(`INSERT INTO gpu_samples (time, gpu_uuid, mig_instances, xid_events)
                     VALUES (date_trunc('hour', now()) - INTERVAL '4 hours' + INTERVAL '100 minutes', 'GPU-f1', '[]', '[{"code": 119, "message": "Xid 119"}]')`);
      return (await c.query(`SELECT count(*)::int AS n FROM gpu_fault_events WHERE gpu_uuid = 'GPU-f1' AND xid = 119`)).rows[0].n as number;
    });
    expect(late).toBe(1);
    expect((await withClient(db.settings, eventsOf)).length).toBe(EVENTS.length + 1);
  });

  it('drop a sample’s events with it, whatever chunk it is in', async () => {
    const left = await withClient(db.settings, async (c) => {
      await c.query(`DELETE FROM gpu_samples WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE 'fh-%')`);
      return (await c.query(`SELECT count(*)::int AS n FROM gpu_faults WHERE gpu_uuid = 'GPU-f1'`)).rows[0].n as number;
    });
    expect(left).toBe(0);
  });

  it('answer cost per team and per workload and day as the raw rows do, materialized, compressed and with a late part', async () => {
    const { before, after, late } = await withClient(db.settings, async (c) => {
      const before = await costMismatches(c);
      if (edition.name !== 'apache') {
        await c.query(`CALL refresh_continuous_aggregate('gpu_workload_costs_1h', NULL, NULL)`);
        await c.query(`SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('gpu_workload_costs') ch`);
        await c.query(`SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('gpu_workload_costs_1h') ch`);
      }
      await c.query(`INSERT INTO gpu_workload_costs VALUES (date_trunc('hour', now()) - INTERVAL '1 day 30 seconds', 'GPU-c9', 'slurm:1', 'ml', 1, 0.01,
                                                            5000, 1000, 4000, 'USD', 10)`);
      if (edition.name !== 'apache') await c.query(`CALL refresh_continuous_aggregate('gpu_workload_costs_1h', NULL, NULL)`);
      const late = (await c.query(`SELECT max(gpus)::int AS n FROM gpu_team_cost_daily WHERE team = 'ml'`)).rows[0].n as number;
      return { before, after: await costMismatches(c), late };
    });
    expect(before).toEqual([]);
    expect(after).toEqual([]);
    expect(late).toBe(3);
  });
});

describe('a database with costs older than the refresh window, moved to 0016', () => {
  const db = scratchDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'gpumon-migrations-'));
  afterAll(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps that history in the daily cost views after the refresh policy has run (community edition)', async (context) => {
    await db.create();
    const skip = communityOnlyReason(await withClient(db.settings, readTimescaleEdition));
    if (skip !== undefined) context.skip(skip);
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    for (const later of readdirSync(dir).filter((file) => file > '0016')) rmSync(join(dir, later));
    const log = createLogger('cost-fault-rows-test');
    await migrate(db.settings, log, `${dir}/`);
    await db.holdPolicyJobs();
    await withClient(db.settings, (c) => c.query(COSTS.replace(`INTERVAL '2 days'`, `INTERVAL '10 days'`)));
    // 0016 first; later files may follow.
    expect((await migrate(db.settings, log)).map((m) => m.name)[0]).toBe('0016_cost_rollup_fault_rows');
    const { days, mismatches } = await withClient(db.settings, async (c) => {
      const { rows: [job] } = await c.query(`SELECT job_id FROM timescaledb_information.jobs
                                              WHERE hypertable_name = 'gpu_workload_costs_1h' AND proc_name = 'policy_refresh_continuous_aggregate'`);
      await c.query(`CALL run_job($1)`, [job.job_id]);
      return {
        days: (await c.query(`SELECT count(DISTINCT bucket)::int AS n FROM gpu_team_cost_daily`)).rows[0].n as number,
        mismatches: await costMismatches(c),
      };
    });
    expect(days).toBe(11);
    expect(mismatches).toEqual([]);
  });
});
