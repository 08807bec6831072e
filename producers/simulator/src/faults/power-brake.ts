import type { FaultKindSpec } from './fault.js';
import { exponential } from '../random.js';

/**
 * The board's power-brake input (asserted by the host or its power supply) starts firing:
 * hardware power-brake slowdown episodes of 30 s to a few minutes, from about one every two hours
 * to a dozen an hour, each dropping clocks to a quarter and power to near idle. Failure: the
 * brake stays asserted; the board keeps reporting, capped, and is drained of work.
 */
export const powerBrake: FaultKindSpec = {
  defaultDurationMs: 12 * 3_600_000,
  start({ random, timeline }) {
    const span = timeline.failureMs - timeline.onsetMs;
    const episodes: Array<[startMs: number, endMs: number]> = [];
    for (let t = timeline.onsetMs; span > 0;) {
      const p = (t - timeline.onsetMs) / span;
      const perHour = 0.5 * 24 ** p;
      const start = t + exponential(random, 3_600_000 / perHour);
      if (start >= timeline.failureMs) break;
      const end = Math.min(timeline.failureMs, start + 30_000 + exponential(random, 90_000 * (1 + 2 * p)));
      episodes.push([Math.round(start), Math.round(end)]);
      t = end;
    }
    let next = 0;
    return {
      advance(state, _fromMs, toMs) {
        while (next < episodes.length && (episodes[next] as [number, number])[1] <= toMs) next++;
        const episode = episodes[next];
        state.powerBrake = toMs >= timeline.failureMs || (episode !== undefined && episode[0] <= toMs);
      },
    };
  },
};
