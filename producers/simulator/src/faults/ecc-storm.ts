import { address, EventSchedule, processOf, xid, type FaultKindSpec } from './fault.js';
import { poisson } from '../random.js';

/**
 * A weakening memory cell: correctable (single-bit) errors accelerate from about one an hour to
 * about a thousand an hour at failure; half-way the driver flags a high single-bit rate (Xid 92);
 * later the row (pre-Ampere: the page) is marked for remapping (retirement) and Xid 63 logged.
 * Failure: a double-bit error at that same address (Xid 48) whose remap (retirement) fails
 * (Xid 64); the board keeps reporting, with remapped_rows_failure set on Ampere and later.
 */
export const eccStorm: FaultKindSpec = {
  defaultDurationMs: 36 * 3_600_000,
  start(context) {
    const { model, random, timeline } = context;
    const span = timeline.failureMs - timeline.onsetMs;
    const at = (p: number): number => timeline.onsetMs + Math.round(span * p);
    const row = address(random);
    const schedule = new EventSchedule()
      .add(at(0.45 + 0.1 * random()), (s, xids, t) => {
        xids.push(xid(context, t, 92, `${processOf(s)}, High single-bit ECC error rate detected`));
      })
      .add(at(0.65 + 0.15 * random()), (s, xids, t) => {
        if (model.remapsRows) {
          s.remappedRowsCorrectable++;
          s.remappedRowsPending = true;
          xids.push(xid(context, t, 63, `${processOf(s)}, Row Remapper: New row (${row}) marked for remapping, reset gpu to activate.`));
        } else {
          s.retiredPagesSbe++;
          s.retiredPagesPending = true;
          xids.push(xid(context, t, 63, `${processOf(s)}, Dynamic Page Retirement: New page retired, reboot to activate (${row}).`));
        }
      })
      .add(timeline.failureMs, (s, xids, t) => {
        s.eccVolatileDbe++;
        s.eccAggregateDbe++;
        xids.push(xid(context, t, 48, `${processOf(s)}, An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition ${Math.floor(random() * 8)}, subpartition 0.`));
        if (model.remapsRows) {
          s.remappedRowsFailure = true;
          xids.push(xid(context, t, 64, `${processOf(s)}, Row Remapper Error: failed to remap row (${row}) already marked for remapping.`));
        } else {
          xids.push(xid(context, t, 64, `${processOf(s)}, Dynamic Page Retirement: Failed to retire page (${row}).`));
        }
      });
    return {
      advance(state, fromMs, toMs, xids) {
        const from = Math.max(fromMs, timeline.onsetMs);
        const to = Math.min(toMs, timeline.failureMs);
        if (to > from && span > 0) {
          const p = ((from + to) / 2 - timeline.onsetMs) / span;
          const errors = poisson(random, 1000 ** p * ((to - from) / 3_600_000));
          state.eccVolatileSbe += errors;
          state.eccAggregateSbe += errors;
        }
        schedule.fire(state, fromMs, toMs, xids);
      },
    };
  },
};
