/**
 * The fleet's daily load cycle: hosts sit in a few regions, and jobs are more often submitted
 * during the local working day than at night. Job churn stays random; only the share of busy
 * jobs follows the clock.
 */

/** UTC offsets (hours) of the regions simulated hosts sit in, with their share of hosts. */
const REGIONS: ReadonlyArray<readonly [offsetH: number, share: number]> = [
  [-8, 0.2], [-5, 0.3], [1, 0.25], [8, 0.15], [9, 0.1],
];

/** The UTC offset of a host, from a uniform draw in [0, 1). */
export function utcOffsetHours(u: number): number {
  let acc = 0;
  for (const [offset, share] of REGIONS) {
    acc += share;
    if (u < acc) return offset;
  }
  return (REGIONS[REGIONS.length - 1] as readonly [number, number])[0];
}

/** Local hour of day (0 ≤ h < 24, fractional) at `timeMs` for a host `offsetH` hours from UTC. */
export function localHour(timeMs: number, offsetH: number): number {
  const h = (timeMs / 3_600_000 + offsetH) % 24;
  return h < 0 ? h + 24 : h;
}

/**
 * Probability that the next job on a GPU is a busy one rather than an idle gap: 0.28 at 4 am,
 * 0.78 at 4 pm local time. With busy jobs of 2.5 h and idle gaps of 1 h on average, GPUs are busy
 * about half the night and nine tenths of the afternoon.
 */
export function busyShare(localHourOfDay: number): number {
  return 0.53 + 0.25 * Math.sin((2 * Math.PI * (localHourOfDay - 10)) / 24);
}
