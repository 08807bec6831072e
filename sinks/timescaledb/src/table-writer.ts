import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { GpumonError } from '@gpumon/runtime/errors';
import { copyText } from './copy-text.js';
import { classify, sqlState } from './database-errors.js';
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

/** More work in the same transaction as the rows (the GPU inventory beside the samples). */
export type Alongside = (client: pg.PoolClient, records: ReadonlyArray<Record<string, unknown>>) => Promise<void>;

const UNIQUE_VIOLATION = '23505';

/**
 * Writes records into one hypertable in one transaction per batch. Fast path: COPY straight into
 * the hypertable. A replayed record breaks the table's unique key (23505); then the batch goes
 * again through a session-local staging table and one INSERT … ON CONFLICT DO NOTHING, which
 * skips what is already there, so writing the same batch twice adds nothing.
 */
export class TableWriter {
  private readonly columnList: string;
  private readonly stage: string;

  constructor(
    private readonly pool: pg.Pool,
    readonly table: Table,
    private readonly alongside?: Alongside,
  ) {
    this.columnList = table.columns.map((c) => `"${c.name}"`).join(', ');
    this.stage = `gpu_stage_${table.name.replace(/^gpu_/, '')}`;
  }

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
    const text = copyText(records, this.table.columns);
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      let inserted: number;
      try {
        await client.query('SAVEPOINT fast');
        inserted = await this.copy(client, this.table.name, text);
      } catch (error) {
        if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
        await client.query('ROLLBACK TO SAVEPOINT fast');
        inserted = await this.insertNew(client, text);
      }
      await this.alongside?.(client, records);
      await client.query('COMMIT');
      return inserted;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** The slow path for a batch with rows already stored: stage it, then insert only the new ones. */
  private async insertNew(client: pg.PoolClient, text: string): Promise<number> {
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${this.stage} (LIKE ${this.table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
    await this.copy(client, this.stage, text);
    const insert = await client.query(
      `INSERT INTO ${this.table.name} (${this.columnList}) SELECT ${this.columnList} FROM ${this.stage} ON CONFLICT DO NOTHING`,
    );
    return insert.rowCount ?? 0;
  }

  private async copy(client: pg.PoolClient, table: string, text: string): Promise<number> {
    const stream = client.query(copyFrom(`COPY ${table} (${this.columnList}) FROM STDIN`));
    await pipeline(Readable.from([text]), stream);
    return stream.rowCount;
  }
}
