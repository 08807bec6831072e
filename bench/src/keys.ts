import { parseArgs } from 'node:util';
import type pg from 'pg';
import { migrate } from '@gpumon/migrations/migrate';
import { scratchDatabase } from '@gpumon/migrations/scratch-database';
import { createPool } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { childTablesOf } from '@gpumon/sink-timescaledb/child-tables';
import { TABLE_NAMES } from '@gpumon/sink-timescaledb/tables';
import { cpuSeconds } from './e2e/cpu.js';
import { table } from './measure.js';

/** The tables one sample reaches with every enrichment and attribution on: its row, verdict, prediction, economics, and its workloads' rows. */
const TABLES = [TABLE_NAMES.samples, TABLE_NAMES.health, TABLE_NAMES.predictions, TABLE_NAMES.economics,
  ...childTablesOf('samples').map((c) => c.name), ...childTablesOf('economics').map((c) => c.name)];

/**
 * The keys as migrated (text); `gpu_uuid` an integer (a surrogate key the GPU's UUID would map to);
 * and every text key an integer (`gpu_uuid`, the workloads' `workload_id` and `device_uuid`).
 */
const VARIANTS = ['text', 'gpu_int', 'all_int'] as const;
type Variant = typeof VARIANTS[number];
const INTEGER_KEYS: Record<Variant, readonly string[]> = { text: [], gpu_int: ['gpu_uuid'], all_int: ['gpu_uuid', 'workload_id', 'device_uuid'] };

const GPUS = 10_000;
/** Seconds of the fleet a statement writes: 50,000 samples, the rows of ten of the sink's 5,000-row writes per table. */
const BLOCK_S = 5;

const copyName = (variant: Variant, original: string): string => `gpu_bench_${variant}_${original.slice('gpu_'.length)}`;

interface Column { column_name: string; data_type: string }

/** A value for each column: the GPU key by variant, workloads from a pool of 3,000 names, realistic-length text, random numbers. */
function valueOf(column: Column, variant: Variant): string {
  const integer = INTEGER_KEYS[variant].includes(column.column_name);
  switch (column.column_name) {
    case 'time': return `timestamptz '2026-12-01' + make_interval(secs => s)`;
    case 'gpu_uuid': case 'device_uuid': return integer ? 'id' : 'uuid';
    case 'workload_id': return integer ? '(id % 3000)' : `'k8s/ml-team/train-job-' || (id % 3000)`;
    // gpu_health's partial index holds the rows that are not PASS: nearly none, as in a fleet.
    case 'verdict': return `'PASS'`;
    case 'gpu_instance_id': return 'NULL::integer';
  }
  switch (column.data_type) {
    case 'text': return `'host-' || (id / 8)`;
    case 'real': case 'double precision': return 'random()';
    case 'smallint': return '(random() * 100)::smallint';
    case 'integer': return '(random() * 100)::integer';
    case 'bigint': return '(random() * 1e6)::bigint';
    case 'boolean': return 'random() < 0.5';
    case 'jsonb': return `'[]'::jsonb`;
    default: throw new Error(`keys: no generated value for column ${column.column_name} of type ${column.data_type}`);
  }
}

interface Fill { insert: string; generateOnly: string }

/** Per table, the statement that writes seconds [$1, $2] of the fleet in time order, and the same rows generated and sorted without a write. */
async function fillStatements(pool: pg.Pool, variant: Variant, tables: readonly string[]): Promise<Fill[]> {
  const fills: Fill[] = [];
  for (const original of tables) {
    const { rows } = await pool.query<Column>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`, [original]);
    const names = rows.map((c) => `"${c.column_name}"`).join(', ');
    const select = `SELECT ${rows.map((c) => valueOf(c, variant)).join(', ')} FROM generate_series($1::integer, $2::integer) s, gpu_bench_gpus ORDER BY s, id`;
    fills.push({ insert: `INSERT INTO ${copyName(variant, original)} (${names}) ${select}`, generateOnly: `SELECT count(*) FROM (${select}) rows` });
  }
  return fills;
}

/** Empty copies of the tables, their chunk intervals and every index the migrations gave them, with the variant's keys integers. */
async function createCopies(pool: pg.Pool, variant: Variant, tables: readonly string[]): Promise<void> {
  for (const original of tables) {
    const copy = copyName(variant, original);
    await pool.query(`CREATE TABLE ${copy} (LIKE ${original} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    const { rows: columns } = await pool.query<{ name: string }>(
      `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND column_name = ANY($2)`,
      [copy, INTEGER_KEYS[variant]]);
    for (const { name } of columns) await pool.query(`ALTER TABLE ${copy} ALTER COLUMN ${name} TYPE integer USING 0`);
    const { rows: [dimension] } = await pool.query<{ interval: string }>(
      `SELECT time_interval::text AS interval FROM timescaledb_information.dimensions WHERE hypertable_name = $1`, [original]);
    await pool.query(`SELECT create_hypertable($1, by_range('time', $2::interval), create_default_indexes => false)`, [copy, dimension!.interval]);
    const { rows: indexes } = await pool.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1`, [original]);
    for (const { indexname, indexdef } of indexes) {
      await pool.query(indexdef.replace(` ${indexname} ON public.${original} `, ` gpu_bench_${variant}_${indexname.slice('gpu_'.length)} ON public.${copy} `));
    }
  }
}

async function backendPid(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]!.pid;
}

interface Round { variant: Variant; usPerSample: number; lastQuarterUsPerSample: number; walBytesPerSample: number; indexMb: number; heapMb: number }

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Writes `seconds` of the fleet into fresh copies, a block at a time, reading the backend's CPU
 * around each block; then drops them, so each round starts from the same database.
 */
async function runRound(pool: pg.Pool, variant: Variant, tables: readonly string[], seconds: number, generationUs: number): Promise<Round> {
  await createCopies(pool, variant, tables);
  const fills = await fillStatements(pool, variant, tables);
  const client = await pool.connect();
  try {
    const pid = await backendPid(client);
    const { rows: [walBefore] } = await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const perBlock: number[] = [];
    for (let s = 0; s < seconds; s += BLOCK_S) {
      const before = cpuSeconds(pid);
      for (const fill of fills) await client.query(fill.insert, [s, s + BLOCK_S - 1]);
      perBlock.push(((cpuSeconds(pid) - before) * 1e6) / (BLOCK_S * GPUS) - generationUs);
    }
    const { rows: [wal] } = await client.query<{ bytes: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn) AS bytes`, [walBefore!.lsn]);
    const { rows: [size] } = await client.query<{ index: string; heap: string }>(
      `SELECT sum(pg_indexes_size(c)) AS index, sum(pg_table_size(c)) AS heap FROM unnest($1::text[]) h, LATERAL show_chunks(h) c`,
      [tables.map((t) => copyName(variant, t))]);
    for (const original of tables) await client.query(`DROP TABLE ${copyName(variant, original)}`);
    return { variant, usPerSample: round1(mean(perBlock)), lastQuarterUsPerSample: round1(mean(perBlock.slice(-Math.max(1, Math.floor(perBlock.length / 4))))),
      walBytesPerSample: Math.round(Number(wal!.bytes) / (seconds * GPUS)), indexMb: Math.round(Number(size!.index) / 2 ** 20), heapMb: Math.round(Number(size!.heap) / 2 ** 20) };
  } finally {
    client.release();
  }
}

/** The backend's CPU µs a sample to generate and sort the rows of every table without writing them, subtracted from each variant's. */
async function generationCost(pool: pg.Pool, variant: Variant, tables: readonly string[]): Promise<number> {
  const fills = await fillStatements(pool, variant, tables);
  const client = await pool.connect();
  try {
    const pid = await backendPid(client);
    const before = cpuSeconds(pid);
    for (let s = 0; s < 4 * BLOCK_S; s += BLOCK_S) for (const fill of fills) await client.query(fill.generateOnly, [s, s + BLOCK_S - 1]);
    return ((cpuSeconds(pid) - before) * 1e6) / (4 * BLOCK_S * GPUS);
  } finally {
    client.release();
  }
}

const DESCRIPTION: Record<Variant, string> = { text: 'as migrated (text keys)', gpu_int: 'gpu_uuid integer', all_int: 'gpu_uuid, workload_id, device_uuid integers' };

/**
 * What text keys cost PostgreSQL. The tables a sample reaches (or those `--tables` names) are copied three times in a
 * scratch database, every index included: as migrated, with `gpu_uuid` an integer, and with every
 * text key an integer. Each copy is filled with `--seconds` of a 10,000-GPU fleet in time order,
 * the variants alternated (forward, then backward). Prints the backend's CPU µs a sample (the
 * generation of the rows subtracted), over the whole fill and its last quarter, the WAL a sample,
 * and the copies' sizes.
 */
export async function runKeysBench(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({ args, options: {
    seconds: { type: 'string', default: '100' }, rounds: { type: 'string', default: '2' }, tables: { type: 'string', default: TABLES.join(',') }, json: { type: 'string' },
  } });
  const tables = values.tables.split(',');
  const unknown = tables.filter((t) => !TABLES.includes(t));
  if (unknown.length > 0) throw new Error(`keys: --tables takes some of ${TABLES.join(', ')} (got ${values.tables})`);
  const seconds = Math.ceil(Number(values.seconds) / BLOCK_S) * BLOCK_S;
  const rounds = Number(values.rounds);
  if (!(seconds >= BLOCK_S && rounds >= 1)) throw new Error(`keys: --seconds must be at least ${BLOCK_S} and --rounds at least 1 (got ${values.seconds}, ${values.rounds})`);
  const scratch = scratchDatabase('bench');
  await scratch.create();
  const pool = createPool(scratch.settings, 2);
  try {
    await migrate(scratch.settings, createLogger('bench-migrate'));
    await pool.query(`CREATE TABLE gpu_bench_gpus AS SELECT g AS id, 'GPU-' || substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-'
      || substr(h, 17, 4) || '-' || substr(h, 21, 12) AS uuid FROM generate_series(1, ${GPUS}) g, LATERAL md5(g::text) h`);
    const generation = {} as Record<Variant, number>;
    for (const variant of VARIANTS) generation[variant] = round1(await generationCost(pool, variant, tables));
    console.log(`${tables.join(', ')}: ${GPUS} GPUs x ${seconds} s a round; generating the rows alone (subtracted below), µs a sample: ${JSON.stringify(generation)}`);
    const runs: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        runs.push(await runRound(pool, variant, tables, seconds, generation[variant]));
        console.log(JSON.stringify(runs.at(-1)));
      }
    }
    table(runs.map((r) => ({ keys: DESCRIPTION[r.variant], 'µs/sample': r.usPerSample, 'µs/sample, last quarter': r.lastQuarterUsPerSample,
      'WAL bytes/sample': r.walBytesPerSample, 'index MB': r.indexMb, 'heap MB': r.heapMb })));
    const meanOf = (variant: Variant, pick: (r: Round) => number): number => mean(runs.filter((r) => r.variant === variant).map(pick));
    const ratios = Object.fromEntries(VARIANTS.filter((v) => v !== 'text').map((v) => [v, {
      cpu: Math.round((meanOf(v, (r) => r.usPerSample) / meanOf('text', (r) => r.usPerSample)) * 100) / 100,
      cpu_last_quarter: Math.round((meanOf(v, (r) => r.lastQuarterUsPerSample) / meanOf('text', (r) => r.lastQuarterUsPerSample)) * 100) / 100,
      wal: Math.round((meanOf(v, (r) => r.walBytesPerSample) / meanOf('text', (r) => r.walBytesPerSample)) * 100) / 100,
    }]));
    for (const [variant, ratio] of Object.entries(ratios)) {
      console.log(`${DESCRIPTION[variant as Variant]} / as migrated: CPU a sample ${ratio.cpu} (last quarter ${ratio.cpu_last_quarter}), WAL ${ratio.wal}`);
    }
    return { gpus: GPUS, seconds, rounds, tables, generation_us_per_sample: generation, runs, ratios_to_text: ratios };
  } finally {
    await pool.end();
    await scratch.drop();
  }
}
