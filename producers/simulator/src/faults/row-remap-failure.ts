import { address, EventSchedule, processOf, xid, type FaultContext, type FaultKindSpec } from './fault.js';
import type { GpuState } from '../state.js';
import type { XidEvent } from '@gpumon/schemas/types.generated';

/** Uncorrectable errors before the failing one, each remapped into the same bank (which holds 8). */
const PRECURSOR_ERRORS = 7;

/**
 * A failing memory bank: uncorrectable errors come ever closer together (the k-th at
 * √(k/8) of the way to failure); each is contained (Xid 94) and its row marked for remapping
 * (Xid 63, pending remap) on Ampere and later, or retired (Xid 48, then 63) on older boards.
 * Failure: the next error needs a ninth spare row in that bank: the remap fails (Xid 64,
 * remapped_rows_failure); the board keeps reporting.
 */
export const rowRemapFailure: FaultKindSpec = {
  defaultDurationMs: 24 * 3_600_000,
  start(context) {
    const { random, timeline } = context;
    const span = timeline.failureMs - timeline.onsetMs;
    const schedule = new EventSchedule();
    for (let k = 1; k <= PRECURSOR_ERRORS; k++) {
      const p = Math.sqrt((k - 0.5 + random()) / (PRECURSOR_ERRORS + 1));
      schedule.add(timeline.onsetMs + Math.round(span * p), (s, xids, t) => uncorrectable(context, s, xids, t, true));
    }
    schedule.add(timeline.failureMs, (s, xids, t) => {
      const row = uncorrectable(context, s, xids, t, false);
      if (context.model.remapsRows) {
        s.remappedRowsFailure = true;
        xids.push(xid(context, t, 64, `${processOf(s)}, Row Remapper Error: no spare row left in the bank to remap row (${row}).`));
      } else {
        xids.push(xid(context, t, 64, `${processOf(s)}, Dynamic Page Retirement: Failed to retire page (${row}).`));
      }
    });
    return { advance: (state, fromMs, toMs, xids) => schedule.fire(state, fromMs, toMs, xids) };
  },
};

/** One uncorrectable error, and its remap or retirement when `spare`; returns the address. */
function uncorrectable(context: FaultContext, s: GpuState, xids: XidEvent[], t: number, spare: boolean): string {
  const row = address(context.random);
  s.eccVolatileDbe++;
  s.eccAggregateDbe++;
  if (context.model.remapsRows) {
    xids.push(xid(context, t, 94, `${processOf(s)}, Contained: FBHUB (0x${row.slice(-4)}). RST: No, D-RST: No`));
    if (spare) {
      s.remappedRowsUncorrectable++;
      s.remappedRowsPending = true;
      xids.push(xid(context, t, 63, `${processOf(s)}, Row Remapper: New row (${row}) marked for remapping, reset gpu to activate.`));
    }
  } else {
    xids.push(xid(context, t, 48, `${processOf(s)}, An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition ${Math.floor(context.random() * 8)}, subpartition 0.`));
    if (spare) {
      s.retiredPagesDbe++;
      s.retiredPagesPending = true;
      xids.push(xid(context, t, 63, `${processOf(s)}, Dynamic Page Retirement: New page retired, reboot to activate (${row}).`));
    }
  }
  return row;
}
