import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  '0012_slowdown_margin', '0013_attribution', '0014_lean_rows', '0015_rollups', '0016_cost_rollup_fault_rows',
  '0017_ingest_indexes',
];

/** Sample fields stored nowhere (0014): the rolling-window features, a function of the readings. */
const UNSTORED_FIELDS: Partial<Record<Stream, string[]>> = { samples: ['features'] };

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
/** gpu_samples and the GPU's description hold readings in narrower types (0014): real for double, smallint for int. */
const LEAN_TYPES: Record<string, string> = { ...SQL_TYPES, double: 'real', int: 'smallint' };
const LEAN_TABLES = new Set(['gpu_samples', 'gpu_device_configs']);

function expectedColumn(type: AvroType, types = SQL_TYPES): { type: string; nullable: boolean } {
  if (Array.isArray(type)) return { type: expectedColumn(type.find((t) => t !== 'null')!, types).type, nullable: type.includes('null') };
  if (typeof type === 'string') return { type: types[type] ?? 'text', nullable: false };
  if ('logicalType' in type) return { type: 'timestamp with time zone', nullable: false };
  return { type: type.type === 'enum' ? 'text' : 'jsonb', nullable: false };
}

const columnsOf = (table: string): Promise<Array<{ column_name: string; data_type: string; is_nullable: string }>> => withClient(scratch, async (c) => (await c.query(
  `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table])).rows);

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
    const hypertable = await withClient(scratch, async (c) =>
      (await c.query(`SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1`, [table])).rowCount);
    expect(hypertable).toBe(1);
    const elsewhere = new Set([...Object.keys(CHILD_TABLE_FIELDS[stream] ?? {}), ...(UNSTORED_FIELDS[stream] ?? [])]);
    if (stream === 'samples') for (const column of (await columnsOf('gpu_device_configs')).slice(2)) elsewhere.add(column.column_name);
    expect(await columnsOf(table)).toEqual(schemaOf(stream).fields.filter((f) => !elsewhere.has(f.name)).map((f) => {
      const expected = expectedColumn(f.type, LEAN_TABLES.has(table) ? LEAN_TYPES : SQL_TYPES);
      return { column_name: f.name, data_type: expected.type, is_nullable: expected.nullable ? 'YES' : 'NO' };
    }));
  });

  it('keep what a sample says about its GPU in gpu_device_configs (each change) and gpu_devices (the latest), in the readings\' types', async () => {
    const configs = await columnsOf('gpu_device_configs');
    const fields = new Map(schemaOf('samples').fields.map((f) => [f.name, f.type]));
    expect(configs.slice(0, 2).map((c) => c.column_name)).toEqual(['gpu_uuid', 'valid_from']);
    for (const column of configs.slice(2)) {
      expect(fields.has(column.column_name), column.column_name).toBe(true);
      expect(column.data_type, column.column_name).toBe(expectedColumn(fields.get(column.column_name)!, LEAN_TYPES).type);
    }
    expect(configs.map((c) => c.column_name)).toEqual(expect.arrayContaining(['hostname', 'serial', 'product_name', 'driver_version', 'power_limit_w']));
    const devices = new Set((await columnsOf('gpu_devices')).map((c) => c.column_name));
    expect(configs.map((c) => c.column_name).filter((c) => c !== 'valid_from' && !devices.has(c))).toEqual([]);
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

  it('index each per-sample enriched table by its key and time only, the failing health rows apart, and costs per workload (0017)', async () => {
    const indexes = await withClient(scratch, async (c) => (await c.query(
      `SELECT tablename, indexname FROM pg_indexes WHERE tablename IN ('gpu_health', 'gpu_predictions', 'gpu_economics', 'gpu_workload_costs') ORDER BY 1, 2`)).rows);
    expect(indexes).toEqual([
      { tablename: 'gpu_economics', indexname: 'gpu_economics_key' }, { tablename: 'gpu_economics', indexname: 'gpu_economics_time_idx' },
      { tablename: 'gpu_health', indexname: 'gpu_health_failing_time' }, { tablename: 'gpu_health', indexname: 'gpu_health_key' },
      { tablename: 'gpu_health', indexname: 'gpu_health_time_idx' },
      { tablename: 'gpu_predictions', indexname: 'gpu_predictions_key' }, { tablename: 'gpu_predictions', indexname: 'gpu_predictions_time_idx' },
      { tablename: 'gpu_workload_costs', indexname: 'gpu_workload_costs_key' }, { tablename: 'gpu_workload_costs', indexname: 'gpu_workload_costs_time_idx' },
      { tablename: 'gpu_workload_costs', indexname: 'gpu_workload_costs_workload_time' },
    ]);
    // A chunk to plan over, rolled back.
    const plan = await withClient(scratch, async (c) => {
      await c.query('BEGIN');
      try {
        await c.query(`INSERT INTO gpu_health (time, gpu_uuid, hostname, score, verdict, thermal_power, memory, pcie, nvlink, driver, reasons)
                       VALUES (now(), 'GPU-1', 'h1', 40, 'FAIL', 'FAIL', 'PASS', 'PASS', 'PASS', 'PASS', '[]')`);
        await c.query('SET LOCAL enable_seqscan = off');
        return (await c.query(`EXPLAIN SELECT * FROM gpu_health WHERE verdict IN ('WARN', 'FAIL') AND time > now() - INTERVAL '1 hour'`)).rows
          .map((r) => r['QUERY PLAN'] as string).join('\n');
      } finally {
        await c.query('ROLLBACK');
      }
    });
    expect(plan).toContain('gpu_health_failing_time');
  });

  it('leave no object without the gpu_ prefix, chunks and data included', async () => {
    await withClient(scratch, (c) =>
      c.query(`INSERT INTO gpu_health (time, gpu_uuid, hostname, score, verdict, thermal_power, memory, pcie, nvlink, driver, reasons)
               VALUES (now(), 'GPU-x', 'h', 100, 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', '[]')`),
    );
    expect(await withClient(scratch, listUnprefixedObjects)).toEqual([]);
  });

  it('apply on several databases of one server at once (their shared catalogs race: the loser applies its files again)', async () => {
    const databases = Array.from({ length: 4 }, () => scratchDatabase());
    await Promise.all(databases.map((d) => d.create()));
    try {
      const applied = await Promise.all(databases.map((d) => migrate(d.settings, log)));
      for (const names of applied) expect(names.map((m) => m.name)).toEqual(ALL);
    } finally {
      await Promise.all(databases.map((d) => d.drop()));
    }
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

  it('move a database migrated to 0013, rows included, to lean rows: every reading kept, each GPU\'s description in its history', async () => {
    const old = scratchDatabase();
    const dir = mkdtempSync(`${tmpdir()}/gpumon-migrations-`);
    await old.create();
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      for (const later of readdirSync(dir).filter((file) => file > '0014')) rmSync(`${dir}/${later}`);
      await migrate(old.settings, log, `${dir}/`);
      await withClient(old.settings, async (c) => {
        // Rows of two hours ago: within every retention, so no policy job drops them mid-test.
        const sample = (gpu: string, minute: number, host: string, driver: string, utilization: number): string =>
          `(date_trunc('hour', now()) - INTERVAL '2 hours' + INTERVAL '${minute} minutes', '${gpu}', '${host}', 'SIMULATOR', 'S-${gpu}', 'NVIDIA H100', '${driver}', 700, ${utilization},
            '[]', '[]', '{"history_s": 60}')`;
        await c.query(`INSERT INTO gpu_samples (time, gpu_uuid, hostname, source, serial, product_name, driver_version, power_limit_w,
                                                utilization_gpu_pct, mig_instances, xid_events, features) VALUES
          ${[sample('GPU-1', 0, 'h1', '550', 10), sample('GPU-1', 1, 'h1', '550', 20), sample('GPU-1', 2, 'h1', '560', 30.5),
             sample('GPU-1', 3, 'h2', '560', 40), sample('GPU-2', 0, 'h1', '550', 50)].join(', ')}`);
        await c.query(`INSERT INTO gpu_devices (gpu_uuid, serial, product_name, hostname, driver_version, first_seen, last_seen)
                       VALUES ('GPU-1', 'S-GPU-1', 'NVIDIA H100', 'h2', '560', now() - INTERVAL '2 hours', now() - INTERVAL '1 hour'),
                              ('GPU-2', 'S-GPU-2', 'NVIDIA H100', 'h1', '550', now() - INTERVAL '2 hours', now() - INTERVAL '1 hour')`);
      });
      expect((await migrate(old.settings, log)).map((m) => m.name)).toEqual(['0014_lean_rows', '0015_rollups', '0016_cost_rollup_fault_rows', '0017_ingest_indexes']);
      await withClient(old.settings, async (c) => {
        const samples = await c.query(`SELECT gpu_uuid, extract(minute FROM time)::int AS minute, utilization_gpu_pct FROM gpu_samples ORDER BY 1, 2`);
        expect(samples.rows).toEqual([
          { gpu_uuid: 'GPU-1', minute: 0, utilization_gpu_pct: 10 }, { gpu_uuid: 'GPU-1', minute: 1, utilization_gpu_pct: 20 },
          { gpu_uuid: 'GPU-1', minute: 2, utilization_gpu_pct: 30.5 }, { gpu_uuid: 'GPU-1', minute: 3, utilization_gpu_pct: 40 },
          { gpu_uuid: 'GPU-2', minute: 0, utilization_gpu_pct: 50 },
        ]);
        const history = await c.query(`SELECT gpu_uuid, extract(minute FROM valid_from)::int AS from_m, extract(minute FROM valid_to)::int AS to_m,
                                              hostname, driver_version, power_limit_w FROM gpu_device_history ORDER BY 1, 2`);
        expect(history.rows).toEqual([
          { gpu_uuid: 'GPU-1', from_m: 0, to_m: 2, hostname: 'h1', driver_version: '550', power_limit_w: 700 },
          { gpu_uuid: 'GPU-1', from_m: 2, to_m: 3, hostname: 'h1', driver_version: '560', power_limit_w: 700 },
          { gpu_uuid: 'GPU-1', from_m: 3, to_m: null, hostname: 'h2', driver_version: '560', power_limit_w: 700 },
          { gpu_uuid: 'GPU-2', from_m: 0, to_m: null, hostname: 'h1', driver_version: '550', power_limit_w: 700 },
        ]);
        const devices = await c.query(`SELECT gpu_uuid, hostname, source, power_limit_w FROM gpu_devices ORDER BY 1`);
        expect(devices.rows).toEqual([
          { gpu_uuid: 'GPU-1', hostname: 'h2', source: 'SIMULATOR', power_limit_w: 700 },
          { gpu_uuid: 'GPU-2', hostname: 'h1', source: 'SIMULATOR', power_limit_w: 700 },
        ]);
        const events = await c.query(`SELECT gpu_uuid, hostname, samples::int FROM gpu_samples_hourly ORDER BY 1`);
        expect(events.rows).toEqual([{ gpu_uuid: 'GPU-1', hostname: 'h2', samples: 4 }, { gpu_uuid: 'GPU-2', hostname: 'h1', samples: 1 }]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await old.drop();
    }
  });
});
