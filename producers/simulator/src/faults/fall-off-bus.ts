import { xid, type FaultKindSpec } from './fault.js';
import { poisson } from '../random.js';

/**
 * The GPU drops off the PCIe bus with little warning: a burst of link replays in the last minute
 * at most (about 20 a minute). Failure: Xid 79; the host no longer sees the GPU and reports it
 * lost (gpu_lost, every reading null) until the node is rebooted.
 */
export const fallOffBus: FaultKindSpec = {
  defaultDurationMs: 60_000,
  start(context) {
    const { random, timeline } = context;
    return {
      lostWhenFailed: true,
      advance(state, fromMs, toMs, xids) {
        const from = Math.max(fromMs, timeline.onsetMs);
        const to = Math.min(toMs, timeline.failureMs);
        if (to > from) state.pcieReplays += poisson(random, (20 * (to - from)) / 60_000);
        if (fromMs < timeline.failureMs && timeline.failureMs <= toMs) {
          xids.push(xid(context, timeline.failureMs, 79, "pid='<unknown>', name=<unknown>, GPU has fallen off the bus."));
        }
      },
    };
  },
};
