import { xid, type FaultContext, type FaultKindSpec } from './fault.js';

/**
 * The GPU System Processor stops answering, with little warning: at most one RPC timeout
 * (Xid 119) minutes before. Failure: an RPC timeout (Xid 119) or GSP error (Xid 120); from then
 * on every query of the driver times out again (one Xid 119 per reading) and the live readings
 * are null (nvidia-smi prints ERR!) until the GPU is reset.
 */
export const gspError: FaultKindSpec = {
  defaultDurationMs: 5 * 60_000,
  start(context) {
    const { random, timeline } = context;
    const finalCode = random() < 0.75 ? 119 : 120;
    return {
      unreadableWhenFailed: true,
      advance(_state, fromMs, toMs, xids) {
        if (timeline.failureMs > timeline.onsetMs && fromMs < timeline.onsetMs && timeline.onsetMs <= toMs) {
          xids.push(rpcTimeout(context, timeline.onsetMs));
        }
        if (fromMs < timeline.failureMs && timeline.failureMs <= toMs) {
          xids.push(finalCode === 119
            ? rpcTimeout(context, timeline.failureMs)
            : xid(context, timeline.failureMs, 120, "pid='<unknown>', name=<unknown>, GSP task exception: (ucode-version 0x00000023) bad instruction at PC 0x0000a3c8, reset gpu to recover."));
        } else if (toMs > timeline.failureMs) {
          xids.push(rpcTimeout(context, toMs));
        }
      },
    };
  },
};

function rpcTimeout(context: FaultContext, time: number) {
  return xid(context, time, 119, `pid='<unknown>', name=<unknown>, Timeout after 6s of waiting for RPC response from GPU${context.gpuIndex} GSP! Expected function 76 (GSP_RM_CONTROL) (0x20800a4c 0x4).`);
}
