import type { GpuModel } from '../gpu-models.js';
import { exponential } from '../random.js';
import { FAULT_KINDS, type FaultKind, type PlannedFault } from './fault.js';
import { FAULT_SPECS } from './kinds.js';

/** Meta's Llama 3 training run: 16,384 H100 for 54 days. */
const META_GPU_YEARS = (16_384 * 54) / 365.25;
const YEAR_MS = 365.25 * 24 * 3_600_000;

/**
 * Faults per H100 per year, from the run's 419 interruptions by cause (DOMAIN.md): HBM3 72
 * (60 % storms of correctable errors, 40 % failing banks), SRAM 19 (storms), GSP 17, thermal
 * interface or sensor 6 (cooling), "faulty GPU" 148 (half falls off the bus, a quarter each
 * degraded PCIe links and power brakes). Silent data corruption (6) has no telemetry signature
 * and network (35) is not the GPU's. In all 10.8 % of GPUs a year, 3.0 % memory.
 */
export const ANNUAL_RATES: Readonly<Record<FaultKind, number>> = {
  thermal_cooling: 6 / META_GPU_YEARS,
  ecc_storm: (0.6 * 72 + 19) / META_GPU_YEARS,
  row_remap_failure: (0.4 * 72) / META_GPU_YEARS,
  gsp_error: 17 / META_GPU_YEARS,
  fall_off_bus: (0.5 * 148) / META_GPU_YEARS,
  power_brake: (0.25 * 148) / META_GPU_YEARS,
  pcie_degradation: (0.25 * 148) / META_GPU_YEARS,
};

const MEMORY_KINDS: ReadonlySet<FaultKind> = new Set(['ecc_storm', 'row_remap_failure']);

/** Faults of `kind` per GPU-year on a board of `model`, the defaults times `scale`. */
export function annualRate(kind: FaultKind, model: GpuModel, scale: number): number {
  return ANNUAL_RATES[kind] * scale * (MEMORY_KINDS.has(kind) ? model.memoryFaultScale : 1);
}

/**
 * A GPU's first fault: each kind's onset is an exponential draw at its annual rate, the earliest
 * wins (a failed GPU stays failed). Onset to failure is the kind's default duration ± 50 %.
 * Null when every rate is 0.
 */
export function drawRandomFault(random: () => number, model: GpuModel, scale: number): PlannedFault | null {
  let first: PlannedFault | null = null;
  let firstAfterStartMs = Infinity;
  for (const kind of FAULT_KINDS) {
    const rate = annualRate(kind, model, scale);
    if (rate <= 0) continue;
    const afterStartMs = Math.round(exponential(random, YEAR_MS / rate));
    const durationMs = Math.round(FAULT_SPECS[kind].defaultDurationMs * (0.5 + random()));
    if (afterStartMs < firstAfterStartMs) {
      first = { kind, onset: { afterStartMs }, durationMs };
      firstAfterStartMs = afterStartMs;
    }
  }
  return first;
}
