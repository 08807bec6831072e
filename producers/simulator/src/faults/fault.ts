import type { XidEvent } from '@gpumon/schemas/types.generated';
import type { GpuModel } from '../gpu-models.js';
import type { GpuState } from '../state.js';

export const FAULT_KINDS = [
  'thermal_cooling', 'ecc_storm', 'row_remap_failure', 'gsp_error', 'fall_off_bus', 'power_brake', 'pcie_degradation',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** When a planned fault begins: a time after the simulation's first reading, or an absolute time. */
export type FaultOnset = { afterStartMs: number } | { atMs: number };

/** A fault chosen for a GPU before the simulation starts, by a scenario or the random draw. */
export interface PlannedFault {
  kind: FaultKind;
  onset: FaultOnset;
  durationMs: number;
}

/** When a fault's first symptoms begin and when the GPU fails (Unix epoch, ms). */
export interface FaultTimeline {
  kind: FaultKind;
  onsetMs: number;
  failureMs: number;
}

/** What a fault knows about its board; `random` is the fault's own stream. */
export interface FaultContext {
  readonly model: GpuModel;
  readonly random: () => number;
  readonly timeline: FaultTimeline;
  /** The GPU's PCI id as the kernel prints it in Xid lines, e.g. 0000:18:00. */
  readonly pciId: string;
  readonly gpuIndex: number;
}

/** A fault in progress on one board. */
export interface ActiveFault {
  /**
   * Advances the fault over the readings interval (fromMs, toMs], after the healthy physics of
   * the tick: changes `state` and appends the kernel's Xid lines of that interval to `xids`.
   */
  advance(state: GpuState, fromMs: number, toMs: number, xids: XidEvent[]): void;
  /** Once failed, the driver cannot read the board's live readings (nvidia-smi prints ERR!): they are null. */
  readonly unreadableWhenFailed?: boolean;
  /** After failure the GPU has fallen off the bus: the host reports it lost. */
  readonly lostWhenFailed?: boolean;
}

export interface FaultKindSpec {
  /** Onset to failure when a scenario gives no duration; random faults vary it by ±50 %. */
  defaultDurationMs: number;
  start(context: FaultContext): ActiveFault;
}

/** Progress from onset (0) to failure (1) at `timeMs`. */
export function progressAt(timeline: FaultTimeline, timeMs: number): number {
  const span = timeline.failureMs - timeline.onsetMs;
  if (span <= 0) return timeMs >= timeline.failureMs ? 1 : 0;
  return Math.min(1, Math.max(0, (timeMs - timeline.onsetMs) / span));
}

/**
 * Discrete fault events at fixed times (a remap, a double-bit error, an Xid), fired once when a
 * reading interval (from, to] covers them, so they do not depend on the sampling interval.
 */
export class EventSchedule {
  private next = 0;
  private readonly events: Array<{ atMs: number; fire: (state: GpuState, xids: XidEvent[], atMs: number) => void }> = [];

  add(atMs: number, fire: (state: GpuState, xids: XidEvent[], atMs: number) => void): this {
    this.events.push({ atMs, fire });
    this.events.sort((a, b) => a.atMs - b.atMs);
    return this;
  }

  fire(state: GpuState, fromMs: number, toMs: number, xids: XidEvent[]): void {
    for (let e = this.events[this.next]; e !== undefined && e.atMs <= toMs; e = this.events[++this.next]) {
      if (e.atMs > fromMs) e.fire(state, xids, e.atMs);
    }
  }
}

/** The kernel line's process part: the job's process when one runs, as the driver prints it. */
export function processOf(state: GpuState): string {
  return state.jobPid > 0 ? `pid=${state.jobPid}, name=python3` : "pid='<unknown>', name=<unknown>";
}

/** A kernel Xid line for this GPU; `message` is what follows the code, as the driver prints it. */
export function xid(context: FaultContext, time: number, code: number, message: string): XidEvent {
  return { time, code, pci_id: context.pciId, message };
}

/** A framebuffer address as the driver prints it in remap and retirement lines. */
export function address(random: () => number): string {
  return `0x${Math.floor(random() * 0x100000000).toString(16).padStart(8, '0')}`;
}
