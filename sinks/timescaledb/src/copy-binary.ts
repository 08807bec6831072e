import type pg from 'pg';
import { GpumonError } from '@gpumon/runtime/errors';
import type { Column } from './tables.js';

/**
 * COPY's binary format: each number goes in as its bytes, so neither side formats or parses it as
 * text (a reading is mostly floats, and printing and parsing floats were most of the cost of a
 * text COPY), and no text needs escaping. The bytes depend on each column's SQL type, read from
 * the catalogue (columnTypes); the values are checked as PostgreSQL's text input would check
 * them, so a value a column refuses is still refused, row by row.
 */

/** The SQL types the sink writes, as format_type names them. */
const SQL_TYPES = ['timestamp with time zone', 'double precision', 'real', 'bigint', 'integer', 'smallint', 'boolean', 'text', 'jsonb'] as const;
export type SqlType = (typeof SQL_TYPES)[number];

/**
 * What a database session keeps for its COPYs: `format_type` of the columns of each table it wrote
 * (read once per session, so a new session after an outage reads them again) and its CopyBuffer.
 */
interface CopySession {
  types: Map<string, ReadonlyMap<string, string>>;
  buffer: CopyBuffer;
}
const sessions = new WeakMap<pg.ClientBase, CopySession>();

function sessionOf(client: pg.ClientBase): CopySession {
  let session = sessions.get(client);
  if (session === undefined) {
    session = { types: new Map(), buffer: new CopyBuffer() };
    sessions.set(client, session);
  }
  return session;
}

/** The CopyBuffer of `client`'s session: its COPYs run one after another, each done with it when it returns. */
export function sessionBuffer(client: pg.ClientBase): CopyBuffer {
  return sessionOf(client).buffer;
}

/**
 * The SQL type of each of `columns` in `table`. A column the table lacks gets `text`: its COPY
 * fails before any row is read (42703, the migrations are behind), as it would in text format.
 */
export async function columnTypes(client: pg.ClientBase, table: string, columns: readonly Column[]): Promise<SqlType[]> {
  const session = sessionOf(client).types;
  let types = session.get(table);
  if (types === undefined) {
    const result = await client.query<{ name: string; type: string }>(
      `SELECT attname AS name, format_type(atttypid, NULL) AS type FROM pg_attribute
        WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, [table],
    );
    types = new Map(result.rows.map((r) => [r.name, r.type]));
    session.set(table, types);
  }
  return columns.map((column) => {
    const type = types.get(column.name) ?? 'text';
    if (!(SQL_TYPES as readonly string[]).includes(type)) {
      throw new GpumonError('database_unavailable', `${table}.${column.name} is ${type}, a type the sink does not COPY`, { reason: 'database_schema' });
    }
    return type as SqlType;
  });
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** PostgreSQL's epoch (2000-01-01) in Unix milliseconds: timestamps go in as microseconds since then. */
const POSTGRES_EPOCH_MS = 946_684_800_000;
/** The range of a JavaScript Date: beyond it the text encoding (toISOString) threw, so this one does too. */
const MAX_DATE_MS = 8.64e15;
/** PostgreSQL's earliest timestamp, 4714-11-24 BC. */
const MIN_TIMESTAMP_MS = -210_866_803_200_000;
const TWO_32 = 2 ** 32;
const TWO_63 = 2 ** 63;

function outOfRange(value: unknown, type: string): Error {
  return new Error(`value ${String(value)} is out of range for type ${type}`);
}

function notOfType(value: unknown, type: string): Error {
  return new Error(`invalid input for type ${type}: ${JSON.stringify(value) ?? String(value)}`);
}

/**
 * A growing buffer the rows are written into, big-endian as COPY wants, through a DataView (whose
 * accessors V8 inlines). One per database session, reused by each of its COPYs: a fresh buffer
 * of a few MB per write cost more in garbage collection than the encoding itself.
 */
export class CopyBuffer {
  buffer = Buffer.allocUnsafe(1 << 16);
  view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
  at = 0;
  /** Bytes of a row's fixed-size fields: a text field reserves them too, so the fields after it in its row still fit. */
  rowBytes = 0;

  reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(bigger, 0, 0, this.at);
    this.buffer = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.length);
  }

  /** UTF-8 text as a field, after jsonb's version byte with `jsonb`. Short ASCII is copied here: a native call per short string costs more. */
  text(value: string, jsonb: boolean): void {
    const head = jsonb ? 1 : 0;
    this.reserve(4 + head + value.length * 3 + this.rowBytes);
    const start = this.at + 4;
    if (jsonb) this.buffer[start] = 1;
    let length = -1;
    if (value.length <= 64) {
      let i = 0;
      for (; i < value.length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        this.buffer[start + head + i] = code;
      }
      if (i === value.length) length = head + i;
    }
    if (length < 0) length = head + this.buffer.write(value, start + head, 'utf8');
    this.view.setInt32(this.at, length);
    this.at = start + length;
  }
}

/** How a column's values are written: one small integer per SQL type, so the row loop is one switch rather than a call per field. */
const enum Code { Timestamp, Float8, Float4, Int8, Int4, Int2, Bool, Text, Jsonb }

const CODES: Readonly<Record<SqlType, Code>> = {
  'timestamp with time zone': Code.Timestamp, 'double precision': Code.Float8, real: Code.Float4, bigint: Code.Int8, integer: Code.Int4,
  smallint: Code.Int2, boolean: Code.Bool, text: Code.Text, jsonb: Code.Jsonb,
};
/** Bytes of a field of each code, its length included; text and JSON reserve their own. */
const FIXED_BYTES: Readonly<Record<Code, number>> = { 0: 12, 1: 12, 2: 8, 3: 12, 4: 8, 5: 6, 6: 5, 7: 4, 8: 4 };

/** A table's columns as copyBinary writes them. */
export interface ColumnEncoding {
  columns: number;
  /** Bytes of a row's fixed-size fields, so one reserve covers them. */
  rowBytes: number;
  /** Writes one record's fields, each checked as writeValue checks it. */
  writeFields: (record: Record<string, unknown>, writer: CopyBuffer) => void;
}

/** Per column list (a table's, which lives as long as the process) and their SQL types: each encoding is generated once. */
const encodings = new WeakMap<readonly Column[], Map<string, ColumnEncoding>>();

export function columnEncoding(columns: readonly Column[], types: readonly SqlType[]): ColumnEncoding {
  const key = types.join(',');
  let known = encodings.get(columns);
  if (known === undefined) encodings.set(columns, (known = new Map()));
  const found = known.get(key);
  if (found !== undefined) return found;
  const codes = types.map((type) => CODES[type]);
  const encoding = { columns: columns.length, rowBytes: 2 + codes.reduce((n, code) => n + FIXED_BYTES[code], 0), writeFields: fieldWriter(columns, codes) };
  known.set(key, encoding);
  return encoding;
}

function writeNull(writer: CopyBuffer): void {
  writer.view.setInt32(writer.at, -1);
  writer.at += 4;
}

/**
 * The fields of a row as JavaScript, one statement per column, as avsc writes its readers: a
 * property read per column cost about 1 µs per sample less than a lookup by name in a loop. Only
 * the column names (as JSON strings) and the type codes go into the code.
 */
function fieldWriter(columns: readonly Column[], codes: readonly Code[]): ColumnEncoding['writeFields'] {
  // No replacer: no sink stream has bytes inside a record, and a replacer costs V8 its fast serializer.
  const body = columns.map((column, i) => `v = record[${JSON.stringify(column.name)}];\n`
    + `if (v === null || v === undefined) writeNull(writer); else writeValue(writer, ${codes[i]!}, ${column.kind === 'json' ? 'JSON.stringify(v)' : 'v'});\n`).join('');
  // Safe to compile: generated from the table's columns only: names as JSON strings, numbers
  return new Function('writeNull', 'writeValue', `return function writeFields(record, writer) {\nlet v;\n${body}};`)(writeNull, writeValue) as ColumnEncoding['writeFields'];
}

function int64(view: DataView, at: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  view.setInt32(at, high);
  view.setUint32(at + 4, value - high * TWO_32);
}

/** One non-null value at `writer.at` (fixed-size room already reserved), checked as PostgreSQL's text input would check it. */
function writeValue(writer: CopyBuffer, code: Code, value: unknown): void {
  const view = writer.view;
  const at = writer.at;
  switch (code) {
    case Code.Timestamp: {
      if (typeof value !== 'number' || !(Math.abs(value) <= MAX_DATE_MS)) throw new RangeError(`Invalid time value: ${String(value)}`);
      if (value < MIN_TIMESTAMP_MS) throw outOfRange(new Date(value).toISOString(), 'timestamp with time zone');
      // Whole milliseconds, as a Date keeps them, in microseconds: past 2^53 in a double at the ends of the range, so in two halves.
      const ms = Math.trunc(value) - POSTGRES_EPOCH_MS;
      const high = Math.floor(ms / TWO_32);
      const low = (ms - high * TWO_32) * 1000;
      const carry = Math.floor(low / TWO_32);
      view.setInt32(at, 8);
      view.setInt32(at + 4, high * 1000 + carry);
      view.setUint32(at + 8, low - carry * TWO_32);
      writer.at = at + 12;
      return;
    }
    case Code.Float8:
      if (typeof value !== 'number') throw notOfType(value, 'double precision');
      view.setInt32(at, 8);
      view.setFloat64(at + 4, value);
      writer.at = at + 12;
      return;
    case Code.Float4: {
      if (typeof value !== 'number') throw notOfType(value, 'real');
      const single = Math.fround(value);
      // As float4in: a finite value that overflows to infinity, or a non-zero one that underflows to zero, is out of range.
      if ((single === Infinity || single === -Infinity || single === 0) && single !== value) throw outOfRange(value, 'real');
      view.setInt32(at, 4);
      view.setFloat32(at + 4, single);
      writer.at = at + 8;
      return;
    }
    case Code.Int8:
      if (typeof value !== 'number' || !Number.isInteger(value)) throw notOfType(value, 'bigint');
      if (value < -TWO_63 || value >= TWO_63) throw outOfRange(value, 'bigint');
      view.setInt32(at, 8);
      int64(view, at + 4, value);
      writer.at = at + 12;
      return;
    case Code.Int4:
    case Code.Int2: {
      const [type, bytes] = code === Code.Int2 ? ['smallint', 2] : ['integer', 4];
      if (typeof value !== 'number' || !Number.isInteger(value)) throw notOfType(value, type);
      if (Math.abs(value + 0.5) > 2 ** (bytes * 8 - 1)) throw outOfRange(value, type);
      view.setInt32(at, bytes);
      if (bytes === 2) view.setInt16(at + 4, value);
      else view.setInt32(at + 4, value);
      writer.at = at + 4 + bytes;
      return;
    }
    case Code.Bool:
      if (typeof value !== 'boolean') throw notOfType(value, 'boolean');
      view.setInt32(at, 1);
      view.setUint8(at + 4, value ? 1 : 0);
      writer.at = at + 5;
      return;
    case Code.Text:
      writer.text(typeof value === 'string' ? value : String(value), false);
      return;
    case Code.Jsonb:
      writer.text(typeof value === 'string' ? value : String(value), true);
      return;
  }
}

/**
 * Records as the body of one COPY … FROM STDIN (FORMAT binary) of a table's columns, written into
 * `writer` from its start: the result is a view of it, good until the writer's next use.
 */
export function copyBinary(records: ReadonlyArray<Record<string, unknown>>, encoding: ColumnEncoding, writer = new CopyBuffer()): Buffer {
  const { columns, rowBytes, writeFields } = encoding;
  writer.at = 0;
  writer.rowBytes = rowBytes;
  writer.reserve(SIGNATURE.length + 8);
  writer.at = SIGNATURE.copy(writer.buffer, 0);
  writer.view.setInt32(writer.at, 0);
  writer.view.setInt32(writer.at + 4, 0);
  writer.at += 8;
  for (const record of records) {
    writer.reserve(rowBytes);
    writer.view.setInt16(writer.at, columns);
    writer.at += 2;
    writeFields(record, writer);
  }
  writer.reserve(2);
  writer.view.setInt16(writer.at, -1);
  writer.at += 2;
  return writer.buffer.subarray(0, writer.at);
}
