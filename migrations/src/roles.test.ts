import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions, withClient } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { migrate } from './migrate.js';
import { scratchDatabase } from './scratch-database.js';

/**
 * gpu_writer and gpu_analyst on a database migrated from zero, through login users made members of
 * them (as docs/roles.md tells operators to): each may do its job and nothing more. The owner's
 * gpu_test_private_notes stands for any table the migrations did not make (gpu_-named all the same: no unprefixed object, ever).
 */
const db = scratchDatabase();
const main = loadConfig(databaseOptions);
const password = randomBytes(12).toString('hex');
const analyst = db.as(`${db.name}_analyst`, password);
const writer = db.as(`${db.name}_writer`, password);

beforeAll(async () => {
  await db.create();
  await migrate(db.settings, createLogger('roles-test'));
  await withClient(main, async (c) => {
    await c.query(`CREATE ROLE ${db.name}_analyst LOGIN PASSWORD '${password}' IN ROLE gpu_analyst`);
    await c.query(`CREATE ROLE ${db.name}_writer LOGIN PASSWORD '${password}' IN ROLE gpu_writer`);
  });
  await withClient(db.settings, async (c) => {
    await c.query(`CREATE TABLE gpu_test_private_notes (note text)`);
    await c.query(`INSERT INTO gpu_test_private_notes VALUES ('not for analysts')`);
  });
});

afterAll(async () => {
  await db.drop();
  await withClient(main, async (c) => {
    await c.query(`DROP ROLE IF EXISTS ${db.name}_analyst`);
    await c.query(`DROP ROLE IF EXISTS ${db.name}_writer`);
  });
});

const HEALTH_ROW = `(now(), 'GPU-1', 'h', 100, 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', '[]')`;
const denied = { code: '42501' };

describe('roles', () => {
  it('let gpu_writer write what the sink writes, as the sink writes it', async () => {
    await withClient(writer, async (c) => {
      await c.query('BEGIN');
      await c.query(`CREATE TEMP TABLE gpu_stage (LIKE gpu_health INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
      await c.query(`INSERT INTO gpu_stage VALUES ${HEALTH_ROW}`);
      const inserted = await c.query(`INSERT INTO gpu_health SELECT * FROM gpu_stage ON CONFLICT DO NOTHING`);
      await c.query('COMMIT');
      expect(inserted.rowCount).toBe(1);
      const upsert = `INSERT INTO gpu_devices VALUES ('GPU-1', 'S1', 'NVIDIA L4', 'h', '550.54', now(), now())
                      ON CONFLICT (gpu_uuid) DO UPDATE SET last_seen = GREATEST(gpu_devices.last_seen, EXCLUDED.last_seen)`;
      await c.query(upsert);
      expect((await c.query(upsert)).rowCount).toBe(1);
      const workload = `INSERT INTO gpu_workloads (workload_id, kind, source, first_seen, last_seen) VALUES ('slurm:42', 'SLURM_JOB', 'slurm-job-map', now(), now())
                        ON CONFLICT (workload_id) DO UPDATE SET last_seen = GREATEST(gpu_workloads.last_seen, EXCLUDED.last_seen)`;
      await c.query(workload);
      expect((await c.query(workload)).rowCount).toBe(1);
      await c.query('BEGIN');
      await c.query(`CREATE TEMP TABLE gpu_stage_workload_samples (LIKE gpu_workload_samples INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
      await c.query(`INSERT INTO gpu_stage_workload_samples VALUES (now(), 'GPU-1', 'slurm:42', NULL, NULL, '[4242]', 1024)`);
      const staged = await c.query(`INSERT INTO gpu_workload_samples SELECT * FROM gpu_stage_workload_samples ON CONFLICT DO NOTHING`);
      await c.query('COMMIT');
      expect(staged.rowCount).toBe(1);
      expect((await c.query(`SELECT count(*)::int AS n FROM gpu_retention`)).rows[0].n).toBe(9);
    });
  });

  it('refuse gpu_writer anything else', async () => {
    await withClient(writer, async (c) => {
      for (const sql of [
        `DELETE FROM gpu_health`, `UPDATE gpu_health SET score = 0`, `DROP TABLE gpu_health`, `TRUNCATE gpu_samples`,
        `CREATE TABLE gpu_extra (x int)`, `SELECT * FROM gpu_fleet_health_now`, `SELECT * FROM gpu_migrations`,
        `SELECT * FROM gpu_test_private_notes`, `UPDATE gpu_retention SET drop_after = INTERVAL '1 day'`, `SELECT * FROM gpu_drop_old_chunks()`,
      ]) await expect(c.query(sql), sql).rejects.toMatchObject(denied);
    });
  });

  it('let gpu_analyst read every gpu_ table and view but the bookkeeping (and the owner’s own table)', async () => {
    await withClient(analyst, async (c) => {
      const { rows } = await c.query(`SELECT verdict, score FROM gpu_fleet_health_now`);
      expect(rows).toEqual([{ verdict: 'PASS', score: 100 }]);
      const relations = (await c.query(`SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
          AND relkind IN ('r', 'v', 'm', 'p') AND relname LIKE 'gpu\\_%' AND relname NOT IN ('gpu_migrations', 'gpu_test_private_notes') ORDER BY 1`)).rows;
      expect(relations.length).toBeGreaterThan(20);
      for (const { relname } of relations) await c.query(`SELECT * FROM ${relname as string} LIMIT 1`);
    });
  });

  it('refuse gpu_analyst writes, objects of its own, the bookkeeping and tables outside the project', async () => {
    await withClient(analyst, async (c) => {
      for (const sql of [
        `INSERT INTO gpu_health VALUES ${HEALTH_ROW}`, `UPDATE gpu_health SET score = 0`, `DELETE FROM gpu_health`,
        `UPDATE gpu_devices SET serial = NULL`, `UPDATE gpu_workloads SET job_user = NULL`, `CREATE TABLE gpu_mine (x int)`, `CREATE TEMP TABLE gpu_scratch (x int)`,
        `CREATE VIEW gpu_mine AS SELECT 1`, `SELECT * FROM gpu_migrations`, `SELECT * FROM gpu_test_private_notes`,
        `SELECT * FROM gpu_drop_old_chunks()`, `DROP VIEW gpu_fleet_health_now`,
      ]) await expect(c.query(sql), sql).rejects.toMatchObject(denied);
    });
  });

  it('grant gpu_writer exactly the privileges of the sink and of predict-failure’s model registry', async () => {
    const { rows } = await withClient(db.settings, (c) => c.query(
      `SELECT table_name || ' ' || string_agg(privilege_type, ',' ORDER BY privilege_type) AS grant
         FROM information_schema.role_table_grants WHERE grantee = 'gpu_writer' AND table_schema = 'public' GROUP BY table_name ORDER BY table_name`));
    expect(rows.map((r) => r.grant)).toEqual([
      'gpu_alerts INSERT,SELECT', 'gpu_anomalies INSERT,SELECT', 'gpu_device_configs INSERT,SELECT', 'gpu_devices INSERT,SELECT,UPDATE',
      'gpu_economics INSERT,SELECT',
      'gpu_feature_definitions INSERT,SELECT,UPDATE', 'gpu_health INSERT,SELECT', 'gpu_models INSERT,SELECT,UPDATE', 'gpu_predictions INSERT,SELECT',
      'gpu_retention SELECT', 'gpu_samples INSERT,SELECT', 'gpu_workload_costs INSERT,SELECT', 'gpu_workload_samples INSERT,SELECT',
      'gpu_workloads INSERT,SELECT,UPDATE',
    ]);
  });
});
