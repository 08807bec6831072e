import { EventSchedule, xid, type FaultKindSpec } from './fault.js';
import { poisson } from '../random.js';

/**
 * A degrading PCIe link (connector, riser or retimer): replays climb from one every few minutes
 * to about a hundred a minute at failure (past DCGM's warning level, 16/min for Gen4 x16, about
 * 70 % of the way); a third to a half of the way the link retrains at half width, later two
 * generations lower. Failure: the link drops (Xid 79) and the GPU is lost, as with fall_off_bus.
 */
export const pcieDegradation: FaultKindSpec = {
  defaultDurationMs: 72 * 3_600_000,
  start(context) {
    const { model, random, timeline } = context;
    const span = timeline.failureMs - timeline.onsetMs;
    const at = (p: number): number => timeline.onsetMs + Math.round(span * p);
    const schedule = new EventSchedule()
      .add(at(0.3 + 0.2 * random()), (s) => { s.pcieWidth = Math.max(1, model.pcieWidth / 2); })
      .add(at(0.65 + 0.2 * random()), (s) => { s.pcieGenCap = Math.max(1, model.pcieGen - 2); })
      .add(timeline.failureMs, (_s, xids, t) => {
        xids.push(xid(context, t, 79, "pid='<unknown>', name=<unknown>, GPU has fallen off the bus."));
      });
    return {
      lostWhenFailed: true,
      advance(state, fromMs, toMs, xids) {
        const from = Math.max(fromMs, timeline.onsetMs);
        const to = Math.min(toMs, timeline.failureMs);
        if (to > from && span > 0) {
          const p = ((from + to) / 2 - timeline.onsetMs) / span;
          state.pcieReplays += poisson(random, 0.2 * 500 ** p * ((to - from) / 60_000));
        }
        schedule.fire(state, fromMs, toMs, xids);
      },
    };
  },
};
