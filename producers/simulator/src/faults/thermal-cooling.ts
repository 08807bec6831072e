import { progressAt, type FaultKindSpec } from './fault.js';

/**
 * A fan or cooling-path failure: the cooling capacity falls over hours, so the die climbs
 * towards the shutdown threshold whatever the load (a loaded board gets there first, an idle one
 * late), past max operating (software thermal slowdown, clocks start to drop) and slowdown
 * (hardware thermal slowdown, clocks pinned low). Failure: it reaches shutdown; its jobs die and
 * it stays there, readable but useless, until the cooling is repaired.
 */
export const thermalCooling: FaultKindSpec = {
  defaultDurationMs: 6 * 3_600_000,
  start({ model, timeline }) {
    return {
      advance(state, _fromMs, toMs) {
        const p = progressAt(timeline, toMs);
        state.temperatureExcessC = (model.shutdownC + 1 - state.temperatureC) * p ** 1.5;
      },
    };
  },
};
