import { hash } from 'node:crypto';

/**
 * 32-bit seed from any string, so each GPU gets its own stream that does not depend on fleet order.
 * One-shot hash: a Hash object per call was a third of building a fleet.
 */
export function seedFrom(...parts: Array<string | number>): number {
  return hash('sha256', parts.join('\u0000'), 'buffer').readUInt32LE(0);
}

/** mulberry32: small, fast, deterministic for a seed; statistical quality is ample for a simulator. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draw (Box–Muller). */
export function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Exponential draw with the given mean. */
export function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** Poisson draw: exact (Knuth) for small means, the normal approximation above 30. */
export function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}
