import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@gpumon/runtime/log';
import { migrate } from './migrate.js';
import { withClient } from '@gpumon/runtime/database';
import { scratchDatabase } from './scratch-database.js';

/** Chunk intervals, the edition's policies and the Apache edition's retention job, on a database migrated from zero. */
const db = scratchDatabase();

beforeAll(async () => {
  await db.create();
  await migrate(db.settings, createLogger('retention-test'));
  // gpu_drop_old_chunks() is what is tested here, not the edition's own retention job racing it.
  await db.holdPolicyJobs();
});
afterAll(() => db.drop());

const sample = (age: string, gpu: string): string =>
  `INSERT INTO gpu_samples (time, gpu_uuid, mig_instances, xid_events) VALUES (now() - INTERVAL '${age}', '${gpu}', '[]', '[]')`;
const economics = (age: string): string =>
  `INSERT INTO gpu_economics (time, gpu_uuid, hostname, currency, interval_s, energy_kwh, energy_cost_micros, allocated_cost_micros,
     used_cost_micros, idle_cost_micros, efficiency, co2e_kg) VALUES (now() - INTERVAL '${age}', 'GPU-old', 'h', 'USD', 10, 0, 0, 0, 0, 0, 0, 0)`;

describe('retention', () => {
  it('gives each hypertable the chunk interval its rows call for', async () => {
    const { rows } = await withClient(db.settings, (c) => c.query(
      // Continuous aggregates (community edition) keep their own hypertables in TimescaleDB's schema.
      `SELECT hypertable_name, time_interval FROM timescaledb_information.dimensions WHERE hypertable_schema = 'public' ORDER BY hypertable_name`));
    expect(Object.fromEntries(rows.map((r) => [r.hypertable_name, r.time_interval]))).toEqual({
      gpu_alerts: { days: 7 }, gpu_anomalies: { days: 7 }, gpu_economics: { days: 1 }, gpu_faults: { days: 7 }, gpu_health: { days: 1 },
      gpu_predictions: { days: 1 }, gpu_samples: { hours: 6 }, gpu_workload_costs: { days: 1 }, gpu_workload_samples: { days: 1 },
    });
  });

  it('has compression and retention policies where the edition offers them, none on Apache', async () => {
    const { license, policies } = await withClient(db.settings, async (c) => ({
      license: (await c.query(`SELECT current_setting('timescaledb.license') AS l`)).rows[0].l as string,
      policies: (await c.query(`SELECT proc_name, hypertable_name FROM timescaledb_information.jobs
                                 WHERE proc_name IN ('policy_retention', 'policy_compression')
                                   AND hypertable_name NOT IN (SELECT view_name FROM timescaledb_information.continuous_aggregates)
                                 ORDER BY 1, 2`)).rows,
    }));
    const tables = ['gpu_alerts', 'gpu_anomalies', 'gpu_economics', 'gpu_faults', 'gpu_health', 'gpu_predictions', 'gpu_samples',
      'gpu_workload_costs', 'gpu_workload_samples'];
    expect(policies).toEqual(license === 'apache' ? [] : ['policy_compression', 'policy_retention'].flatMap(
      (proc_name) => tables.map((hypertable_name) => ({ proc_name, hypertable_name }))));
  });

  it('gpu_drop_old_chunks() drops chunks past their table’s retention and keeps the rest', async () => {
    const { dropped, samples, economicsLeft } = await withClient(db.settings, async (c) => {
      await c.query(sample('40 days', 'GPU-old'));
      await c.query(sample('1 minute', 'GPU-new'));
      await c.query(economics('40 days'));
      return {
        dropped: (await c.query(`SELECT hypertable_name, chunk FROM gpu_drop_old_chunks()`)).rows,
        samples: (await c.query(`SELECT gpu_uuid FROM gpu_samples`)).rows,
        economicsLeft: (await c.query(`SELECT count(*)::int AS n FROM gpu_economics`)).rows[0].n as number,
      };
    });
    expect(dropped).toEqual([{ hypertable_name: 'gpu_samples', chunk: expect.stringMatching(/^_timescaledb_internal\._hyper_\d+_\d+_chunk$/) }]);
    expect(samples).toEqual([{ gpu_uuid: 'GPU-new' }]);
    expect(economicsLeft).toBe(1);
  });
});
