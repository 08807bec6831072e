import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions } from '@gpumon/runtime/database';
import { classify, classifyDatabaseError } from './database-errors.js';

/** Errors as PostgreSQL, node-postgres and Node really raise them: from the server where it is harmless to provoke, else as pg builds them. */
const settings = loadConfig(databaseOptions);
let client: pg.Client;
/** A server that accepts connections and never answers, as a PostgreSQL hung or behind a dead route does. */
let silent: Server;

beforeAll(async () => {
  client = new pg.Client({ connectionString: settings.databaseUrl });
  await client.connect();
  silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, resolve));
});

afterAll(async () => {
  await client.end();
  silent.close();
});

const serverError = (sql: string): Promise<unknown> => client.query(sql).then(() => { throw new Error(`${sql} succeeded`); }, (error: unknown) => error);
/** What node-postgres builds from an ErrorResponse the server sends (pg-protocol's DatabaseError). */
const sent = (code: string): pg.DatabaseError => Object.assign(new pg.DatabaseError(`server says ${code}`, 100, 'error'), { code, severity: 'ERROR' });
/** What Node gives a socket write or connect that fails (a SystemError's fields). */
const system = (code: string, syscall: string): Error => Object.assign(new Error(`${syscall} ${code}`), { code, errno: -1, syscall });

describe('database errors, by what fixes them', () => {
  it('the row: a value the column refuses, a constraint it breaks', async () => {
    expect(classifyDatabaseError(await serverError('SELECT 2147483648::int'))).toEqual({ kind: 'row' });
    expect(classifyDatabaseError(await serverError("SELECT E'\\\\x00'::text::int"))).toEqual({ kind: 'row' });
    for (const code of ['22021', '22P02', '23502', '23503', '23514', '54000']) expect(classifyDatabaseError(sent(code))).toEqual({ kind: 'row' });
    expect(classify(sent('22021'), 'gpu_samples')).toMatchObject({ code: 'database_rejected', retriable: false, message: 'gpu_samples: SQLSTATE 22021: server says 22021' });
  });

  it('the operator: read-only, login, privilege, a missing table', async () => {
    await client.query('BEGIN READ ONLY');
    const readOnly = await serverError('CREATE TEMP TABLE gpu_read_only_probe (x int)');
    await client.query('ROLLBACK');
    expect(classifyDatabaseError(readOnly)).toEqual({ kind: 'wait', reason: 'database_read_only' });
    expect(classifyDatabaseError(await serverError('SELECT * FROM gpu_no_such_table'))).toEqual({ kind: 'wait', reason: 'database_schema' });
    const badPassword = await new pg.Client({ connectionString: settings.databaseUrl.replace(/:[^:@/]*@/, ':wrong-password@') }).connect().then(() => undefined, (e: unknown) => e);
    expect(classifyDatabaseError(badPassword)).toEqual({ kind: 'wait', reason: 'database_auth' });
    expect(classifyDatabaseError(sent('28000'))).toEqual({ kind: 'wait', reason: 'database_auth' });
    expect(classifyDatabaseError(sent('42501'))).toEqual({ kind: 'wait', reason: 'database_privilege' });
    // A binary COPY field of the wrong size for its column: the table changed under the sink, not the row.
    expect(classifyDatabaseError(sent('22P03'))).toEqual({ kind: 'wait', reason: 'database_schema' });
    expect(classify(readOnly, 'gpu_samples')).toMatchObject({ code: 'database_unavailable', retriable: true, reason: 'database_read_only' });
  });

  it('time: statement and lock timeouts, shutdowns, resources, conflicts, unknown SQLSTATEs', async () => {
    await client.query("SET statement_timeout = '20ms'");
    const cancelled = await serverError('SELECT pg_sleep(1)');
    await client.query('RESET statement_timeout');
    expect(classifyDatabaseError(cancelled)).toEqual({ kind: 'wait', reason: 'database_timeout' });
    expect(classifyDatabaseError(sent('55P03'))).toEqual({ kind: 'wait', reason: 'database_timeout' });
    expect(classifyDatabaseError(sent('57P01'))).toEqual({ kind: 'wait', reason: 'database_unreachable' });
    expect(classifyDatabaseError(sent('08006'))).toEqual({ kind: 'wait', reason: 'database_unreachable' });
    expect(classifyDatabaseError(sent('53100'))).toEqual({ kind: 'wait', reason: 'database_resources' });
    expect(classifyDatabaseError(sent('40001'))).toEqual({ kind: 'wait', reason: 'database_conflict' });
    expect(classifyDatabaseError(sent('40P01'))).toEqual({ kind: 'wait', reason: 'database_conflict' });
    expect(classifyDatabaseError(sent('XX000'))).toEqual({ kind: 'wait', reason: 'database_unknown' });
  });

  it('the network: Node system errors (EPIPE is no SQLSTATE), a dropped socket, the pool out of time', async () => {
    const refused = await new pg.Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2000 }).connect().then(() => undefined, (e: unknown) => e);
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    expect(classifyDatabaseError(refused)).toEqual({ kind: 'wait', reason: 'database_unreachable' });
    for (const code of ['EPIPE', 'ECONNRESET', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTDOWN', 'EHOSTUNREACH']) {
      expect(classifyDatabaseError(system(code, 'write'))).toEqual({ kind: 'wait', reason: 'database_unreachable' });
    }
    expect(classifyDatabaseError(new Error('Connection terminated unexpectedly'))).toEqual({ kind: 'wait', reason: 'database_unreachable' });

    const address = silent.address() as { port: number };
    const pool = new pg.Pool({ host: '127.0.0.1', port: address.port, max: 1, connectionTimeoutMillis: 200 });
    const [first, queued] = await Promise.all([pool.connect(), pool.connect()].map((p) => p.then(() => undefined, (e: unknown) => e)));
    await pool.end();
    expect(classifyDatabaseError(first)).toEqual({ kind: 'wait', reason: 'database_unreachable' });
    expect((queued as Error).message).toBe('timeout exceeded when trying to connect');
    expect(classifyDatabaseError(queued)).toEqual({ kind: 'wait', reason: 'database_unreachable' });
  });

  it('the row again: an error raised turning a record into COPY text, before the server saw it', () => {
    expect(classifyDatabaseError(new TypeError('Do not know how to serialize a BigInt'))).toEqual({ kind: 'row' });
  });
});
