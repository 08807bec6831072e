import { exponential } from '../random.js';

/**
 * Who holds a GPU, a MIG slice or a block of GPUs is a pure function of the seed and the time:
 * time is cut into epochs of a day, each lane shifted by its own phase, and each epoch's periods
 * are drawn from a stream seeded by the lane and the epoch. Any GPU can so recompute the jobs of
 * a block it shares with GPUs of other hosts, on another thread or in another process, without
 * coordination, and a reading at time t does not depend on when the simulation started.
 */
export const EPOCH_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** A stretch of time a lane is held by one tenant, or free (tenant null). */
export interface Period<T> {
  readonly startMs: number;
  readonly endMs: number;
  readonly tenant: T | null;
}

/** A tenant drawn for a lane, and how long it holds the lane (the epoch's end may cut it short). */
export interface Tenancy<T> {
  tenant: T;
  durationMs: number;
}

/** Draws the next tenant of a lane starting at `startMs` (a whole minute). */
export type DrawTenancy<T> = (random: () => number, startMs: number) => Tenancy<T>;

/**
 * The periods of one lane within [startMs, endMs), drawn as they are asked for: free gaps and
 * tenancies alternately, each at least a minute long and starting on a whole minute, the last one
 * cut at endMs. It opens with a gap so that the first tenancies of an epoch do not all start at once.
 */
export function* periodsWithin<T>(
  random: () => number, startMs: number, endMs: number, meanFreeMs: number, draw: DrawTenancy<T>,
): Generator<Period<T>, void, undefined> {
  let free = true;
  for (let t = startMs; t < endMs; free = !free) {
    const tenancy = free ? null : draw(random, t);
    const end = Math.min(endMs, t + wholeMinutes(tenancy === null ? exponential(random, meanFreeMs) : tenancy.durationMs));
    yield { startMs: t, endMs: end, tenant: tenancy?.tenant ?? null };
    t = end;
  }
}

/** A phase in [0, EPOCH_MS), in whole minutes, from a uniform draw. */
export function epochPhase(u: number): number {
  return Math.floor(u * (EPOCH_MS / MINUTE_MS)) * MINUTE_MS;
}

/**
 * One lane's place in its timeline. It keeps the period that holds the last reading and draws the
 * next ones only as readings reach them: a whole epoch's tenants drawn at once, for every lane of
 * a 10,000-GPU fleet, held about 55 MB of names. A reading before the current period draws its
 * epoch again from the start: a run's ticks only go forward, so only a test pays that.
 */
export class LaneCursor<T> {
  private epoch = Number.NaN;
  private periods: Iterator<Period<T>, void> = [][Symbol.iterator]();
  private current: Period<T> = { startMs: Number.NaN, endMs: Number.NaN, tenant: null };

  constructor(
    private readonly phaseMs: number,
    private readonly periodsOfEpoch: (epoch: number, startMs: number, endMs: number) => Iterator<Period<T>, void>,
  ) {}

  /** The period that holds `timeMs`; the same object for every reading within it while time goes forward. */
  at(timeMs: number): Period<T> {
    const epoch = Math.floor((timeMs - this.phaseMs) / EPOCH_MS);
    if (epoch !== this.epoch || timeMs < this.current.startMs) {
      const startMs = this.phaseMs + epoch * EPOCH_MS;
      this.periods = this.periodsOfEpoch(epoch, startMs, startMs + EPOCH_MS);
      this.epoch = epoch;
      this.current = this.next();
    }
    while (this.current.endMs <= timeMs) this.current = this.next();
    return this.current;
  }

  private next(): Period<T> {
    const next = this.periods.next();
    // The periods cover the epoch, so a reading inside it never runs past the last one.
    if (next.done === true) throw new Error('a lane\'s periods end before its epoch does');
    return next.value;
  }
}

function wholeMinutes(ms: number): number {
  return Math.max(1, Math.round(ms / MINUTE_MS)) * MINUTE_MS;
}
