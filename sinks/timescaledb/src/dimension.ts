import type pg from 'pg';

/**
 * A table of things the samples sight (GPUs in gpu_devices, pods and jobs in gpu_workloads): a
 * text key, attributes, and the first and last time the thing was seen.
 */
export interface DimensionTable {
  name: string;
  key: string;
  attributes: readonly string[];
  /** The SQL type of each attribute that is not text. */
  types?: Readonly<Record<string, string>>;
}

export type AttributeValue = string | number | null;

/** One sighting in a batch: the thing's key, its attributes as that record gives them, the record's time. */
export interface Sighting {
  key: string;
  time: number;
  attributes: Readonly<Record<string, AttributeValue>>;
}

/** One dimension row as a batch has it: the attributes of its latest sighting, its first and last time. */
export interface DimensionRow {
  key: string;
  attributes: Readonly<Record<string, AttributeValue>>;
  first_seen: number;
  last_seen: number;
}

/**
 * Whether two objects hold the same attributes: `a[left]` against `b[right]` for each pair, a
 * missing value counting as null. Compiled to one property read per field: the configuration
 * history compares each sample of a changed GPU with the one before it, and a loop of reads by
 * computed name took twice as long. The names are quoted, so any string is safe.
 */
export function sameAttributes(fields: ReadonlyArray<readonly [left: string, right: string]>): (a: object, b: object) => boolean {
  const equal = fields.map(([left, right]) => `(a[${JSON.stringify(left)}] ?? null) === (b[${JSON.stringify(right)}] ?? null)`);
  return new Function(`return function sameAttributes(a, b) {\nreturn ${equal.join(' &&\n  ') || 'true'};\n};`)() as (a: object, b: object) => boolean;
}

/** How latestPerKey reads an item; `attributes` is asked only of each key's latest item, so the others cost no object. */
export interface SightingOf<T> {
  key(item: T): string;
  time(item: T): number;
  attributes(item: T): Readonly<Record<string, AttributeValue>>;
}

/**
 * One row per key, ordered by key so that concurrent writers lock rows in one order. The latest
 * sighting gives the attributes (on a tie, the later one in the batch).
 */
export function latestPerKey<T>(items: Iterable<T>, of: SightingOf<T>): DimensionRow[] {
  const byKey = new Map<string, { latest: T; first_seen: number; last_seen: number }>();
  for (const item of items) {
    const key = of.key(item);
    const time = of.time(item);
    const known = byKey.get(key);
    if (known === undefined) {
      byKey.set(key, { latest: item, first_seen: time, last_seen: time });
      continue;
    }
    if (time >= known.last_seen) known.latest = item;
    if (time < known.first_seen) known.first_seen = time;
    if (time > known.last_seen) known.last_seen = time;
  }
  return [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, { latest, first_seen, last_seen }]) => ({ key, attributes: of.attributes(latest), first_seen, last_seen }));
}

const columnsOf = (table: DimensionTable): string[] => [table.key, ...table.attributes, 'first_seen', 'last_seen'];

function insertRows(table: DimensionTable): string {
  const columns = columnsOf(table);
  const types = columns.map((c, i) => `$${i + 1}::${c === 'first_seen' || c === 'last_seen' ? 'timestamptz' : table.types?.[c] ?? 'text'}[]`);
  return `INSERT INTO ${table.name} (${columns.map((c) => `"${c}"`).join(', ')}) SELECT * FROM unnest(${types.join(', ')})`;
}

const NEEDS_ESCAPE = /[\\"]/;

/**
 * A one-dimensional array parameter in PostgreSQL's text form, built here rather than by
 * node-postgres, which quotes and escapes every element with two regular-expression replaces:
 * the dimension writes pass a few thousand elements per column per batch.
 */
export function arrayLiteral(values: ReadonlyArray<AttributeValue | undefined>): string {
  const elements = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    elements[i] = value === null || value === undefined ? 'NULL'
      : typeof value === 'number' ? String(value)
      : `"${NEEDS_ESCAPE.test(value) ? value.replace(/[\\"]/g, '\\$&') : value}"`;
  }
  return `{${elements.join(',')}}`;
}

/**
 * Upsert: first_seen only moves back, last_seen only forward, and the attributes are those of
 * whichever side was seen last; an attribute the newer side lacks (N/A) keeps its known value.
 */
export function upsertStatement(table: DimensionTable): string {
  const latest = (c: string): string =>
    `"${c}" = CASE WHEN EXCLUDED.last_seen >= ${table.name}.last_seen THEN COALESCE(EXCLUDED."${c}", ${table.name}."${c}") `
    + `ELSE COALESCE(${table.name}."${c}", EXCLUDED."${c}") END`;
  return `${insertRows(table)}
ON CONFLICT (${table.key}) DO UPDATE SET ${table.attributes.map(latest).join(', ')},
  first_seen = LEAST(${table.name}.first_seen, EXCLUDED.first_seen), last_seen = GREATEST(${table.name}.last_seen, EXCLUDED.last_seen)`;
}

/** Insert of rows not there yet; a row already there is left as it is. */
export function insertMissingStatement(table: DimensionTable): string {
  return `${insertRows(table)} ON CONFLICT (${table.key}) DO NOTHING`;
}

/** Runs an upsertStatement or insertMissingStatement of `table` for `rows`, in the caller's transaction. */
export async function writeDimensionRows(
  client: pg.PoolClient, table: DimensionTable, statement: string, rows: readonly DimensionRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await client.query(statement, [
    arrayLiteral(rows.map((r) => r.key)),
    ...table.attributes.map((a) => arrayLiteral(rows.map((r) => r.attributes[a]))),
    arrayLiteral(rows.map((r) => new Date(r.first_seen).toISOString())),
    arrayLiteral(rows.map((r) => new Date(r.last_seen).toISOString())),
  ]);
}
