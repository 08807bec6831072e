import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions } from '@gpumon/runtime/database';
import { columnEncoding, columnTypes, copyBinary } from './copy-binary.js';
import type { Column } from './tables.js';

/** Binary COPY into a temporary table of the real server, read back as PostgreSQL stored it. */
const settings = loadConfig(databaseOptions);
let client: pg.Client;

const COLUMNS: Column[] = [
  { name: 'time', kind: 'timestamp' }, { name: 'name', kind: 'scalar' }, { name: 'missing', kind: 'scalar' }, { name: 'list', kind: 'json' },
  { name: 'r', kind: 'scalar' }, { name: 'd', kind: 'scalar' }, { name: 'b', kind: 'scalar' }, { name: 'i2', kind: 'scalar' },
  { name: 'i4', kind: 'scalar' }, { name: 'i8', kind: 'scalar' },
];

beforeAll(async () => {
  client = new pg.Client({ connectionString: settings.databaseUrl });
  await client.connect();
  await client.query(`CREATE TEMP TABLE gpu_copy_probe (time timestamptz, name text, missing text, list jsonb, r real, d double precision,
                                                        b boolean, i2 smallint, i4 integer, i8 bigint)`);
});

afterAll(async () => {
  await client.end();
});

async function copyIn(records: Array<Record<string, unknown>>): Promise<void> {
  const data = copyBinary(records, columnEncoding(COLUMNS, await columnTypes(client, 'gpu_copy_probe', COLUMNS)));
  await pipeline(Readable.from([data]), client.query(copyFrom(`COPY gpu_copy_probe (${COLUMNS.map((c) => c.name).join(', ')}) FROM STDIN (FORMAT binary)`)));
}

describe('COPY binary encoding', () => {
  it('stores what text format stored: text unescaped, null as null, JSON, times to the millisecond, every number type', async () => {
    const time = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    await copyIn([
      { time, name: 'a\tb\nc\\d\re "é" ✓', missing: null, list: [{ message: 'x\ty' }], r: 0.1, d: 0.1, b: true, i2: -32768, i4: 2 ** 31 - 1, i8: 2 ** 53 - 1 },
      { time: -1, name: 'long '.repeat(40), list: [], r: 3.4e38, d: -1e308, b: false, i2: 7, i4: -7, i8: -(2 ** 40) },
    ]);
    const text = await client.query(`SELECT time::text, name, missing, list::text, r::text, d::text, b, i2, i4, i8::text FROM gpu_copy_probe ORDER BY time DESC`);
    expect(text.rows).toEqual([
      { time: '2026-01-02 03:04:05.678+00', name: 'a\tb\nc\\d\re "é" ✓', missing: null, list: '[{"message": "x\\ty"}]', r: '0.1', d: '0.1', b: true,
        i2: -32768, i4: 2147483647, i8: '9007199254740991' },
      { time: '1969-12-31 23:59:59.999+00', name: 'long '.repeat(40), missing: null, list: '[]', r: '3.4e+38', d: '-1e+308', b: false, i2: 7, i4: -7,
        i8: '-1099511627776' },
    ]);
  });

  it('writes batches far past its first buffer, text of every length among fixed-size fields', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ time: i, name: `gpu-${'x'.repeat(i % 7)}`, list: i % 2 === 0 ? [] : [i], r: i / 3, d: i / 7, b: i % 2 === 0, i2: i, i4: -i, i8: i * 1e9 }));
    await copyIn(rows);
    const stored = await client.query(`SELECT count(*)::int AS n, sum(i2)::int AS i2, sum(i8)::text AS i8, bool_and(d = i4 / -7.0 OR i4 = 0) AS d
                                         FROM gpu_copy_probe WHERE time < '1970-01-02'::timestamptz AND name LIKE 'gpu-%'`);
    expect(stored.rows).toEqual([{ n: 5000, i2: (4999 * 5000) / 2, i8: String((4999 * 5000 / 2) * 1e9), d: true }]);
  });

  it('leaves a missing column to the COPY (42703, a pause) and pauses on a column type it does not write', async () => {
    expect(await columnTypes(client, 'gpu_copy_probe', [{ name: 'no_such_column', kind: 'scalar' }])).toEqual(['text']);
    await client.query('CREATE TEMP TABLE gpu_copy_numeric (n numeric)');
    await expect(columnTypes(client, 'gpu_copy_numeric', [{ name: 'n', kind: 'scalar' }])).rejects
      .toMatchObject({ code: 'database_unavailable', retriable: true, reason: 'database_schema', message: 'gpu_copy_numeric.n is numeric, a type the sink does not COPY' });
  });

  it('refuses, before the server sees the rows, a value the column would refuse in text format', async () => {
    const row = { time: 0, name: 'x', list: [], r: 1, d: 1, b: true, i2: 1, i4: 1, i8: 1 };
    const refusals: Array<[Record<string, unknown>, RegExp]> = [
      [{ i2: 32768 }, /32768 is out of range for type smallint/], [{ i4: 2 ** 31 }, /out of range for type integer/],
      [{ i8: 1.5 }, /invalid input for type bigint/], [{ r: 1e39 }, /out of range for type real/], [{ r: 1e-50 }, /out of range for type real/],
      [{ time: 8.7e15 }, /Invalid time value/], [{ b: 'yes' }, /invalid input for type boolean/],
    ];
    for (const [change, message] of refusals) await expect(copyIn([{ ...row, ...change }])).rejects.toThrow(message);
  });
});
