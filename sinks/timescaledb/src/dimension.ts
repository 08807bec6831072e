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
 * One row per key, ordered by key so that concurrent writers lock rows in one order. The latest
 * sighting gives the attributes (on a tie, the later one in the batch).
 */
export function latestPerKey(sightings: Iterable<Sighting>): DimensionRow[] {
  const byKey = new Map<string, DimensionRow>();
  for (const { key, time, attributes } of sightings) {
    const known = byKey.get(key);
    if (known === undefined) {
      byKey.set(key, { key, attributes, first_seen: time, last_seen: time });
      continue;
    }
    if (time >= known.last_seen) known.attributes = attributes;
    known.first_seen = Math.min(known.first_seen, time);
    known.last_seen = Math.max(known.last_seen, time);
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const columnsOf = (table: DimensionTable): string[] => [table.key, ...table.attributes, 'first_seen', 'last_seen'];

function insertRows(table: DimensionTable): string {
  const columns = columnsOf(table);
  const types = columns.map((c, i) => `$${i + 1}::${c === 'first_seen' || c === 'last_seen' ? 'timestamptz' : table.types?.[c] ?? 'text'}[]`);
  return `INSERT INTO ${table.name} (${columns.map((c) => `"${c}"`).join(', ')}) SELECT * FROM unnest(${types.join(', ')})`;
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
    rows.map((r) => r.key),
    ...table.attributes.map((a) => rows.map((r) => r.attributes[a] ?? null)),
    rows.map((r) => new Date(r.first_seen)),
    rows.map((r) => new Date(r.last_seen)),
  ]);
}
