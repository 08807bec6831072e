import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { GpumonError } from '@gpumon/runtime/errors';
import { columnEncoding, columnTypes, copyBinary, sessionBuffer } from './copy-binary.js';
import { classify, sqlState } from './database-errors.js';
import type { Column, Table } from './tables.js';

export interface Rejected<T> {
  item: T;
  error: GpumonError;
}

export interface WriteResult<T> {
  inserted: number;
  duplicates: number;
  rejected: Array<Rejected<T>>;
}

/** What a step does once its batch's transaction has committed, and never after a rollback: e.g. remember what it wrote. */
export type AfterCommit = () => void;

/** More work in the transaction of a batch's rows: the dimensions and child tables the records feed. */
export type Alongside = (client: pg.PoolClient, records: ReadonlyArray<Record<string, unknown>>) => Promise<AfterCommit | undefined>;

/** A table COPY writes into: its name and the columns the rows give, in order. */
export interface CopyTarget {
  name: string;
  columns: readonly Column[];
}

const UNIQUE_VIOLATION = '23505';

/**
 * COPYs rows into `target` in the caller's transaction, each row once. Fast path: COPY straight
 * into the table. A replayed row breaks the table's unique key (23505); then the rows go again
 * through a session-local staging table and one INSERT … ON CONFLICT DO NOTHING, which skips what
 * is already there. Returns the rows inserted.
 */
export async function copyOnce(client: pg.PoolClient, target: CopyTarget, rows: ReadonlyArray<Record<string, unknown>>): Promise<number> {
  const encoding = columnEncoding(target.columns, await columnTypes(client, target.name, target.columns));
  // The session's buffer: this COPY (and the staging one) are done with it when copyOnce returns.
  const data = copyBinary(rows, encoding, sessionBuffer(client));
  const columnList = target.columns.map((c) => `"${c.name}"`).join(', ');
  try {
    await client.query('SAVEPOINT fast');
    return await copy(client, target.name, columnList, data);
  } catch (error) {
    if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
    await client.query('ROLLBACK TO SAVEPOINT fast');
  }
  const stage = `gpu_stage_${target.name.replace(/^gpu_/, '')}`;
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${target.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
  await copy(client, stage, columnList, data);
  const insert = await client.query(`INSERT INTO ${target.name} (${columnList}) SELECT ${columnList} FROM ${stage} ON CONFLICT DO NOTHING`);
  return insert.rowCount ?? 0;
}

async function copy(client: pg.PoolClient, table: string, columnList: string, data: Buffer): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${table} (${columnList}) FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from([data]), stream);
  return stream.rowCount;
}

/**
 * Writes records into one hypertable, one transaction per batch (copyOnce), with the work
 * `alongside` it in the same transaction, in order. Writing the same batch twice adds nothing.
 */
export class TableWriter {
  constructor(
    private readonly pool: pg.Pool,
    readonly table: Table,
    private readonly alongside: readonly Alongside[] = [],
  ) {}

  /**
   * Writes `items`; when the database refuses a batch for good, writes its halves apart, down to
   * the single rows it refuses, and returns those. A retriable failure is thrown as it is.
   */
  async write<T>(items: readonly T[], recordOf: (item: T) => Record<string, unknown>): Promise<WriteResult<T>> {
    try {
      const inserted = await this.writeBatch(items.map(recordOf));
      return { inserted, duplicates: items.length - inserted, rejected: [] };
    } catch (error) {
      const classified = classify(error, this.table.name);
      if (classified.retriable || items.length === 0) throw classified;
      if (items.length === 1) return { inserted: 0, duplicates: 0, rejected: [{ item: items[0] as T, error: classified }] };
    }
    const half = Math.ceil(items.length / 2);
    const [first, second] = [await this.write(items.slice(0, half), recordOf), await this.write(items.slice(half), recordOf)];
    return {
      inserted: first.inserted + second.inserted,
      duplicates: first.duplicates + second.duplicates,
      rejected: [...first.rejected, ...second.rejected],
    };
  }

  private async writeBatch(records: ReadonlyArray<Record<string, unknown>>): Promise<number> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const inserted = await copyOnce(client, this.table, records);
      const committed: AfterCommit[] = [];
      for (const step of this.alongside) {
        const after = await step(client, records);
        if (after !== undefined) committed.push(after);
      }
      await client.query('COMMIT');
      for (const after of committed) after();
      return inserted;
    } catch (error) {
      // A session that met an outage is not reused: settings an operator fixes (a database made
      // writable again) apply to new sessions only, so keeping it would retry into the old state.
      broken = classify(error, this.table.name).retriable;
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
