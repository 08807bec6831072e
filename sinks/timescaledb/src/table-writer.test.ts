import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '@gpumon/migrations/migrate';
import { scratchDatabase } from '@gpumon/migrations/scratch-database';
import { createPool } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { upsertDevices } from './devices.js';
import { TableWriter } from './table-writer.js';
import { tableOf } from './tables.js';

/** The writer on a real TimescaleDB: a scratch database of its own, migrated from zero, dropped after. */
const database = scratchDatabase();
const scratch = database.settings;
let pool: pg.Pool;

beforeAll(async () => {
  await database.create();
  await migrate(scratch, createLogger('table-writer-test'));
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
  mig_instances: [], xid_events: [], gpu_lost: lost,
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

  it('writes the rest of a batch and returns the one row the database refuses, with its SQLSTATE', async () => {
    const writer = new TableWriter(pool, tableOf('health'));
    const rows = Array.from({ length: 20 }, (_, i) => health('GPU-2', i * 1000, i === 13 ? { hostname: 'bad\u0000host' } : {}));
    const result = await writer.write(rows, (r) => r);
    expect([result.inserted, result.duplicates]).toEqual([19, 0]);
    expect(result.rejected.map((r) => [r.item.time, r.error.code, r.error.retriable])).toEqual([[13_000, 'database_rejected', false]]);
    expect(result.rejected[0]!.error.message).toMatch(/^gpu_health: SQLSTATE 22021: /);
  });

  it('keeps gpu_devices up to date from samples in the same transaction', async () => {
    const writer = new TableWriter(pool, tableOf('samples'), upsertDevices);
    await writer.write([sample('GPU-new', 20_000), sample('GPU-new', 10_000)], (r) => r);
    await writer.write([sample('GPU-new', 5000), sample('GPU-new', 60_000, true), sample('GPU-gone', 70_000, true)], (r) => r);
    await writer.write([{ ...sample('GPU-new', 30_000), driver_version: '560.1', serial: null }], (r) => r);
    const rows = await pool.query('SELECT gpu_uuid, serial, driver_version, first_seen, last_seen FROM gpu_devices ORDER BY gpu_uuid');
    expect(rows.rows).toEqual([
      { gpu_uuid: 'GPU-gone', serial: 'S-GPU-gone', driver_version: '550.54', first_seen: new Date(70_000), last_seen: new Date(70_000) },
      { gpu_uuid: 'GPU-new', serial: 'S-GPU-new', driver_version: '560.1', first_seen: new Date(5000), last_seen: new Date(30_000) },
    ]);
  });
});
