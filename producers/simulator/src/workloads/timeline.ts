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
 * The periods of one lane within [startMs, endMs): free gaps and tenancies alternately, each at
 * least a minute long and starting on a whole minute, the last one cut at endMs. It opens with a
 * gap so that the first tenancies of an epoch do not all start at once.
 */
export function periodsWithin<T>(
  random: () => number, startMs: number, endMs: number, meanFreeMs: number, draw: DrawTenancy<T>,
): Period<T>[] {
  const periods: Period<T>[] = [];
  let free = true;
  for (let t = startMs; t < endMs; free = !free) {
    const tenancy = free ? null : draw(random, t);
    const end = Math.min(endMs, t + wholeMinutes(tenancy === null ? exponential(random, meanFreeMs) : tenancy.durationMs));
    periods.push({ startMs: t, endMs: end, tenant: tenancy?.tenant ?? null });
    t = end;
  }
  return periods;
}

/** A phase in [0, EPOCH_MS), in whole minutes, from a uniform draw. */
export function epochPhase(u: number): number {
  return Math.floor(u * (EPOCH_MS / MINUTE_MS)) * MINUTE_MS;
}

/**
 * One lane's place in its timeline. It keeps the current epoch's periods, so that a reading costs
 * a comparison or two; the periods are drawn again only when a reading falls in another epoch.
 */
export class LaneCursor<T> {
  private epoch = Number.NaN;
  private periods: Period<T>[] = [];
  private index = 0;

  constructor(
    private readonly phaseMs: number,
    private readonly periodsOfEpoch: (epoch: number, startMs: number, endMs: number) => Period<T>[],
  ) {}

  /** The period that holds `timeMs`; the same object for every reading within it. */
  at(timeMs: number): Period<T> {
    const epoch = Math.floor((timeMs - this.phaseMs) / EPOCH_MS);
    if (epoch !== this.epoch) {
      const startMs = this.phaseMs + epoch * EPOCH_MS;
      this.periods = this.periodsOfEpoch(epoch, startMs, startMs + EPOCH_MS);
      this.epoch = epoch;
      this.index = 0;
    }
    let i = timeMs < (this.periods[this.index] as Period<T>).startMs ? 0 : this.index;
    while ((this.periods[i] as Period<T>).endMs <= timeMs) i++;
    this.index = i;
    return this.periods[i] as Period<T>;
  }
}

function wholeMinutes(ms: number): number {
  return Math.max(1, Math.round(ms / MINUTE_MS)) * MINUTE_MS;
}
