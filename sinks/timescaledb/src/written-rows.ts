import type { AttributeValue, DimensionRow } from './dimension.js';
import { fingerprintOf } from './fingerprint.js';

/**
 * How far behind a dimension row's `last_seen` may be: a sighting that changes nothing but moves
 * `last_seen` forward by less than this past what this sink last wrote is not written. Without it
 * every batch rewrites one gpu_devices row (26 attributes) per GPU it holds, which cost PostgreSQL
 * more than COPYing the samples. A new key, an attribute change or `first_seen` moving back is
 * written at once. Likewise a GPU's configuration this sink confirmed in gpu_device_configs is
 * checked again once this much sample time has passed.
 */
export const LAST_SEEN_LAG_MS = 60_000;

/** Keys remembered per table; the least recently sighted are forgotten first (a forgotten key is written again, nothing worse). */
export const REMEMBERED_KEYS = 50_000;

export type Attributes = Readonly<Record<string, AttributeValue>>;

/** A committed write as the batch had it: the row's attributes (none for a row known only to exist) and the span of time it covers. */
export interface Written {
  attributes: Attributes | undefined;
  from: number;
  to: number;
}

/**
 * What a committed write left in a row, as remembered: the fingerprint of its attributes
 * (fingerprint.ts; undefined for a row known only to exist) and the span of time it covers.
 */
export interface Remembered {
  fingerprint: number | undefined;
  from: number;
  to: number;
}

/** How a committed write changes what the row holds: `known` is what earlier writes left, if anything. */
export type Merge = (known: Remembered | undefined, wrote: Remembered) => Remembered;

/**
 * What this sink process committed to one table, per key, so that a write that would change
 * nothing is left out. Only a committed write may be remembered (TableWriter's after-commit step):
 * a rolled-back one must not be taken for written. Several sinks stay correct because the writes
 * are monotone: one left out here only delays a row's `last_seen` (by under LAST_SEEN_LAG_MS).
 */
export class WrittenRows {
  private readonly rows = new Map<string, Remembered>();
  /** The fingerprint of the attribute names' values of an object (a row's attributes, or a record that has them under those names): what `holds` compares. */
  readonly fingerprint: (values: object) => number;

  constructor(
    attributeNames: readonly string[],
    private readonly merge: Merge,
    private readonly capacity = REMEMBERED_KEYS,
  ) {
    this.fingerprint = fingerprintOf(attributeNames);
  }

  /**
   * Whether a write of `attributes` over [from, to] would change nothing that must be current: the
   * same attributes were written, over a span starting at or before `from`, ending less than
   * LAST_SEEN_LAG_MS before `to`.
   */
  covers(key: string, attributes: Attributes, from: number, to: number): boolean {
    const known = this.touch(key);
    return known?.fingerprint !== undefined && from >= known.from && to < known.to + LAST_SEEN_LAG_MS
      && known.fingerprint === this.fingerprint(attributes);
  }

  /** The rows of a batch a write still needs: those whose write `covers` does not say would change nothing. */
  unwritten(rows: readonly DimensionRow[]): DimensionRow[] {
    return rows.filter((row) => !this.covers(row.key, row.attributes, row.first_seen, row.last_seen));
  }

  /** Remembers committed dimension rows. */
  rememberRows(rows: readonly DimensionRow[]): void {
    for (const row of rows) this.remember(row.key, { attributes: row.attributes, from: row.first_seen, to: row.last_seen });
  }

  /**
   * Whether one sighting at `time` would change nothing: the row of `key` was written with
   * attributes of the sighting's `fingerprint`, over a span starting at or before `time` and ending
   * less than LAST_SEEN_LAG_MS before it. A read only: the key keeps its place among the recent ones.
   */
  holds(key: string, time: number, fingerprint: number): boolean {
    const known = this.rows.get(key);
    return known?.fingerprint === fingerprint && time >= known.from && time < known.to + LAST_SEEN_LAG_MS;
  }

  /** Whether a row of `key` was written (it exists in the table). A read only, as `holds`. */
  has(key: string): boolean {
    return this.rows.has(key);
  }

  /** Remembers a committed write. */
  remember(key: string, wrote: Written): void {
    const known = this.rows.get(key);
    this.rows.delete(key);
    const fingerprint = wrote.attributes === undefined ? undefined : this.fingerprint(wrote.attributes);
    this.rows.set(key, this.merge(known, { fingerprint, from: wrote.from, to: wrote.to }));
    if (this.rows.size > this.capacity) this.rows.delete(this.rows.keys().next().value!);
  }

  /** The entry of `key`, moved to the most recently sighted end. */
  private touch(key: string): Remembered | undefined {
    const known = this.rows.get(key);
    if (known !== undefined) {
      this.rows.delete(key);
      this.rows.set(key, known);
    }
    return known;
  }
}

/**
 * The items of the keys with at least one item that `held` does not say changes nothing: only
 * those keys can need a write, and deciding which needs all of a key's items (a change and a change
 * back within one batch). Most batches of a steady fleet leave out every item here, before any
 * per-key row is built.
 */
export function itemsOfChangedKeys<T>(items: readonly T[], keyOf: (item: T) => string, held: (item: T) => boolean): T[] {
  const changed = new Set<string>();
  for (const item of items) if (!held(item)) changed.add(keyOf(item));
  return changed.size === 0 ? [] : items.filter((item) => changed.has(keyOf(item)));
}

/**
 * A dimension row's upsert (upsertStatement): first_seen only moves back, last_seen only forward,
 * the attributes are those of the later side; an insert of a row known only to exist leaves it as it is.
 */
export const mergeDimension: Merge = (known, wrote) => known === undefined ? wrote : {
  fingerprint: wrote.to >= known.to ? wrote.fingerprint : known.fingerprint,
  from: Math.min(known.from, wrote.from),
  to: Math.max(known.to, wrote.to),
};

/** A row written only if missing: it exists, nothing more is known of it. */
export const EXISTS: Written = { attributes: undefined, from: Infinity, to: -Infinity };
