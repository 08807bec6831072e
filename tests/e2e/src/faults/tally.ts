import type pg from 'pg';
import { expect } from 'vitest';
import type { Stream } from '@gpumon/schemas/topics';
import { childTablesOf } from '@gpumon/sink-timescaledb/child-tables';
import { eventually } from '../cli-process.js';
import { TABLES, ofHosts } from '../records.js';

/**
 * What a fault test counts in one table: the records that should have a row (`produced`), the
 * rows there are, rows beyond one per key, and records without a row. Rows are those of the
 * test's hosts, keyed by the table's own unique key.
 */
export interface TableTally {
  table: string;
  produced: number;
  written: number;
  duplicates: number;
  missing: number;
}

type Database = Pick<pg.Pool, 'query'>;

/** The columns of `table`'s unique key (each migration names it <table>_key), in index order: what "one row per record" means there. */
async function keyColumns(db: Database, table: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i
       JOIN pg_class k ON k.oid = i.indexrelid
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS c(attnum, position)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = c.attnum
      WHERE k.relname = $1
      ORDER BY c.position`, [`${table}_key`]);
  if (rows.length === 0) throw new Error(`${table} has no unique index ${table}_key`);
  return rows.map((r) => r.name);
}

/**
 * Every table the sink writes, with the rows a stream's record gives it and how its rows of some
 * hosts are found (ofHosts).
 */
const SINK_TABLES = TABLES.flatMap(([stream, table]) => [
  { stream, table, rowsOf: (record: Record<string, unknown>) => [record], ofHosts: ofHosts(table, 'LIKE $1') },
  ...childTablesOf(stream).map((child) => ({
    stream, table: child.name, rowsOf: child.rowsOf, ofHosts: ofHosts(child.name, 'LIKE $1'),
  })),
]);

/** Rows of `table` whose hostname matches `hosts` (a LIKE pattern). */
export async function countRows(db: Database, table: string, hosts: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [hosts]);
  return rows[0]!.n;
}

/** Counts `table`'s rows of `hosts` (found by the `ofHosts` condition) against the rows `expected` there. */
async function tallyTable(db: Database, table: string, condition: string, hosts: string, expected: readonly unknown[]): Promise<TableTally> {
  const columns = await keyColumns(db, table);
  // Times compare as epoch milliseconds: a record carries them so, node-postgres returns a Date.
  const keyOf = (record: Record<string, unknown>): string =>
    JSON.stringify(columns.map((c) => (record[c] instanceof Date ? record[c].getTime() : record[c])));
  const { rows } = await db.query<Record<string, unknown>>(`SELECT ${columns.join(', ')} FROM ${table} WHERE ${condition}`, [hosts]);
  const found = new Set(rows.map(keyOf));
  const wanted = new Set((expected as Array<Record<string, unknown>>).map(keyOf));
  return {
    table,
    produced: expected.length,
    written: rows.length,
    duplicates: rows.length - found.size,
    missing: [...wanted].filter((key) => !found.has(key)).length,
  };
}

/** tallyTable for every table the sink writes, each against the rows its stream's records in `expected` give it. */
export async function tallyTables(db: Database, hosts: string, expected: ReadonlyMap<Stream, readonly unknown[]>): Promise<TableTally[]> {
  return Promise.all(SINK_TABLES.map(({ stream, table, rowsOf, ofHosts: condition }) =>
    tallyTable(db, table, condition, hosts, ((expected.get(stream) ?? []) as Array<Record<string, unknown>>).flatMap(rowsOf))));
}

/**
 * Tallies once every expected record has its row (the pipeline has caught up), or when
 * `timeoutMs` has passed: then the tally shows what is missing.
 */
export async function tallyWhenCaughtUp(db: Database, hosts: string, expected: ReadonlyMap<Stream, readonly unknown[]>, timeoutMs = 180_000): Promise<TableTally[]> {
  const caughtUp = async (): Promise<TableTally[] | undefined> => {
    const tallies = await tallyTables(db, hosts, expected);
    return tallies.every((t) => t.missing === 0) ? tallies : undefined;
  };
  return eventually('every expected row written', caughtUp, timeoutMs).catch(() => tallyTables(db, hosts, expected));
}

/**
 * Prints one line per table (`faults/kill-9 gpu_samples: produced 960 written 960 duplicates 0
 * missing 0`), then asserts that every table holds each produced record exactly once, and nothing
 * else; when one does not, the failure carries what `diagnose` says (the stages' logs, say).
 */
export function expectEachRecordOnce(test: string, tallies: readonly TableTally[], diagnose?: () => string): void {
  for (const t of tallies) console.log(`${test} ${t.table}: produced ${t.produced} written ${t.written} duplicates ${t.duplicates} missing ${t.missing}`);
  const exact = tallies.map((t) => ({ ...t, written: t.produced, duplicates: 0, missing: 0 }));
  expect(tallies, JSON.stringify(tallies) === JSON.stringify(exact) ? undefined : diagnose?.()).toEqual(exact);
}

/** Deletes the rows of `hosts` from every table the sink writes, the workloads seen on them, and their GPUs from the inventory (last: it finds the others' rows). */
export async function removeRows(db: Database, hosts: string): Promise<void> {
  await db.query(`DELETE FROM gpu_workloads WHERE workload_id IN (SELECT workload_id FROM gpu_workload_samples WHERE ${SINK_TABLES.find((t) => t.table === 'gpu_workload_samples')!.ofHosts})`, [hosts]);
  for (const { table, ofHosts: condition } of SINK_TABLES) await db.query(`DELETE FROM ${table} WHERE ${condition}`, [hosts]);
  for (const table of ['gpu_device_configs', 'gpu_devices']) await db.query(`DELETE FROM ${table} WHERE hostname LIKE $1`, [hosts]);
}
