import type { HealthVerdict } from '@gpumon/schemas/types.generated';

/** What an Xid means, what to do about it, and the verdict DCGM gives the GPU (shared DOMAIN.md; NVIDIA's Xid catalog). */
export interface XidEntry {
  meaning: string;
  action: string;
  /** Null: an application error (NVIDIA's device plugin keeps the GPU healthy) or a follow-up of another Xid. */
  verdict: HealthVerdict | null;
}

export const XID_CATALOG: ReadonlyMap<number, XidEntry> = new Map([
  [13, { meaning: 'graphics engine exception', action: 'restart the application (application error)', verdict: null }],
  [31, { meaning: 'GPU memory page fault', action: 'restart the application (application error)', verdict: 'WARN' }],
  [43, { meaning: 'GPU stopped processing', action: 'none needed (application error)', verdict: 'WARN' }],
  [45, { meaning: 'cleanup after an earlier error', action: 'follow the other Xid', verdict: null }],
  [48, { meaning: 'double-bit ECC error', action: 'reset the GPU; with Xid 63/64 drain the node and reset', verdict: 'FAIL' }],
  [62, { meaning: 'micro-controller halt', action: 'reset the GPU', verdict: 'WARN' }],
  [63, { meaning: 'row remap or page retirement recorded', action: 'none yet: it takes effect at the next reset (pending)', verdict: 'WARN' }],
  [64, { meaning: 'row remap or page retirement failed', action: 'reset the GPU; RMA if it repeats', verdict: 'FAIL' }],
  [74, { meaning: 'NVLink error', action: 'follow the NVLink workflow (check links, reset)', verdict: 'FAIL' }],
  [79, { meaning: 'GPU has fallen off the bus', action: 'drain and reboot the node', verdict: 'FAIL' }],
  [92, { meaning: 'high single-bit ECC error rate', action: 'contact support', verdict: null }],
  [94, { meaning: 'contained memory error', action: 'restart the application', verdict: 'WARN' }],
  [95, { meaning: 'uncontained memory error', action: 'reset the GPU', verdict: 'FAIL' }],
  [119, { meaning: 'GSP RPC timeout', action: 'reset the GPU', verdict: 'FAIL' }],
  [120, { meaning: 'GSP error', action: 'reset the GPU', verdict: 'FAIL' }],
]);

/** Xids DCGM rates FAIL: the GPU needs attention, whatever the application was doing. */
export const CRITICAL_XIDS: ReadonlySet<number> = new Set([...XID_CATALOG].filter(([, e]) => e.verdict === 'FAIL').map(([code]) => code));
