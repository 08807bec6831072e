import type pg from 'pg';
import { expect } from 'vitest';
import type { Stream } from '@gpumon/schemas/topics';
import { eventually } from '../cli-process.js';
import { TABLES } from '../records.js';

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

/** Rows of `table` whose hostname matches `hosts` (a LIKE pattern). */
export async function countRows(db: Database, table: string, hosts: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE hostname LIKE $1`, [hosts]);
  return rows[0]!.n;
}

/** Counts `table`'s rows of `hosts` against the records `expected` there. */
export async function tallyTable(db: Database, table: string, hosts: string, expected: readonly unknown[]): Promise<TableTally> {
  const columns = await keyColumns(db, table);
  // Times compare as epoch milliseconds: a record carries them so, node-postgres returns a Date.
  const keyOf = (record: Record<string, unknown>): string =>
    JSON.stringify(columns.map((c) => (record[c] instanceof Date ? record[c].getTime() : record[c])));
  const { rows } = await db.query<Record<string, unknown>>(`SELECT ${columns.join(', ')} FROM ${table} WHERE hostname LIKE $1`, [hosts]);
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

/** tallyTable for every table the sink writes, each against its stream's records in `expected`. */
export async function tallyTables(db: Database, hosts: string, expected: ReadonlyMap<Stream, readonly unknown[]>): Promise<TableTally[]> {
  return Promise.all(TABLES.map(([stream, table]) => tallyTable(db, table, hosts, expected.get(stream) ?? [])));
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
 * missing 0`), then asserts that every table holds each produced record exactly once, and nothing else.
 */
export function expectEachRecordOnce(test: string, tallies: readonly TableTally[]): void {
  for (const t of tallies) console.log(`${test} ${t.table}: produced ${t.produced} written ${t.written} duplicates ${t.duplicates} missing ${t.missing}`);
  expect(tallies).toEqual(tallies.map((t) => ({ ...t, written: t.produced, duplicates: 0, missing: 0 })));
}

/** Deletes the rows of `hosts` from every table the sink writes, and from the GPU inventory. */
export async function removeRows(db: Database, hosts: string): Promise<void> {
  for (const table of [...TABLES.map(([, t]) => t), 'gpu_devices']) await db.query(`DELETE FROM ${table} WHERE hostname LIKE $1`, [hosts]);
}
