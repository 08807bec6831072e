import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { GpumonError } from '@gpumon/runtime/errors';
import { copyLine } from './copy-text.js';
import { classify } from './database-errors.js';
import type { Table } from './tables.js';

export interface Rejected<T> {
  item: T;
  error: GpumonError;
}

export interface WriteResult<T> {
  inserted: number;
  duplicates: number;
  rejected: Array<Rejected<T>>;
}

/**
 * Writes records into one hypertable: COPY into a session-local staging table, then one
 * INSERT … ON CONFLICT DO NOTHING into the hypertable, in one transaction. A replayed record hits
 * the table's unique key and is skipped, so writing the same batch twice adds nothing.
 */
export class TableWriter {
  private readonly columnList: string;
  private readonly stage: string;

  constructor(
    private readonly pool: pg.Pool,
    readonly table: Table,
  ) {
    this.columnList = table.columns.map((c) => `"${c.name}"`).join(', ');
    this.stage = `gpu_stage_${table.name.replace(/^gpu_/, '')}`;
  }

  /** Writes `items`; when the database refuses the batch for good, writes them one by one and returns those it refuses. */
  async write<T>(items: readonly T[], recordOf: (item: T) => Record<string, unknown>): Promise<WriteResult<T>> {
    try {
      const inserted = await this.writeBatch(items.map(recordOf));
      return { inserted, duplicates: items.length - inserted, rejected: [] };
    } catch (error) {
      const classified = classify(error, this.table.name);
      if (classified.retriable || items.length === 0) throw classified;
      if (items.length === 1) return { inserted: 0, duplicates: 0, rejected: [{ item: items[0] as T, error: classified }] };
    }
    const result: WriteResult<T> = { inserted: 0, duplicates: 0, rejected: [] };
    for (const item of items) {
      const one = await this.write([item], recordOf);
      result.inserted += one.inserted;
      result.duplicates += one.duplicates;
      result.rejected.push(...one.rejected);
    }
    return result;
  }

  private async writeBatch(records: ReadonlyArray<Record<string, unknown>>): Promise<number> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${this.stage} (LIKE ${this.table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
      );
      const columns = this.table.columns;
      await pipeline(
        Readable.from([records.map((r) => copyLine(r, columns)).join('')]),
        client.query(copyFrom(`COPY ${this.stage} (${this.columnList}) FROM STDIN`)),
      );
      const insert = await client.query(
        `INSERT INTO ${this.table.name} (${this.columnList}) SELECT ${this.columnList} FROM ${this.stage} ON CONFLICT DO NOTHING`,
      );
      await client.query('COMMIT');
      return insert.rowCount ?? 0;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
