import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '@gpumon/migrations/migrate';
import { scratchDatabase } from '@gpumon/migrations/scratch-database';
import { createPool } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { communityOnlyReason, readTimescaleEdition } from '@gpumon/runtime/timescale-edition';
import { alongsideOf } from './alongside.js';
import { TableWriter } from './table-writer.js';
import { tableOf } from './tables.js';
import { LAST_SEEN_LAG_MS } from './written-rows.js';
import type { Workload, WorkloadCost } from '@gpumon/schemas/types.generated';

/** The writer on a real TimescaleDB: a scratch database of its own, migrated from zero, dropped after. */
const database = scratchDatabase();
const scratch = database.settings;
let pool: pg.Pool;

beforeAll(async () => {
  await database.create();
  await migrate(scratch, createLogger('table-writer-test'));
  // Rows stamped in 1970: the policy jobs would compress or drop their chunks while a test writes
  // (seen once in CI: a replay wrote 50 rows again while the job compressed their chunk).
  // Compressed chunks are tested on purpose below.
  await database.holdPolicyJobs();
  pool = createPool(scratch);
});


afterAll(async () => {
  await pool?.end();
  await database.drop();
});

const health = (gpu: string, time: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  time, gpu_uuid: gpu, hostname: 'h1', score: 100, verdict: 'PASS', thermal_power: 'PASS', memory: 'PASS', pcie: 'PASS',
  nvlink: 'PASS', driver: 'PASS', reasons: [], ...extra,
});
const sample = (gpu: string, time: number, lost = false): Record<string, unknown> => ({
  time, gpu_uuid: gpu, hostname: 'h1', source: 'simulator', serial: `S-${gpu}`, product_name: 'NVIDIA H100', driver_version: '550.54',
  mig_instances: [], xid_events: [], gpu_lost: lost, attribution_problems: [],
});
const job = (id: string, extra: Partial<Workload> = {}): Workload => ({
  workload_id: `slurm:${id}`, kind: 'SLURM_JOB', source: 'slurm-job-map', device_uuid: null, gpu_instance_id: null, cluster: null,
  namespace: null, pod: null, pod_uid: null, container: null, job_id: id, user: 'alice', account: 'ml', partition: 'gpu',
  pids: [4242], used_memory_mib: 1024, ...extra,
});
const pod = (name: string, extra: Partial<Workload> = {}): Workload => ({
  workload_id: `k8s:team-a/${name}/main`, kind: 'KUBERNETES_POD', source: 'pod-resources', device_uuid: null, gpu_instance_id: null,
  cluster: 'prod', namespace: 'team-a', pod: name, pod_uid: `uid-${name}`, container: 'main', job_id: null, user: null, account: null,
  partition: null, pids: [], used_memory_mib: null, ...extra,
});
const attributed = (gpu: string, time: number, workloads: Workload[]): Record<string, unknown> => ({
  ...sample(gpu, time), workloads, attribution_problems: ['pid 7: exited before /proc was read'],
  processes: workloads.flatMap((w) => w.pids.map((pid) => ({
    pid, type: 'C', name: 'python', used_memory_mib: w.used_memory_mib, gpu_instance_id: null, compute_instance_id: null, workload_id: w.workload_id,
  }))),
});
const economics = (gpu: string, time: number, workloads: WorkloadCost[]): Record<string, unknown> => ({
  time, gpu_uuid: gpu, hostname: 'h1', product_name: 'NVIDIA H100', currency: 'USD', interval_s: 10, energy_kwh: 0.002,
  energy_cost_micros: 300, allocated_cost_micros: 3000, used_cost_micros: 1800, idle_cost_micros: 1200, efficiency: 0.6, co2e_kg: 0.001,
  cost_per_used_gpu_hour_micros: null, workloads,
});
const part = (workload_id: string | null, team: string, share: number): WorkloadCost => ({
  workload_id, team, share, energy_kwh: 0.002 * share, allocated_cost_micros: Math.round(3000 * share),
  used_cost_micros: Math.round(1800 * share), idle_cost_micros: Math.round(3000 * share) - Math.round(1800 * share),
});
const count = async (table: string): Promise<number> => Number((await pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

describe('TableWriter', () => {
  it('COPYs a new batch straight in, and a replay (even mixed with new rows) adds only the new rows', async () => {
    const writer = new TableWriter(pool, tableOf('health'));
    const first = Array.from({ length: 50 }, (_, i) => health('GPU-1', i * 1000));
    expect(await writer.write(first, (r) => r)).toEqual({ inserted: 50, duplicates: 0, rejected: [] });
    const replay = [...first, health('GPU-1', 999_000), health('GPU-1', 999_000)];
    expect(await writer.write(replay, (r) => r)).toEqual({ inserted: 1, duplicates: 51, rejected: [] });
    expect(await count('gpu_health')).toBe(51);
    expect(await writer.write([], (r) => r)).toEqual({ inserted: 0, duplicates: 0, rejected: [] });
  });

  it('adds nothing and raises nothing when a replay lands in a compressed chunk (community edition)', async (context) => {
    const skip = communityOnlyReason(await readTimescaleEdition(pool));
    if (skip !== undefined) context.skip(skip);
    const writer = new TableWriter(pool, tableOf('health'));
    const first = Array.from({ length: 20 }, (_, i) => health('GPU-compressed', 5_000_000 + i * 1000));
    expect(await writer.write(first, (r) => r)).toEqual({ inserted: 20, duplicates: 0, rejected: [] });
    const compressed = await pool.query(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('gpu_health') c`);
    expect(compressed.rowCount).toBeGreaterThan(0);
    const replay = [...first, health('GPU-compressed', 5_020_000)];
    expect(await writer.write(replay, (r) => r)).toEqual({ inserted: 1, duplicates: 20, rejected: [] });
    expect(Number((await pool.query(`SELECT count(*) AS n FROM gpu_health WHERE gpu_uuid = 'GPU-compressed'`)).rows[0].n)).toBe(21);
  });

  it('writes the rest of a batch and returns the one row the database refuses, with its SQLSTATE', async () => {
    const writer = new TableWriter(pool, tableOf('health'));
    const rows = Array.from({ length: 20 }, (_, i) => health('GPU-2', i * 1000, i === 13 ? { hostname: 'bad\u0000host' } : {}));
    const result = await writer.write(rows, (r) => r);
    expect([result.inserted, result.duplicates]).toEqual([19, 0]);
    expect(result.rejected.map((r) => [r.item.time, r.error.code, r.error.retriable])).toEqual([[13_000, 'database_rejected', false]]);
    expect(result.rejected[0]!.error.message).toMatch(/^gpu_health: SQLSTATE 22021: /);
  });

  it('keeps gpu_devices up to date from samples in the same transaction', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    await writer.write([sample('GPU-new', 20_000), sample('GPU-new', 10_000)], (r) => r);
    await writer.write([sample('GPU-new', 5000), sample('GPU-new', 60_000, true), sample('GPU-gone', 70_000, true)], (r) => r);
    await writer.write([{ ...sample('GPU-new', 30_000), driver_version: '560.1', serial: null }], (r) => r);
    const rows = await pool.query('SELECT gpu_uuid, serial, driver_version, first_seen, last_seen FROM gpu_devices ORDER BY gpu_uuid');
    expect(rows.rows).toEqual([
      { gpu_uuid: 'GPU-gone', serial: 'S-GPU-gone', driver_version: '550.54', first_seen: new Date(70_000), last_seen: new Date(70_000) },
      { gpu_uuid: 'GPU-new', serial: 'S-GPU-new', driver_version: '560.1', first_seen: new Date(5000), last_seen: new Date(30_000) },
    ]);
  });
  it('records each configuration of a GPU once in gpu_device_configs, from the reading that first showed it; a replay or late data adds nothing', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    const upgraded = (time: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...sample('GPU-h', time), driver_version: '560.1', ...extra });
    const batch = [sample('GPU-h', 10_000), sample('GPU-h', 20_000), upgraded(30_000), upgraded(40_000, { hostname: 'h2', power_limit_w: 500 })];
    expect(await writer.write(batch, (r) => r)).toMatchObject({ inserted: 4, duplicates: 0 });
    expect(await writer.write([...batch, sample('GPU-h', 25_000), upgraded(50_000, { hostname: 'h2', power_limit_w: 500 })], (r) => r))
      .toMatchObject({ inserted: 2, duplicates: 4 });
    const history = await pool.query(`SELECT extract(epoch FROM valid_from)::int AS from_s, extract(epoch FROM valid_to)::int AS to_s,
                                             hostname, driver_version, power_limit_w FROM gpu_device_history WHERE gpu_uuid = 'GPU-h' ORDER BY valid_from`);
    expect(history.rows).toEqual([
      { from_s: 10, to_s: 30, hostname: 'h1', driver_version: '550.54', power_limit_w: null },
      { from_s: 30, to_s: 40, hostname: 'h1', driver_version: '560.1', power_limit_w: null },
      { from_s: 40, to_s: null, hostname: 'h2', driver_version: '560.1', power_limit_w: 500 },
    ]);
    const device = await pool.query(`SELECT hostname, driver_version, power_limit_w FROM gpu_devices WHERE gpu_uuid = 'GPU-h'`);
    expect(device.rows).toEqual([{ hostname: 'h2', driver_version: '560.1', power_limit_w: 500 }]);
    const stored = await pool.query(`SELECT * FROM gpu_samples WHERE gpu_uuid = 'GPU-h' LIMIT 1`);
    expect(Object.keys(stored.rows[0]).filter((c) => ['hostname', 'serial', 'driver_version', 'power_limit_w', 'features'].includes(c))).toEqual([]);
  });

  it('writes the workloads of samples to gpu_workloads and gpu_workload_samples in the same transaction; a replay adds nothing', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    const batch = [
      attributed('GPU-w1', 20_000, [job('42', { user: 'bob' }), pod('train-0')]),
      attributed('GPU-w1', 10_000, [job('42')]),
      attributed('GPU-w2', 10_000, [pod('train-0', { pids: [7, 8], used_memory_mib: 2048, device_uuid: 'MIG-a', gpu_instance_id: 1 })]),
      { ...sample('GPU-w3', 10_000), workloads: null, processes: null },
    ];
    expect(await writer.write(batch, (r) => r)).toMatchObject({ inserted: 4, duplicates: 0 });
    expect(await writer.write([...batch, attributed('GPU-w1', 5000, [job('42', { user: null })])], (r) => r)).toMatchObject({ inserted: 1, duplicates: 4 });

    const workloads = await pool.query(
      'SELECT workload_id, kind, namespace, pod, job_id, job_user, source, first_seen, last_seen FROM gpu_workloads ORDER BY workload_id');
    expect(workloads.rows).toEqual([
      { workload_id: 'k8s:team-a/train-0/main', kind: 'KUBERNETES_POD', namespace: 'team-a', pod: 'train-0', job_id: null, job_user: null,
        source: 'pod-resources', first_seen: new Date(10_000), last_seen: new Date(20_000) },
      { workload_id: 'slurm:42', kind: 'SLURM_JOB', namespace: null, pod: null, job_id: '42', job_user: 'bob', source: 'slurm-job-map',
        first_seen: new Date(5000), last_seen: new Date(20_000) },
    ]);
    const sightings = await pool.query(`SELECT gpu_uuid, extract(epoch FROM time)::int AS s, workload_id, device_uuid, gpu_instance_id, pids, used_memory_mib
                                          FROM gpu_workload_samples ORDER BY gpu_uuid, time, workload_id`);
    expect(sightings.rows).toEqual([
      { gpu_uuid: 'GPU-w1', s: 5, workload_id: 'slurm:42', device_uuid: null, gpu_instance_id: null, pids: [4242], used_memory_mib: 1024 },
      { gpu_uuid: 'GPU-w1', s: 10, workload_id: 'slurm:42', device_uuid: null, gpu_instance_id: null, pids: [4242], used_memory_mib: 1024 },
      { gpu_uuid: 'GPU-w1', s: 20, workload_id: 'k8s:team-a/train-0/main', device_uuid: null, gpu_instance_id: null, pids: [], used_memory_mib: null },
      { gpu_uuid: 'GPU-w1', s: 20, workload_id: 'slurm:42', device_uuid: null, gpu_instance_id: null, pids: [4242], used_memory_mib: 1024 },
      { gpu_uuid: 'GPU-w2', s: 10, workload_id: 'k8s:team-a/train-0/main', device_uuid: 'MIG-a', gpu_instance_id: 1, pids: [7, 8], used_memory_mib: 2048 },
    ]);
    const stored = await pool.query(`SELECT processes, attribution_problems FROM gpu_samples WHERE gpu_uuid IN ('GPU-w1', 'GPU-w3') ORDER BY gpu_uuid, time DESC LIMIT 2`);
    expect(stored.rows[0].processes).toEqual([{ pid: 4242, type: 'C', name: 'python', used_memory_mib: 1024, gpu_instance_id: null, compute_instance_id: null, workload_id: 'slurm:42' }]);
    expect(stored.rows[0].attribution_problems).toEqual(['pid 7: exited before /proc was read']);
  });

  it('writes the workload parts of economics to gpu_workload_costs, the unattributed part included; a replay adds nothing', async () => {
    const writer = new TableWriter(pool, tableOf('economics'), alongsideOf('economics'));
    const batch = [
      economics('GPU-c1', 10_000, [part('slurm:42', 'ml', 0.5), part('k8s:team-a/train-0/main', 'team-a', 0.25), part(null, 'unattributed', 0.25)]),
      economics('GPU-c1', 20_000, []),
    ];
    expect(await writer.write(batch, (r) => r)).toMatchObject({ inserted: 2, duplicates: 0 });
    expect(await writer.write(batch, (r) => r)).toMatchObject({ inserted: 0, duplicates: 2 });
    const parts = await pool.query(`SELECT workload_id, team, share, allocated_cost_micros::int AS allocated, idle_cost_micros::int AS idle, currency, interval_s
                                      FROM gpu_workload_costs WHERE gpu_uuid = 'GPU-c1' ORDER BY share DESC, workload_id NULLS LAST`);
    expect(parts.rows).toEqual([
      { workload_id: 'slurm:42', team: 'ml', share: 0.5, allocated: 1500, idle: 600, currency: 'USD', interval_s: 10 },
      { workload_id: 'k8s:team-a/train-0/main', team: 'team-a', share: 0.25, allocated: 750, idle: 300, currency: 'USD', interval_s: 10 },
      { workload_id: null, team: 'unattributed', share: 0.25, allocated: 750, idle: 300, currency: 'USD', interval_s: 10 },
    ]);
  });

  it('adds nothing and raises nothing when samples are replayed into a compressed chunk (community edition)', async (context) => {
    const skip = communityOnlyReason(await readTimescaleEdition(pool));
    if (skip !== undefined) context.skip(skip);
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    const first = Array.from({ length: 20 }, (_, i) => attributed('GPU-sc', 7_000_000 + i * 1000, [job('77')]));
    expect(await writer.write(first, (r) => r)).toMatchObject({ inserted: 20, duplicates: 0, rejected: [] });
    for (const table of ['gpu_samples', 'gpu_workload_samples']) {
      const compressed = await pool.query(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('${table}') c`);
      expect(compressed.rowCount).toBeGreaterThan(0);
    }
    const replay = [...first, attributed('GPU-sc', 7_020_000, [job('77')])];
    expect(await writer.write(replay, (r) => r)).toEqual({ inserted: 1, duplicates: 20, rejected: [] });
    expect(await count(`gpu_samples WHERE gpu_uuid = 'GPU-sc'`)).toBe(21);
    expect(await count(`gpu_workload_samples WHERE gpu_uuid = 'GPU-sc'`)).toBe(21);
  });

  it('returns a record whose child row the database refuses, named by the child table, and writes the rest with theirs', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    const rows = Array.from({ length: 6 }, (_, i) => attributed('GPU-r1', 100_000 + i * 1000, [job(`9${i}`, i === 4 ? { device_uuid: 'MIG-\u0000' } : {})]));
    const result = await writer.write(rows, (r) => r);
    expect([result.inserted, result.duplicates]).toEqual([5, 0]);
    expect(result.rejected.map((r) => [r.item.time, r.error.code])).toEqual([[104_000, 'database_rejected']]);
    expect(result.rejected[0]!.error.message).toMatch(/^gpu_workload_samples: SQLSTATE 22021: /);
    expect(await count(`gpu_samples WHERE gpu_uuid = 'GPU-r1'`)).toBe(5);
    expect(await count(`gpu_workload_samples WHERE gpu_uuid = 'GPU-r1'`)).toBe(5);
    expect(await count(`gpu_workloads WHERE workload_id = 'slurm:94'`)).toBe(0);
  });

  it('leaves out dimension rows that would only move last_seen on by less than LAST_SEEN_LAG_MS, and writes a change at once', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    const at = 300_000;
    const inventory = async (): Promise<unknown[]> => (await pool.query(
      `SELECT d.driver_version, d.first_seen AS device_first, d.last_seen AS device_last, w.job_user, w.first_seen AS job_first, w.last_seen AS job_last
         FROM gpu_devices d, gpu_workloads w WHERE d.gpu_uuid = 'GPU-lag' AND w.workload_id = 'slurm:lag'`)).rows;
    const row = (driver: string, user: string, first: number, last: number): unknown => ({
      driver_version: driver, device_first: new Date(first), device_last: new Date(last), job_user: user, job_first: new Date(first), job_last: new Date(last),
    });
    await writer.write([attributed('GPU-lag', at, [job('lag')])], (r) => r);
    await writer.write([attributed('GPU-lag', at + LAST_SEEN_LAG_MS - 1000, [job('lag')])], (r) => r);
    expect(await inventory()).toEqual([row('550.54', 'alice', at, at)]);
    await writer.write([{ ...attributed('GPU-lag', at + 2000, [job('lag', { user: 'carol' })]), driver_version: '560.1' }], (r) => r);
    expect(await inventory()).toEqual([row('560.1', 'carol', at, at + 2000)]);
    await writer.write([{ ...attributed('GPU-lag', at + 2000 + LAST_SEEN_LAG_MS, [job('lag', { user: 'carol' })]), driver_version: '560.1' }], (r) => r);
    expect(await inventory()).toEqual([row('560.1', 'carol', at, at + 2000 + LAST_SEEN_LAG_MS)]);
    await writer.write([{ ...attributed('GPU-lag', at - 1000, [job('lag', { user: 'carol' })]), driver_version: '560.1' }], (r) => r);
    expect(await inventory()).toEqual([row('560.1', 'carol', at - 1000, at + 2000 + LAST_SEEN_LAG_MS)]);
  });

  it('checks a configuration it confirmed again only after LAST_SEEN_LAG_MS of sample time: one another sink wrote meanwhile shows that long', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    const at = 400_000;
    await writer.write([sample('GPU-cf', at)], (r) => r);
    await pool.query(`INSERT INTO gpu_device_configs (gpu_uuid, valid_from, hostname) VALUES ('GPU-cf', $1, 'elsewhere')`, [new Date(at + 1000)]);
    const history = async (): Promise<unknown[]> => (await pool.query(
      `SELECT extract(epoch FROM valid_from)::int AS from_s, hostname FROM gpu_device_configs WHERE gpu_uuid = 'GPU-cf' ORDER BY valid_from`)).rows;
    await writer.write([sample('GPU-cf', at + 2000)], (r) => r);
    expect(await history()).toEqual([{ from_s: 400, hostname: 'h1' }, { from_s: 401, hostname: 'elsewhere' }]);
    await writer.write([sample('GPU-cf', at + LAST_SEEN_LAG_MS)], (r) => r);
    expect(await history()).toEqual([{ from_s: 400, hostname: 'h1' }, { from_s: 401, hostname: 'elsewhere' }, { from_s: 460, hostname: 'h1' }]);
  });

  it('records a configuration that changes back within one batch, to the one in effect before the batch, and judges late data in between', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    const upgraded = (time: number): Record<string, unknown> => ({ ...sample('GPU-back', time), driver_version: '560.1' });
    await writer.write([sample('GPU-back', 600_000)], (r) => r);
    await writer.write([sample('GPU-back', 601_000), upgraded(602_000), sample('GPU-back', 604_000)], (r) => r);
    const history = async (): Promise<unknown[]> => (await pool.query(
      `SELECT extract(epoch FROM valid_from)::int AS from_s, driver_version FROM gpu_device_configs WHERE gpu_uuid = 'GPU-back' ORDER BY valid_from`)).rows;
    expect(await history()).toEqual([{ from_s: 600, driver_version: '550.54' }, { from_s: 602, driver_version: '560.1' }, { from_s: 604, driver_version: '550.54' }]);
    // A late reading while the upgrade was in effect: the database judges it, though the sink confirmed the same configuration before and after.
    await writer.write([sample('GPU-back', 603_000)], (r) => r);
    expect(await history()).toEqual([
      { from_s: 600, driver_version: '550.54' }, { from_s: 602, driver_version: '560.1' }, { from_s: 603, driver_version: '550.54' }, { from_s: 604, driver_version: '550.54' },
    ]);
  });

  it('remembers dimension rows only once their transaction commits: after a batch the database refused, the next one writes them', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), alongsideOf('samples'));
    const refused = await writer.write([attributed('GPU-rb', 500_000, [job('rb', { device_uuid: 'MIG-\u0000' })])], (r) => r);
    expect(refused.rejected.map((r) => r.error.message)).toEqual([expect.stringMatching(/^gpu_workload_samples: SQLSTATE 22021: /)]);
    expect(await count(`gpu_devices WHERE gpu_uuid = 'GPU-rb'`)).toBe(0);
    await writer.write([attributed('GPU-rb', 501_000, [job('rb')])], (r) => r);
    const written = await pool.query(`SELECT d.first_seen, d.last_seen, w.last_seen AS job_last, (SELECT count(*)::int FROM gpu_device_configs c WHERE c.gpu_uuid = d.gpu_uuid) AS configs
                                        FROM gpu_devices d, gpu_workloads w WHERE d.gpu_uuid = 'GPU-rb' AND w.workload_id = 'slurm:rb'`);
    expect(written.rows).toEqual([{ first_seen: new Date(501_000), last_seen: new Date(501_000), job_last: new Date(501_000), configs: 1 }]);
  });

  it('gives up a COPY blocked on a lock after the statement timeout, as a pause to retry, not as rows to dead-letter', async () => {
    const timed = createPool(scratch, 1, 300);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE gpu_health IN ACCESS EXCLUSIVE MODE');
      const writer = new TableWriter(timed, tableOf('health'));
      const failure = await writer.write([health('GPU-lock', 0)], (r) => r).then(() => undefined, (error: unknown) => error);
      expect(failure).toMatchObject({ code: 'database_unavailable', retriable: true, reason: 'database_timeout' });
      expect((failure as Error).message).toMatch(/^gpu_health: SQLSTATE 57014: canceling statement due to statement timeout/);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await timed.end();
    }
    expect(await count(`gpu_health WHERE gpu_uuid = 'GPU-lock'`)).toBe(0);
  });
});
