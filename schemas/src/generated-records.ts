import type avro from 'avsc';

/**
 * Records for property tests: avsc's own generator, made repeatable by a seed, and the setter
 * that puts a value at a path of RECORD_BOUNDS (`.` into records, `[]` into each item of a list).
 */

/** A random value of `type` from avsc's generator, the same for the same seed (fast-check shrinks and replays seeds). */
export function seededRandom<T>(type: avro.Type, seed: number): T {
  let state = seed >>> 0;
  const saved = Math.random;
  Math.random = (): number => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
  try {
    return type.random() as T;
  } finally {
    Math.random = saved;
  }
}

/** The records holding the value(s) at `path` (each item's, through a list), skipping nulls, and the last step. */
function holders(record: unknown, path: string): { found: unknown[]; last: string } {
  const steps = path.split(/\.|(?=\[\])/);
  let found: unknown[] = [record];
  for (const step of steps.slice(0, -1)) {
    found = (step === '[]' ? found.flatMap((t) => t as unknown[]) : found.map((t) => (t as Record<string, unknown>)[step]))
      .filter((t) => t !== null && t !== undefined);
  }
  return { found, last: steps.at(-1)! };
}

/** Whether `record` has a place for a value at `path`: none where the path runs through a null record or an empty list. */
export function hasPlaceAt(record: unknown, path: string): boolean {
  const { found, last } = holders(record, path);
  return last === '[]' ? found.some((list) => (list as unknown[]).length > 0) : found.length > 0;
}

/** A copy of `record` with every value at `path` set to `value`. */
export function withValue<R>(record: R, path: string, value: number): R {
  const copy = structuredClone(record);
  const { found, last } = holders(copy, path);
  for (const target of found) {
    if (last === '[]') (target as number[]).fill(value);
    else (target as Record<string, unknown>)[last] = value;
  }
  return copy;
}
