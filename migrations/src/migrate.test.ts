import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@gpumon/runtime/log';
import { schemaOf, type AvroType } from '@gpumon/schemas/avro';
import type { Stream } from '@gpumon/schemas/topics';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE, migrate } from './migrate.js';
import { listUnprefixedObjects } from './prefix-audit.js';
import { withClient } from '@gpumon/runtime/database';
import { communityOnlyReason, describeEdition, readTimescaleEdition } from '@gpumon/runtime/timescale-edition';
import { scratchDatabase } from './scratch-database.js';

/** Migrations are tested from zero in a database of their own, created and dropped by the test. */
const db = scratchDatabase();
const scratch = db.settings;
const log = createLogger('migrate-test');
const ALL = [
  '0001_timescaledb', '0002_samples', '0003_enriched', '0004_sample_features', '0005_intervals_prices_alerts', '0006_anomaly_key',
  '0007_chunks_retention', '0008_devices', '0009_views', '0010_roles', '0011_model_registry',
  '0012_slowdown_margin', '0013_attribution', '0015_rollups',
];

/**
 * Avro fields that are not columns of their stream's table: each element of these arrays is a row
 * of a child hypertable (and, for samples, a sighting in the gpu_workloads dimension), so pods and
 * jobs are rows referenced by workload_id, not strings repeated in every sample.
 */
const CHILD_TABLE_FIELDS: Partial<Record<Stream, Record<string, string>>> = {
  samples: { workloads: 'gpu_workload_samples' },
  economics: { workloads: 'gpu_workload_costs' },
};

beforeAll(() => db.create());
afterAll(() => db.drop());

const SQL_TYPES: Record<string, string> = {
  string: 'text', double: 'double precision', long: 'bigint', int: 'integer', boolean: 'boolean', bytes: 'bytea',
};

function expectedColumn(type: AvroType): { type: string; nullable: boolean } {
  if (Array.isArray(type)) return { type: expectedColumn(type.find((t) => t !== 'null')!).type, nullable: type.includes('null') };
  if (typeof type === 'string') return { type: SQL_TYPES[type] ?? 'text', nullable: false };
  if ('logicalType' in type) return { type: 'timestamp with time zone', nullable: false };
  return { type: type.type === 'enum' ? 'text' : 'jsonb', nullable: false };
}

describe('migrations', () => {
  it('apply from zero, then a second run is a no-op', async () => {
    const first = await migrate(scratch, log);
    expect(first.map((m) => m.name)).toEqual(ALL);
    expect(await migrate(scratch, log)).toEqual([]);
    const booked = await withClient(scratch, (c) => c.query(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`));
    expect(booked.rows.map((r) => r.name)).toEqual(ALL);
  });

  it.each<[Stream, string]>([
    ['samples', 'gpu_samples'], ['health', 'gpu_health'], ['anomalies', 'gpu_anomalies'],
    ['predictions', 'gpu_predictions'], ['economics', 'gpu_economics'], ['alerts', 'gpu_alerts'],
  ])('make %s a hypertable whose columns follow the Avro schema field by field', async (stream, table) => {
    const { columns, hypertable } = await withClient(scratch, async (c) => ({
      columns: (await c.query(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table],
      )).rows,
      hypertable: (await c.query(`SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1`, [table])).rowCount,
    }));
    expect(hypertable).toBe(1);
    const childFields = CHILD_TABLE_FIELDS[stream] ?? {};
    expect(columns).toEqual(schemaOf(stream).fields.filter((f) => !(f.name in childFields)).map((f) => {
      const expected = expectedColumn(f.type);
      return { column_name: f.name, data_type: expected.type, is_nullable: expected.nullable ? 'YES' : 'NO' };
    }));
  });

  it('name the server’s TimescaleDB edition and version, and why community-only steps skip on Apache', async () => {
    const { edition, license, version } = await withClient(scratch, async (c) => ({
      edition: await readTimescaleEdition(c),
      license: (await c.query(`SHOW timescaledb.license`)).rows[0]['timescaledb.license'] as string,
      version: (await c.query(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`)).rows[0].extversion as string,
    }));
    const name = license === 'apache' ? 'apache' : 'community';
    expect(edition).toEqual({ version, license, name });
    expect(describeEdition(edition)).toBe(`TimescaleDB ${version} (${name} edition)`);
    expect(communityOnlyReason(edition)).toBe(name === 'apache' ? `TimescaleDB ${version} (apache edition) has no compression, continuous aggregates or policies (they need the community edition)` : undefined);
    expect(communityOnlyReason({ ...edition, license: 'apache', name: 'apache' })).toMatch(/apache edition\) has no compression/);
  });

  it('make the child fields hypertables of their own whose key (nulls included) makes a replayed row add nothing', async () => {
    const { hypertables, inserted } = await withClient(scratch, async (c) => {
      const rows = [
        `INSERT INTO gpu_workload_samples VALUES (now(), 'GPU-1', 'slurm:42', NULL, NULL, '[]', NULL) ON CONFLICT DO NOTHING`,
        `INSERT INTO gpu_workload_costs VALUES (now(), 'GPU-1', NULL, 'unattributed', 1, 0.1, 100, 0, 100, 'USD', 10) ON CONFLICT DO NOTHING`,
      ];
      await c.query('BEGIN');
      const counts: number[] = [];
      // now() is the transaction's start: the second round repeats the first one's keys.
      for (const sql of [...rows, ...rows]) counts.push((await c.query(sql)).rowCount ?? -1);
      await c.query('ROLLBACK');
      return {
        hypertables: (await c.query(`SELECT hypertable_name FROM timescaledb_information.hypertables
                                      WHERE hypertable_name LIKE 'gpu\\_workload\\_%' ORDER BY 1`)).rows.map((r) => r.hypertable_name),
        inserted: counts,
      };
    });
    expect(hypertables).toEqual(Object.values(CHILD_TABLE_FIELDS).flatMap((fields) => Object.values(fields!)).sort());
    expect(inserted).toEqual([1, 1, 0, 0]);
  });

  it('keep pods and jobs in the gpu_workloads dimension, keyed by workload_id', async () => {
    const columns = await withClient(scratch, (c) => c.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'gpu_workloads' ORDER BY ordinal_position`));
    expect(columns.rows.map((r) => r.column_name)).toEqual([
      'workload_id', 'kind', 'cluster', 'namespace', 'pod', 'pod_uid', 'container', 'job_id', 'job_user', 'account', 'partition',
      'source', 'first_seen', 'last_seen',
    ]);
  });

  it('leave no object without the gpu_ prefix, chunks and data included', async () => {
    await withClient(scratch, (c) =>
      c.query(`INSERT INTO gpu_health (time, gpu_uuid, hostname, score, verdict, thermal_power, memory, pcie, nvlink, driver, reasons)
               VALUES (now(), 'GPU-x', 'h', 100, 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', '[]')`),
    );
    expect(await withClient(scratch, listUnprefixedObjects)).toEqual([]);
  });

  it('roll a failing migration back whole and name its file and statement', async () => {
    const dir = mkdtempSync(`${tmpdir()}/gpumon-migrations-`);
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      writeFileSync(`${dir}/0099_broken.sql`, [
        '-- Up Migration',
        'CREATE TABLE gpu_broken_first (id integer);',
        'CREATE INDEX gpu_broken_idx ON gpu_broken_first (no_such_column);',
        '',
      ].join('\n'));
      await expect(migrate(scratch, log, `${dir}/`)).rejects.toThrow(
        /migration 0099_broken\.sql failed and was rolled back: column "no_such_column" does not exist\n {2}statement: CREATE INDEX gpu_broken_idx ON gpu_broken_first \(no_such_column\);/,
      );
      const left = await withClient(scratch, (c) => c.query(`SELECT to_regclass('gpu_broken_first') AS t`));
      expect(left.rows[0].t).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
